/**
 * `npm run demo`: the whole product on one machine, offline. Starts a local Anvil chain, fills it with
 * blocks of mixed transaction types (0, 1, 2, 4) and logs, syncs it over JSON-RPC into LMDB
 * (`demo-data/anvil`, kept for `evm-syncer get/status/verify` afterwards) with the progress bar, runs
 * `evm-syncer verify` on the store, compares the stored head with Anvil's, and prints a summary.
 *
 *   npm run demo [-- --blocks N]      (default 200 blocks)
 */
import { parseArgs } from 'node:util'
import { startAnvil } from '../../test/helpers/anvil.js'
import { generateChain } from '../../test/helpers/chain-gen.js'
import { Demo, plural, syncAndVerify } from './runner.js'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '200' } } })
const blocks = Number(values.blocks)
if (!Number.isInteger(blocks) || blocks < 1 || blocks > 10_000) {
  process.stderr.write('--blocks must be a whole number from 1 to 10000\n')
  process.exit(2)
}

const demo = new Demo('evm-syncer demo: Anvil -> JSON-RPC -> validator -> LMDB')

try {
  const { value: anvil } = await demo.step('starting Anvil (local dev chain on 127.0.0.1)', () => startAnvil())
  demo.onCleanup(() => anvil.stop())
  process.stdout.write(`    ${anvil.url} (pid ${anvil.pid})\n`)

  const generated = await demo.step(`mining ${plural(blocks + 1, 'block')} with transactions of types 0, 1, 2, 4 and logs`, () =>
    generateChain(anvil, {
      blocks,
      txsPerBlock: [5, 40],
      senders: 20,
      onBlock: (n) => process.stdout.isTTY && process.stdout.write(`\r    block ${n}/${blocks + 1}`),
    }),
  )
  if (process.stdout.isTTY) process.stdout.write('\n')
  const chain = generated.value
  const types = Object.entries(chain.byType).map(([type, n]) => `type ${type}: ${n}`).join(', ')
  demo.row('chain', `Anvil dev chain 31337, blocks 0-${chain.head}, ${plural(chain.txs, 'transaction')} (${types}), mined in ${generated.seconds.toFixed(1)} s`)

  const head = await anvil.rpc<{ number: string; hash: string }>('eth_getBlockByNumber', ['latest', false])
  await syncAndVerify(demo, { sourceArgs: ['--rpc', anvil.url], via: 'JSON-RPC', storeDir: 'demo-data/anvil', head: { number: Number(head.number), hash: head.hash } })
  await demo.finish()
} catch (err) {
  await demo.abort(err)
}

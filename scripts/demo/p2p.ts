/**
 * `npm run demo:p2p`: the same as `npm run demo`, over devp2p. Generates a small proof-of-stake chain
 * (Prague; transaction types 0, 1, 2, 4, logs, withdrawals; executed by @ethereumjs/vm), has a local
 * EthereumJS client import it and serve it on 127.0.0.1 (discovery off), syncs it over eth/68 into
 * LMDB (`demo-data/p2p`) with the progress bar, runs `evm-syncer verify`, compares the stored head
 * with the peer's, and prints a summary.
 *
 * The chain and the client's imported data dir are cached in `demo-data/p2p-chain/` (the first run
 * generates and imports, about a minute; later runs start the peer in seconds).
 *
 *   npm run demo:p2p [-- --blocks N]      (default 150 blocks)
 */
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { hexToBytes } from '../../src/primitives/bytes.js'
import { REPO_ROOT } from '../../test/fixtures.js'
import { startEthjsClient } from '../../test/helpers/ethjs-client.js'
import { cachedP2pChain } from './p2p-chain.js'
import { Demo, plural, syncAndVerify } from './runner.js'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '150' } } })
const blocks = Number(values.blocks)
if (!Number.isInteger(blocks) || blocks < 1 || blocks > 2_000) {
  process.stderr.write('--blocks must be a whole number from 1 to 2000\n')
  process.exit(2)
}

const CACHE_DIR = join(REPO_ROOT, 'demo-data', 'p2p-chain')
const demo = new Demo('evm-syncer demo: EthereumJS peer -> devp2p (eth/68) -> validator -> LMDB')

try {
  const { value: cached, seconds } = await demo.step(`generating a ${blocks}-block proof-of-stake chain with @ethereumjs/vm (cached after the first run)`, () =>
    cachedP2pChain(CACHE_DIR, {
      blocks,
      txsPerBlock: [2, 16],
      onBlock: (n) => process.stdout.isTTY && process.stdout.write(`\r    block ${n}/${blocks}`),
    }),
  )
  if (process.stdout.isTTY && cached.generated) process.stdout.write('\n')
  const chain = cached.chain
  const types = Object.entries(chain.byType).map(([type, n]) => `type ${type}: ${n}`).join(', ')
  const origin = cached.generated ? `generated in ${seconds.toFixed(1)} s` : 'cached'
  demo.row('chain', `chain id ${chain.chainId}, blocks 0-${chain.head.number}, ${plural(chain.txs, 'transaction')} (${types}), ${plural(chain.logs, 'log')}, ${plural(chain.withdrawals, 'withdrawal')}; ${origin}`)
  const genesisPath = relative(REPO_ROOT, chain.genesisPath)
  demo.row('files', `${genesisPath}, ${relative(REPO_ROOT, chain.chainRlpPath)}`)

  const { value: peer } = await demo.step('starting the EthereumJS client as the peer (the first run imports and executes the chain)', () =>
    startEthjsClient({ ...chain, genesisHash: hexToBytes(chain.genesisHash), head: { number: chain.head.number, hash: hexToBytes(chain.head.hash) } }, CACHE_DIR),
  )
  demo.onCleanup(() => peer.stop())
  process.stdout.write(`    ${peer.enode} (pid ${peer.pid})\n`)

  await syncAndVerify(demo, { sourceArgs: ['--chain', genesisPath, '--peer', peer.enode], via: 'devp2p', storeDir: 'demo-data/p2p', head: chain.head })
  await demo.finish()
} catch (err) {
  await demo.abort(err)
}

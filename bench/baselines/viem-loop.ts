/**
 * Baseline: what a developer writes with viem — getBlock({ includeTransactions: true }) plus
 * getBlockReceipts per block, `--concurrency` blocks in flight, results kept only long enough to count.
 *
 *   tsx bench/baselines/viem-loop.ts --rpc URL --to N [--concurrency 10]
 */
import { createPublicClient, http } from 'viem'
import { clientArgs, forEachBlock, report } from '../lib/client-args.js'

const args = clientArgs({ concurrency: 1 })
const concurrency = args.concurrency
const client = createPublicClient({ transport: http(args.rpc, { retryCount: 0, timeout: 60_000 }) })

let txs = 0
const started = performance.now()
await forEachBlock(args.from, args.to, concurrency, async (n) => {
  const blockNumber = BigInt(n)
  const [block, receipts] = await Promise.all([client.getBlock({ blockNumber, includeTransactions: true }), client.getBlockReceipts({ blockNumber })])
  if (receipts.length !== block.transactions.length) throw new Error(`block ${n}: ${receipts.length} receipts for ${block.transactions.length} txs`)
  txs += block.transactions.length
})
report({ client: `viem c=${concurrency}`, blocks: args.to - args.from + 1, txs, seconds: (performance.now() - started) / 1000, settings: { concurrency } })

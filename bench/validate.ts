/**
 * Body + receipt validation throughput on one core, against @ethereumjs/block in the same run.
 *
 *   npm run bench:validate [-- --seconds 3 --blocks 16]
 *
 * Each iteration starts from the raw bytes a peer would deliver (header, body, receipts), so no
 * decoded state carries over between iterations. The targets are per core (main thread); the worker
 * pool's throughput on all cores is reported alongside. Prints one JSON line (stdout) and a table
 * (stderr).
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { createBlockFromRLP } from '@ethereumjs/block'
import { Common, Mainnet } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Bloom } from '@ethereumjs/vm'
import { assertFastCrypto } from '../src/primitives/crypto-check.js'
import { BlockBody } from '../src/primitives/body.js'
import { equalBytes } from '../src/primitives/bytes.js'
import { BlockHeader } from '../src/primitives/header.js'
import { validateBody } from '../src/validator/body.js'
import { BODY_AND_RECEIPTS_VALIDATOR, BlockValidationPool, type ForkContext, type RawBlock } from '../src/validator/pool-blocks.js'
import { validateRawReceipts } from '../src/validator/receipts.js'
import { recoverSenders } from '../src/validator/senders.js'
import { BENCH_RULES, mainnetLikeBlock, type RawBenchBlock } from './mainnet-like.js'

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, blocks: { type: 'string', default: '16' } },
})
const SECONDS = Number(args.seconds)
const BLOCK_COUNT = Number(args.blocks)

type Receipts = 'eth68' | 'eth69'

/** Our path: decode views over the received bytes, run every body and receipt rule. */
function ours(b: RawBenchBlock, receipts: Receipts, recover: boolean): void {
  const header = BlockHeader.decode(b.header)
  const body = BlockBody.decode(b.body)
  const errors = validateBody(header, body, BENCH_RULES, { recoverSenders: recover })
  const txTypes = body.transactions().map((t) => t.type)
  errors.push(...validateRawReceipts(header, receipts === 'eth68' ? b.receiptsEth68 : b.receiptsEth69, txTypes.length, { rules: BENCH_RULES, txTypes }))
  if (errors.length > 0) throw new Error(`bench block invalid: ${errors[0].message}`)
  if (recover && recoverSenders(body).length !== b.txCount) throw new Error('senders missing')
}

const common = new Common({ chain: Mainnet, hardfork: 'prague' })

/**
 * Reference path: @ethereumjs/block decodes the block into objects and checks the tx trie, ommers
 * hash and withdrawals trie; receipts are decoded with @ethereumjs/rlp, blooms built with the VM's
 * Bloom, the receipt trie with @ethereumjs/mpt. With recovery it also runs ethereumjs's tx
 * validation (which verifies each signature) and reads every sender address.
 */
async function reference(b: RawBenchBlock, recover: boolean): Promise<void> {
  const block = createBlockFromRLP(b.block, { common })
  const ok = (await block.transactionsTrieIsValid()) && block.uncleHashIsValid() && (await block.withdrawalsTrieIsValid())
  const items = RLP.decode(b.receiptsEth68) as Array<Uint8Array | Uint8Array[]>
  const trie = new MerklePatriciaTrie()
  const blockBloom = new Bloom()
  let cumulative = 0n
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    const value = item instanceof Uint8Array ? item : RLP.encode(item)
    const fields = RLP.decode(item instanceof Uint8Array ? value.subarray(1) : value) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array[][]]
    const bloom = new Bloom()
    for (const log of fields[3]) {
      bloom.add(log[0] as Uint8Array)
      for (const topic of log[1] as unknown as Uint8Array[]) bloom.add(topic)
    }
    if (!equalBytes(bloom.bitvector, fields[2])) throw new Error('reference: receipt bloom mismatch')
    blockBloom.or(bloom)
    cumulative = BigInt('0x' + (Buffer.from(fields[1]).toString('hex') || '0'))
    await trie.put(RLP.encode(i), value)
  }
  const receiptsOk =
    equalBytes(trie.root(), block.header.receiptTrie) && equalBytes(blockBloom.bitvector, block.header.logsBloom) && cumulative === block.header.gasUsed
  if (!ok || !receiptsOk) throw new Error('reference: bench block invalid')
  if (recover) {
    if (block.getTransactionsValidationErrors().length > 0) throw new Error('reference: invalid transactions')
    for (const tx of block.transactions) tx.getSenderAddress()
  }
}

async function measure(name: string, blocks: RawBenchBlock[], run: (b: RawBenchBlock) => void | Promise<void>): Promise<number> {
  const warmupEnd = performance.now() + 500
  for (let i = 0; performance.now() < warmupEnd; i++) await run(blocks[i % blocks.length])
  let done = 0
  const start = performance.now()
  const end = start + SECONDS * 1000
  while (performance.now() < end) {
    await run(blocks[done % blocks.length])
    done++
  }
  const rate = done / ((performance.now() - start) / 1000)
  process.stderr.write(`  ${name}: ${rate.toFixed(1)} blocks/s\n`)
  return rate
}

/** Blocks/s through a BlockValidationPool of `workers` threads, batches of 16, two batches per worker in flight. */
async function measurePool(blocks: RawBenchBlock[], recover: boolean, workers: number): Promise<number> {
  const pool = new BlockValidationPool(BODY_AND_RECEIPTS_VALIDATOR, { size: workers })
  const raw: RawBlock<ForkContext>[] = blocks.map((b) => ({ header: b.header, body: b.body, receipts: b.receiptsEth68, context: { chainId: 1n, fork: 'prague' } }))
  const batch = Array.from({ length: 16 }, (_, i) => raw[i % raw.length])
  let done = 0
  const worker = async (until: number) => {
    while (performance.now() < until) {
      const results = await pool.validate(batch, { recoverSenders: recover })
      if (results.some((r) => r.errors.length > 0)) throw new Error('bench block invalid in the pool')
      done += batch.length
    }
  }
  try {
    await Promise.all(Array.from({ length: workers * 2 }, () => worker(performance.now() + 500))) // warm-up
    done = 0
    const start = performance.now()
    await Promise.all(Array.from({ length: workers * 2 }, () => worker(start + SECONDS * 1000)))
    const rate = done / ((performance.now() - start) / 1000)
    process.stderr.write(`  pool of ${workers} workers, ${recover ? 'with' : 'no'} sender recovery: ${rate.toFixed(1)} blocks/s\n`)
    return rate
  } finally {
    await pool.close()
  }
}

async function main(): Promise<void> {
  const backends = assertFastCrypto()
  process.stderr.write(`generating ${BLOCK_COUNT} mainnet-like blocks...\n`)
  const blocks = Array.from({ length: BLOCK_COUNT }, (_, i) => mainnetLikeBlock(i + 1))
  const avg = (f: (b: RawBenchBlock) => number) => Math.round(blocks.reduce((s, b) => s + f(b), 0) / blocks.length)
  const shape = { txs: avg((b) => b.txCount), bodyBytes: avg((b) => b.body.length), logs: avg((b) => b.logCount) }
  process.stderr.write(`block shape: ${JSON.stringify(shape)}; measuring ${SECONDS}s per case on one core\n`)

  const rates = {
    oursNoRecovery: await measure('ours, no sender recovery (eth/68 receipts)', blocks, (b) => ours(b, 'eth68', false)),
    oursNoRecoveryEth69: await measure('ours, no sender recovery (eth/69 receipts)', blocks, (b) => ours(b, 'eth69', false)),
    oursWithRecovery: await measure('ours, with sender recovery', blocks, (b) => ours(b, 'eth68', true)),
    ethereumjsNoRecovery: await measure('@ethereumjs, no sender recovery', blocks, (b) => reference(b, false)),
    ethereumjsWithRecovery: await measure('@ethereumjs, with sender recovery', blocks, (b) => reference(b, true)),
  }
  const workers = availableParallelism()
  const poolRates = {
    noRecovery: await measurePool(blocks, false, workers),
    withRecovery: await measurePool(blocks, true, workers),
  }
  const targets = { noRecovery: 150, withRecovery: 40 }
  const result = {
    bench: 'validate',
    node: process.version,
    crypto: backends,
    shape,
    seconds: SECONDS,
    blocksPerSecond: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Number(v.toFixed(1))])),
    speedup: {
      noRecovery: Number((rates.oursNoRecovery / rates.ethereumjsNoRecovery).toFixed(1)),
      withRecovery: Number((rates.oursWithRecovery / rates.ethereumjsWithRecovery).toFixed(1)),
    },
    pool: { workers, blocksPerSecond: { noRecovery: Number(poolRates.noRecovery.toFixed(1)), withRecovery: Number(poolRates.withRecovery.toFixed(1)) } },
    targets,
    meetsTargets: rates.oursNoRecovery >= targets.noRecovery && rates.oursWithRecovery >= targets.withRecovery,
  }
  process.stdout.write(JSON.stringify(result) + '\n')

  const row = (label: string, ourRate: number, refRate: number, target: number) =>
    `| ${label.padEnd(22)} | ${ourRate.toFixed(1).padStart(9)} | ${refRate.toFixed(1).padStart(11)} | ${(ourRate / refRate).toFixed(1).padStart(5)}x | ${String(target).padStart(6)} |`
  process.stderr.write(
    [
      '',
      '| case (blocks/s)        |      ours | @ethereumjs | ratio | target |',
      '|------------------------|-----------|-------------|-------|--------|',
      row('no sender recovery', rates.oursNoRecovery, rates.ethereumjsNoRecovery, targets.noRecovery),
      row('with sender recovery', rates.oursWithRecovery, rates.ethereumjsWithRecovery, targets.withRecovery),
      `(eth/69 receipts, blooms derived: ${rates.oursNoRecoveryEth69.toFixed(1)} blocks/s)`,
      `(worker pool, ${workers} threads on a machine shared with other work: ${poolRates.noRecovery.toFixed(1)} / ${poolRates.withRecovery.toFixed(1)} blocks/s without / with recovery)`,
      '',
    ].join('\n'),
  )
}

await main()

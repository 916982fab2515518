/**
 * Stage figure: the validation worker's own work on the benchmark chain's blocks exactly as a
 * devp2p sync hands them over (header, body, receipts in the eth/69 or eth/68 form the replay peer
 * serves), on one core. Two cases:
 *  - `inline`: `validateBodyAndReceipts` per block on this thread (the worker's CPU per block);
 *  - `pool`: a BlockValidationPool of `--workers` threads, batches of `--batch`, two batches per
 *    worker in flight (adds packing, the thread hop and result unpacking).
 * It is the ceiling of a devp2p sync with that many validation workers. Both are measured after a
 * one-second warm-up; a third case, `cold` (not in the default set), is one pass over the blocks by
 * a pool of fresh workers (their code not yet compiled by V8) fed as fast as they validate: the
 * ceiling of a sync of just these blocks, which starts cold.
 *
 *   npx tsx bench/stages/validate-chain.ts [--blocks 300 --rounds 5 --seconds 1 --eth 69  --workers 1 --batch 16 --cases inline,pool,cold]
 *   node --cpu-prof --import tsx bench/stages/validate-chain.ts --cases inline   # profile it
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadChain } from '../../src/chain/chains.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { decodeBlockReceipts, encodeReceiptsEth68, encodeReceiptsEth69 } from '../../src/primitives/receipt.js'
import { rebuildBlock, type JsonObject } from '../../src/sources/rpc/rebuild.js'
import { BlockValidationPool, type ForkContext, type RawBlock, validateBodyAndReceipts } from '../../src/validator/pool-blocks.js'
import { CHAIN_OPTIONS, chainParams } from '../chain/args.js'
import { ensureBenchChain, loadBenchChain } from '../chain/cache.js'
import { benchGenesis } from '../chain/genesis.js'
import { log } from '../lib/replay.js'

const { values } = parseArgs({
  options: {
    ...CHAIN_OPTIONS,
    blocks: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    eth: { type: 'string', default: '69' },
    workers: { type: 'string', default: '1' },
    batch: { type: 'string', default: '16' },
    cases: { type: 'string', default: 'inline,pool' },
    out: { type: 'string' },
  },
})
const count = Number(values.blocks)
const seconds = Number(values.seconds)
const roundCount = Number(values.rounds)
const workers = Number(values.workers)
const batchSize = Number(values.batch)
const cases = values.cases.split(',')

async function loadBlocks(): Promise<{ blocks: RawBlock<ForkContext>[]; txs: number }> {
  const params = chainParams(values)
  const { dir } = await ensureBenchChain(params, log)
  const json = loadBenchChain(dir, count)
  const tmp = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-val-'))
  try {
    const genesisFile = join(tmp, 'genesis.json')
    writeFileSync(genesisFile, JSON.stringify(benchGenesis(json.chainId, JSON.parse(json.headers[0].toString()))))
    const chain = loadChain(genesisFile)
    const blocks: RawBlock<ForkContext>[] = []
    let txs = 0
    for (let n = 1; n < json.blocks.length; n++) {
      const raw = rebuildBlock(JSON.parse(json.blocks[n].toString()) as JsonObject, { receipts: JSON.parse(json.receipts[n].toString()) as unknown[] })
      const decoded = decodeBlockReceipts(raw.receipts!)
      const receipts = values.eth === '68' ? encodeReceiptsEth68(decoded) : encodeReceiptsEth69(decoded)
      const header = BlockHeader.decode(raw.header)
      const rules = chain.rulesAt(header.number, header.timestamp)
      blocks.push({ header: raw.header, body: raw.body, receipts, context: { chainId: rules.chainId, fork: rules.fork, blob: rules.blob } })
      txs += decoded.length
    }
    return { blocks, txs }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

interface Measured {
  /** Best round (the machine is shared: the best round is the least disturbed one). */
  blocksPerSec: number
  medianBlocksPerSec: number
  /** CPU time of the whole process (all threads) per block, in the best round. */
  cpuMsPerBlock: number
}

/** Runs `step` (which validates `perStep` blocks) for `--rounds` rounds of `--seconds` after a warm-up. */
async function measure(name: string, perStep: number, step: (i: number) => Promise<void> | void): Promise<Measured> {
  const warmEnd = performance.now() + 1000
  let i = 0
  while (performance.now() < warmEnd) await step(i++)
  const rounds: Array<{ rate: number; cpuMs: number }> = []
  for (let r = 0; r < roundCount; r++) {
    let done = 0
    const cpu = process.cpuUsage()
    const start = performance.now()
    while (performance.now() < start + seconds * 1000) {
      await step(i++)
      done += perStep
    }
    const used = process.cpuUsage(cpu)
    rounds.push({ rate: done / ((performance.now() - start) / 1000), cpuMs: (used.user + used.system) / 1000 / done })
  }
  const sorted = [...rounds].sort((a, b) => b.rate - a.rate)
  const result = {
    blocksPerSec: Math.round(10 * sorted[0].rate) / 10,
    medianBlocksPerSec: Math.round(10 * sorted[sorted.length >> 1].rate) / 10,
    cpuMsPerBlock: Math.round(100 * sorted[0].cpuMs) / 100,
  }
  log(`${name}: best ${result.blocksPerSec} blocks/s (median ${result.medianBlocksPerSec}), ${result.cpuMsPerBlock} CPU ms/block`)
  return result
}

const { blocks, txs } = await loadBlocks()
log(`${blocks.length} blocks (${(txs / blocks.length).toFixed(1)} txs each), eth/${values.eth} receipts`)
const opts = { recoverSenders: false }
/** The blocks cut into `--batch`-sized batches, in order (the last one may be shorter). */
const inBatches = (all: RawBlock<ForkContext>[]) => Array.from({ length: Math.ceil(all.length / batchSize) }, (_, i) => all.slice(i * batchSize, (i + 1) * batchSize))
const results: Record<string, Measured> = {}
if (cases.includes('inline')) {
  results.inline = await measure('inline (one thread)', 1, (i) => {
    const check = validateBodyAndReceipts(blocks[i % blocks.length], opts)
    if (check.errors.length > 0) throw new Error(`block invalid: ${check.errors[0].message}`)
  })
}
if (cases.includes('pool')) {
  const pool = new BlockValidationPool<ForkContext>(undefined, { size: workers })
  try {
    const batches = inBatches(blocks).filter((b) => b.length === batchSize)
    let next = 0
    const lanes = workers * 2
    results.pool = await measure(`pool of ${workers} worker(s), batches of ${batchSize}, ${lanes} in flight`, batchSize * lanes, async () => {
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          const checks = await pool.validate(batches[next++ % batches.length], opts)
          if (checks.some((c) => c.errors.length > 0)) throw new Error('block invalid in the pool')
        }),
      )
    })
  } finally {
    await pool.close()
  }
}
if (cases.includes('cold')) {
  const pool = new BlockValidationPool<ForkContext>(undefined, { size: workers })
  try {
    await pool.pool.ready() // start-up (thread, module loading) is not validation
    const batches = inBatches(blocks)
    let next = 0
    const cpu = process.cpuUsage()
    const start = performance.now()
    // As a sync does: up to four batches per worker handed over ahead (the pool's default).
    await Promise.all(
      Array.from({ length: workers * 4 }, async () => {
        while (next < batches.length) {
          const checks = await pool.validate(batches[next++], opts)
          if (checks.some((c) => c.errors.length > 0)) throw new Error('block invalid in the pool')
        }
      }),
    )
    const used = process.cpuUsage(cpu)
    const rate = Math.round((10 * blocks.length) / ((performance.now() - start) / 1000)) / 10
    results.cold = { blocksPerSec: rate, medianBlocksPerSec: rate, cpuMsPerBlock: Math.round((100 * (used.user + used.system)) / 1000 / blocks.length) / 100 }
    log(`cold, one pass by ${workers} fresh worker(s), batches of ${batchSize}: ${rate} blocks/s, ${results.cold.cpuMsPerBlock} CPU ms/block`)
  } finally {
    await pool.close()
  }
}
const output = { bench: 'validate-chain', at: new Date().toISOString(), blocks: blocks.length, txsPerBlock: txs / blocks.length, eth: Number(values.eth), workers, batch: batchSize, results }
process.stdout.write(JSON.stringify(output) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

/**
 * Benchmark chains, generated once on Anvil and cached on disk outside the repository:
 *
 *   ~/.cache/evm-syncer-bench/<params-hash>/
 *     meta.json             chain id, parameters, counts, block hashes (written last: marks a complete cache)
 *     blocks.jsonl.gz       one line per block: eth_getBlockByNumber(n, true) result
 *     headers.jsonl.gz      one line per block: eth_getBlockByNumber(n, false) result
 *     receipts.jsonl.gz     one line per block: eth_getBlockReceipts(n) result
 *
 * Anvil mines ~15-20 mixed blocks/s and serves ~28 blocks/s, so a chain of thousands of blocks takes
 * minutes to make; benchmarks then serve it from memory (replay/rpc-server.ts). Every exported block
 * is rebuilt to RLP and its header hash checked against Anvil's before the cache is written, so a
 * replayed chain is one the syncer must accept.
 */
import { createHash } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { createGzip, gunzipSync } from 'node:zlib'
import { rulesAt } from '../../src/chain/forks.js'
import { BlockBody } from '../../src/primitives/body.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { rebuildBlock, type JsonObject } from '../../src/sources/rpc/rebuild.js'
import { validateBody } from '../../src/validator/body.js'
import { validateRawReceipts } from '../../src/validator/receipts.js'
import { jsonRpcClient, startAnvil, type JsonRpcRequest } from '../../test/helpers/anvil.js'
import { generateChain, type ChainGenSummary } from '../../test/helpers/chain-gen.js'
import type { ReplayChain } from '../replay/rpc-server.js'

export interface BenchChainParams {
  /** Head block number: blocks 0..head (block 1 deploys the logger contract, 2..head carry txs). */
  head: number
  txsPerBlock: readonly [min: number, max: number]
  seed: number
}

export const DEFAULT_CHAIN_PARAMS: BenchChainParams = { head: 3000, txsPerBlock: [100, 200], seed: 1 }

/** Bumped when the generator or the file layout changes, so stale caches are not reused. */
const CACHE_FORMAT = 1

export interface BenchChainMeta {
  format: number
  params: BenchChainParams
  chainId: number
  blocks: number
  txs: number
  jsonBytes: { blocks: number; receipts: number }
  generatedAt: string
  generationSeconds: number
  summary: Omit<ChainGenSummary, 'head'>
  hashes: string[]
}

export function cacheRoot(): string {
  return process.env.EVM_SYNCER_BENCH_CACHE ?? join(homedir(), '.cache', 'evm-syncer-bench')
}

export function chainCacheDir(params: BenchChainParams): string {
  const key = JSON.stringify({ format: CACHE_FORMAT, head: params.head, txs: params.txsPerBlock, seed: params.seed })
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12)
  return join(cacheRoot(), `${params.head}x${params.txsPerBlock[0]}-${params.txsPerBlock[1]}-s${params.seed}-${hash}`)
}

const FILES = { blocks: 'blocks.jsonl.gz', headers: 'headers.jsonl.gz', receipts: 'receipts.jsonl.gz', meta: 'meta.json' } as const

export type Progress = (message: string) => void

/** The cached chain for `params`, generating it first when it is not on disk. */
export async function ensureBenchChain(params: BenchChainParams, progress: Progress = () => {}): Promise<{ dir: string; meta: BenchChainMeta; generated: boolean }> {
  const dir = chainCacheDir(params)
  if (existsSync(join(dir, FILES.meta))) return { dir, meta: readMeta(dir), generated: false }
  const meta = await generateBenchChain(params, dir, progress)
  return { dir, meta, generated: true }
}

export function readMeta(dir: string): BenchChainMeta {
  return JSON.parse(readFileSync(join(dir, FILES.meta), 'utf8')) as BenchChainMeta
}

/** Lines of a gzip'd JSONL file as zero-copy slices of one buffer (no per-line strings). */
function readLines(file: string): Buffer[] {
  const all = gunzipSync(readFileSync(file))
  const lines: Buffer[] = []
  let start = 0
  while (start < all.length) {
    let end = all.indexOf(10, start)
    if (end < 0) end = all.length
    lines.push(all.subarray(start, end))
    start = end + 1
  }
  return lines
}

/** Loads a cached chain into memory for the replay server, optionally only blocks 0..`head`. */
export function loadBenchChain(dir: string, head?: number): ReplayChain & { meta: BenchChainMeta } {
  const meta = readMeta(dir)
  const count = head === undefined ? meta.blocks : Math.min(meta.blocks, head + 1)
  const blocks = readLines(join(dir, FILES.blocks)).slice(0, count)
  const headers = readLines(join(dir, FILES.headers)).slice(0, count)
  const receipts = readLines(join(dir, FILES.receipts)).slice(0, count)
  if (blocks.length !== count || headers.length !== count || receipts.length !== count) {
    throw new Error(`bench chain cache ${dir} is incomplete (${blocks.length}/${headers.length}/${receipts.length} of ${count} lines): delete it and generate again`)
  }
  return { meta, chainId: meta.chainId, blocks, headers, receipts, hashes: meta.hashes.slice(0, count) }
}

async function writeJsonl(file: string, lines: readonly string[]): Promise<void> {
  async function* source() {
    for (const line of lines) yield line + '\n'
  }
  await pipeline(Readable.from(source()), createGzip({ level: 6 }), createWriteStream(file))
}

const hex = (n: number) => `0x${n.toString(16)}`

async function generateBenchChain(params: BenchChainParams, dir: string, progress: Progress): Promise<BenchChainMeta> {
  if (params.head < 2) throw new Error('a bench chain needs at least 2 blocks after genesis')
  const started = performance.now()
  const anvil = await startAnvil()
  try {
    let lastReport = 0
    const summary = await generateChain(anvil, {
      blocks: params.head - 1,
      txsPerBlock: params.txsPerBlock,
      seed: params.seed,
      onBlock: (number, txs) => {
        const now = performance.now()
        if (now - lastReport < 5000 && number !== params.head) return
        lastReport = now
        const rate = (number / ((now - started) / 1000)).toFixed(1)
        progress(`mined block ${number}/${params.head} (${txs} txs, ${rate} blocks/s)`)
      },
    })
    if (summary.head !== params.head) throw new Error(`generated head ${summary.head}, expected ${params.head}`)

    const exported = await exportChain(anvil.url, params.head, progress)

    const tmp = `${dir}.tmp-${process.pid}`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(tmp, { recursive: true })
    await writeJsonl(join(tmp, FILES.blocks), exported.blocks)
    await writeJsonl(join(tmp, FILES.headers), exported.headers)
    await writeJsonl(join(tmp, FILES.receipts), exported.receipts)
    const { head: _head, ...rest } = summary
    const meta: BenchChainMeta = {
      format: CACHE_FORMAT,
      params,
      chainId: exported.chainId,
      blocks: params.head + 1,
      txs: exported.txs,
      jsonBytes: { blocks: sum(exported.blocks), receipts: sum(exported.receipts) },
      generatedAt: new Date().toISOString(),
      generationSeconds: Math.round((performance.now() - started) / 1000),
      summary: rest,
      hashes: exported.hashes,
    }
    writeFileSync(join(tmp, FILES.meta), JSON.stringify(meta))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    progress(`cached ${meta.blocks} blocks, ${meta.txs} txs in ${dir} (${meta.generationSeconds} s)`)
    return meta
  } finally {
    await anvil.stop()
  }
}

const sum = (lines: readonly string[]) => lines.reduce((a, l) => a + l.length, 0)

/**
 * Reads blocks 0..head back from Anvil (full, header-only and receipts) and checks each one: the
 * header rebuilt from JSON must hash to the reported hash, and the rebuilt body and receipts must
 * pass the validator's body and receipt rules (roots, blooms, gas, signatures) under Prague.
 */
async function exportChain(url: string, head: number, progress: Progress) {
  const client = jsonRpcClient(url)
  const chainId = BigInt(await client.rpc<string>('eth_chainId'))
  const blocks: string[] = []
  const headers: string[] = []
  const receipts: string[] = []
  const hashes: string[] = []
  let txs = 0
  const perBatch = 8
  let lastReport = performance.now()
  for (let from = 0; from <= head; from += perBatch) {
    const calls: JsonRpcRequest[] = []
    const to = Math.min(head, from + perBatch - 1)
    for (let n = from; n <= to; n++) {
      calls.push({ method: 'eth_getBlockByNumber', params: [hex(n), true] })
      calls.push({ method: 'eth_getBlockByNumber', params: [hex(n), false] })
      calls.push({ method: 'eth_getBlockReceipts', params: [hex(n)] })
    }
    const results = await client.batch<unknown>(calls)
    for (let i = 0; i < results.length; i += 3) {
      const block = results[i] as JsonObject
      const blockReceipts = results[i + 2] as unknown[]
      const n = from + i / 3
      checkBlock(block, blockReceipts, chainId)
      if (Number(block.number) !== n) throw new Error(`asked block ${n}, got ${String(block.number)}`)
      if ((results[i + 1] as JsonObject).hash !== block.hash) throw new Error(`block ${n}: header-only form has another hash`)
      txs += (block.transactions as unknown[]).length
      blocks.push(JSON.stringify(block))
      headers.push(JSON.stringify(results[i + 1]))
      receipts.push(JSON.stringify(blockReceipts))
      hashes.push(block.hash as string)
    }
    if (performance.now() - lastReport > 5000 || to === head) {
      lastReport = performance.now()
      progress(`exported and verified blocks 0..${to} of ${head}`)
    }
  }
  return { blocks, headers, receipts, hashes, txs, chainId: Number(chainId) }
}

function checkBlock(block: JsonObject, blockReceipts: unknown[], chainId: bigint): void {
  const raw = rebuildBlock(block, { receipts: blockReceipts, verifyTxHashes: true })
  const header = BlockHeader.decode(raw.header)
  const body = BlockBody.decode(raw.body)
  const rules = rulesAt(chainId, 'prague')
  const errors = validateBody(header, body, rules, { recoverSenders: true })
  errors.push(...validateRawReceipts(header, raw.receipts!, body.transactions().length, { rules }))
  if (errors.length > 0) throw new Error(`block ${String(block.number)} does not validate: ${errors.map((e) => e.message).join('; ')}`)
}

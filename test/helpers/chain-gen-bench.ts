/**
 * Benchmark chains on Anvil and the JSON-RPC source's cost on them.
 *
 *   npx tsx test/helpers/chain-gen-bench.ts [--blocks 200] [--txs 100-200] [--cache FILE] [--batch 20] [--concurrency 4]
 *
 * Generates (or loads from the `--dump-state` cache) a chain of blocks with 100-200 mixed
 * transactions, then measures on one core: (1) fetching every block with receipts through `RpcPool`
 * (blocks/s, JSON-RPC calls/s), (2) the same batches fetched and JSON-parsed only (the floor any
 * client pays), and (3) the JSON -> RLP rebuild alone versus JSON.parse of the same bytes.
 * Prints one JSON object on stdout. Anvil is a correctness peer: its serving speed caps (1) and (2).
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { RpcPool } from '../../src/sources/rpc/pool.js'
import { rebuildBlock, type JsonObject } from '../../src/sources/rpc/rebuild.js'
import { cachedChain, type ChainGenOptions } from './chain-gen.js'

export interface BenchChainOptions {
  blocks: number
  txsPerBlock: readonly [number, number]
  cacheFile?: string
  seed?: number
}

/** A benchmark chain (cached on disk by its shape), served by a fresh Anvil. */
export function benchmarkChain(opts: BenchChainOptions) {
  const [min, max] = opts.txsPerBlock
  const cacheFile = opts.cacheFile ?? join(tmpdir(), `evm-syncer-bench-chain-${opts.blocks}x${min}-${max}-s${opts.seed ?? 1}.json`)
  const gen: ChainGenOptions = { blocks: opts.blocks, txsPerBlock: opts.txsPerBlock, seed: opts.seed ?? 1 }
  return cachedChain(cacheFile, gen)
}

async function fetchJsonOnly(url: string, head: number, perRequest: number, concurrency: number): Promise<{ bytes: number; texts: string[] }> {
  const texts: string[] = []
  let bytes = 0
  let next = 0
  const worker = async () => {
    while (next <= head) {
      const from = next
      next += perRequest
      const calls = []
      for (let n = from; n < Math.min(from + perRequest, head + 1); n++) {
        calls.push({ jsonrpc: '2.0', id: calls.length, method: 'eth_getBlockByNumber', params: ['0x' + n.toString(16), true] })
        calls.push({ jsonrpc: '2.0', id: calls.length, method: 'eth_getBlockReceipts', params: ['0x' + n.toString(16)] })
      }
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(calls) })
      const text = Buffer.from(await res.arrayBuffer()).toString('utf8')
      JSON.parse(text)
      bytes += text.length
      texts.push(text)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { bytes, texts }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      blocks: { type: 'string', default: '200' },
      txs: { type: 'string', default: '100-200' },
      cache: { type: 'string' },
      batch: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '4' },
    },
  })
  const [min, max] = values.txs.split('-').map(Number)
  const started = performance.now()
  const { anvil, generated } = await benchmarkChain({ blocks: Number(values.blocks), txsPerBlock: [min, max ?? min], cacheFile: values.cache })
  const setupSeconds = (performance.now() - started) / 1000
  try {
    const head = Number(await anvil.rpc<string>('eth_blockNumber'))
    const batchSize = Number(values.batch)
    const concurrency = Number(values.concurrency)
    const pool = new RpcPool({ urls: [anvil.url], batchSize, maxConcurrency: concurrency })
    await pool.start()

    // (1) the source: fetch + parse + rebuild + header hash checks, windows of 64 blocks as a downloader would ask.
    let t = performance.now()
    for (let from = 0; from <= head; from += 64) {
      const got = await pool.getBlocks(from, Math.min(64, head + 1 - from), true)
      if (got.length !== Math.min(64, head + 1 - from)) throw new Error(`short answer at ${from}`)
    }
    const sourceSeconds = (performance.now() - t) / 1000
    await pool.stop()

    // (2) the floor: the same JSON-RPC batches, fetched and parsed only.
    const perRequest = Math.max(1, Math.floor(batchSize / 2))
    t = performance.now()
    const { bytes, texts } = await fetchJsonOnly(anvil.url, head, perRequest, concurrency)
    const jsonOnlySeconds = (performance.now() - t) / 1000

    // (3) CPU only: JSON.parse of the received text versus rebuilding every block from the parsed JSON.
    t = performance.now()
    const parsed = texts.map((text) => JSON.parse(text) as Array<{ id: number; result: unknown }>)
    const parseMs = performance.now() - t
    let txCount = 0
    t = performance.now()
    for (const batch of parsed) {
      const byId = new Map(batch.map((r) => [r.id, r.result]))
      for (let id = 0; byId.has(id); id += 2) {
        const block = byId.get(id) as JsonObject
        txCount += (block.transactions as unknown[]).length
        rebuildBlock(block, { receipts: byId.get(id + 1) as unknown[] })
      }
    }
    const rebuildMs = performance.now() - t
    const blocks = head + 1
    const calls = blocks * 2
    process.stdout.write(
      JSON.stringify(
        {
          chain: { blocks, txs: txCount, generated: generated !== undefined, setupSeconds: +setupSeconds.toFixed(1), jsonMB: +(bytes / 1e6).toFixed(1) },
          source: { blocksPerSec: +(blocks / sourceSeconds).toFixed(1), callsPerSec: +(calls / sourceSeconds).toFixed(1), httpRequestsPerSec: +(Math.ceil(blocks / perRequest) / sourceSeconds).toFixed(1) },
          jsonOnly: { blocksPerSec: +(blocks / jsonOnlySeconds).toFixed(1), callsPerSec: +(calls / jsonOnlySeconds).toFixed(1) },
          cpu: {
            jsonParseMsPerBlock: +(parseMs / blocks).toFixed(3),
            rebuildMsPerBlock: +(rebuildMs / blocks).toFixed(3),
            rebuildUsPerTx: +((rebuildMs * 1000) / Math.max(1, txCount)).toFixed(2),
            rebuildOverParse: +(rebuildMs / parseMs).toFixed(2),
          },
        },
        null,
        2,
      ) + '\n',
    )
  } finally {
    await anvil.stop()
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  void main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}

/**
 * The benchmark's measuring stick itself: a tiny chain generated on a real Anvil and cached, served
 * back by the replay server exactly as Anvil answered, and a baseline client measured by the harness.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBenchChain, loadBenchChain, type BenchChainMeta } from '../../bench/chain/cache.js'
import { fetchLoop, p2pLoop } from '../../bench/lib/clients.js'
import { fillPlaceholders, rpcTarget, runClient } from '../../bench/lib/harness.js'
import { startP2pReplay } from '../../bench/lib/p2p-replay.js'
import { ReplayRpcServer } from '../../bench/replay/rpc-server.js'
import { checkHeaderHash, rebuildHeader, type JsonObject } from '../../src/sources/rpc/rebuild.js'

const HEAD = 4
let cache: string
let dir: string
let meta: BenchChainMeta
let server: ReplayRpcServer
let url: string

async function rpc(body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.json()
}

beforeAll(async () => {
  cache = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-cache-test-'))
  process.env.EVM_SYNCER_BENCH_CACHE = cache
  const made = await ensureBenchChain({ head: HEAD, txsPerBlock: [3, 6], seed: 7 })
  expect(made.generated).toBe(true)
  dir = made.dir
  meta = made.meta
  server = new ReplayRpcServer(loadBenchChain(dir))
  url = await server.start()
})

afterAll(async () => {
  await server?.stop()
  delete process.env.EVM_SYNCER_BENCH_CACHE
  rmSync(cache, { recursive: true, force: true })
})

describe('benchmark chain cache', () => {
  it('holds every block of the generated chain and is reused on the next call', async () => {
    expect(meta.blocks).toBe(HEAD + 1)
    expect(meta.chainId).toBe(31337)
    expect(meta.txs).toBe(meta.summary.txs)
    expect(readdirSync(dir).sort()).toEqual(['blocks.jsonl.gz', 'headers.jsonl.gz', 'meta.json', 'receipts.jsonl.gz'])
    const again = await ensureBenchChain({ head: HEAD, txsPerBlock: [3, 6], seed: 7 })
    expect(again.generated).toBe(false)
    expect(again.meta.hashes).toEqual(meta.hashes)
  })
})

describe('replay JSON-RPC server', () => {
  it('serves full blocks and receipts a client can use, with hashes that rebuild', async () => {
    const client = createPublicClient({ transport: http(url) })
    expect(await client.getChainId()).toBe(31337)
    expect(await client.getBlockNumber()).toBe(BigInt(HEAD))
    for (let n = 0; n <= HEAD; n++) {
      const block = await client.getBlock({ blockNumber: BigInt(n), includeTransactions: true })
      const receipts = await client.getBlockReceipts({ blockNumber: BigInt(n) })
      expect(block.hash).toBe(meta.hashes[n])
      expect(receipts.map((r) => r.transactionHash)).toEqual(block.transactions.map((t) => t.hash))
    }
    const json = (await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['0x2', true] })) as { result: JsonObject }
    checkHeaderHash(json.result, rebuildHeader(json.result))
  })

  it('answers batches in order, by number, hash and tag, header-only form and unknown methods', async () => {
    server.resetStats()
    const replies = (await rpc([
      { jsonrpc: '2.0', id: 'a', method: 'eth_getBlockByHash', params: [meta.hashes[3], false] },
      { jsonrpc: '2.0', id: 'b', method: 'eth_getBlockByNumber', params: ['latest', false] },
      { jsonrpc: '2.0', id: 'c', method: 'eth_getBlockReceipts', params: ['0x99'] },
      { jsonrpc: '2.0', id: 'd', method: 'eth_call', params: [] },
    ])) as Array<{ id: string; result?: { hash: string; transactions: unknown[] } | null; error?: { code: number } }>
    expect(replies.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd'])
    expect(replies[0].result!.hash).toBe(meta.hashes[3])
    expect(replies[0].result!.transactions.every((t) => typeof t === 'string')).toBe(true)
    expect(replies[1].result!.hash).toBe(meta.hashes[HEAD])
    expect(replies[2].result).toBeNull()
    expect(replies[3].error!.code).toBe(-32601)
    expect(server.stats).toMatchObject({ httpRequests: 1, calls: 4, methods: { eth_getBlockByHash: 1, eth_getBlockByNumber: 1, eth_getBlockReceipts: 1, eth_call: 1 } })
  })

  it('serves a lower head when asked (N then 2N blocks of one chain)', async () => {
    server.setHead(2)
    try {
      expect(await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' })).toMatchObject({ result: '0x2' })
      expect(await rpc({ jsonrpc: '2.0', id: 2, method: 'eth_getBlockByNumber', params: ['0x3', false] })).toMatchObject({ result: null })
    } finally {
      server.setHead(HEAD)
    }
  })
})

describe('harness', () => {
  it('runs a client as a child process and measures what it did', async () => {
    const r = await runClient(fetchLoop(2, 2), rpcTarget(server, url), { from: 0, to: HEAD, timeoutMs: 60_000 })
    expect(r.error).toBeUndefined()
    expect(r.ok).toBe(true)
    expect(r.report).toMatchObject({ blocks: HEAD + 1, txs: meta.txs })
    expect(r.server.methods).toEqual({ eth_getBlockByNumber: HEAD + 1, eth_getBlockReceipts: HEAD + 1 })
    expect(r.peakRssMiB).toBeGreaterThan(10)
    expect(r.cpuSeconds.total).toBeGreaterThan(0)
    expect(r.activeSeconds).toBeLessThanOrEqual(r.wallSeconds)
  })

  it('measures the devp2p bare request loop against replay peers', async () => {
    const p2p = await startP2pReplay({ head: HEAD, txsPerBlock: [3, 6], seed: 7 }, HEAD, 2, { receipts: true })
    try {
      const r = await runClient(p2pLoop(2, 1), p2p.target(2), { from: 0, to: HEAD, timeoutMs: 60_000 })
      expect(r.error).toBeUndefined()
      expect(r.report).toMatchObject({ blocks: HEAD, settings: { peers: 2 } })
      // Block 0 is the shared genesis: the loop fetches 1..HEAD.
      expect(r.server.methods).toEqual({ headers: HEAD, bodies: HEAD, receipts: HEAD })
    } finally {
      await p2p.stop()
    }
  })

  it('reports a failing client with its exit code and stderr', async () => {
    const r = await runClient({ name: 'failing', command: [process.execPath, '-e', 'console.error("no such block"); process.exit(3)'] }, rpcTarget(server, url), { from: 0, to: 1 })
    expect(r.ok).toBe(false)
    expect(r.exitCode).toBe(3)
    expect(r.error).toContain('no such block')
  })

  it('fills placeholders and refuses unknown ones', () => {
    expect(fillPlaceholders(['--rpc', '{rpc}', '--to={to}'], { rpc: 'http://x', to: '5' })).toEqual(['--rpc', 'http://x', '--to=5'])
    expect(() => fillPlaceholders(['{store}'], {})).toThrow(/no value for \{store\}/)
  })
})

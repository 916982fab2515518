/**
 * The Syncer as a library, against a real LMDB store and geth's devp2p test chain (real headers,
 * bodies and receipts), with an in-memory source whose behaviour the test controls: the stall
 * watchdog and /health, a source that disappears, and the lifecycle API.
 */
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadChain } from '../../src/chain/chains.js'
import { type Bytes, bytesToHex } from '../../src/primitives/bytes.js'
import type { HeadersRequest, PeerFault, RequestOptions, SourcePeer, SourcePool } from '../../src/sources/types.js'
import { openStore } from '../../src/store/open.js'
import type { FullBlock, Store } from '../../src/store/types.js'
import { verifyStore } from '../../src/store/verify.js'
import { defaultSyncConfig } from '../../src/sync/config.js'
import { Syncer } from '../../src/sync/syncer.js'
import { fixturePath } from '../fixtures.js'
import { devp2pChain } from '../store/chains.js'

const GENESIS = fixturePath('go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata', 'genesis.json')

/** Serves the chain from memory; blocks above `servesUpTo` are "in flight forever" until released. */
class MemoryPeer implements SourcePeer {
  readonly id = 'memory-peer'
  readonly kind = 'devp2p' as const
  servesUpTo: number
  private readonly byHash = new Map<string, FullBlock>()
  private readonly waiting: Array<() => void> = []

  constructor(private readonly blocks: FullBlock[]) {
    for (const b of blocks) this.byHash.set(bytesToHex(b.hash), b)
    this.servesUpTo = blocks.length
  }
  head() {
    const last = this.blocks[this.blocks.length - 1]
    return { number: last.number, hash: last.hash }
  }
  release(): void {
    this.servesUpTo = this.blocks.length
    for (const w of this.waiting.splice(0)) w()
  }
  private async gate(number: number, opts?: RequestOptions): Promise<void> {
    while (number > this.servesUpTo) {
      await new Promise<void>((resolve, reject) => {
        this.waiting.push(resolve)
        opts?.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true })
      })
    }
  }
  async getHeaders(req: HeadersRequest, opts?: RequestOptions): Promise<Bytes[]> {
    const start = req.start as number
    await this.gate(start, opts)
    return this.blocks.filter((b) => b.number >= start && b.number < start + req.count && b.number <= this.servesUpTo).map((b) => b.header)
  }
  async getBodies(hashes: readonly Bytes[], opts?: RequestOptions): Promise<Bytes[]> {
    const blocks = hashes.map((h) => this.byHash.get(bytesToHex(h))!)
    await this.gate(blocks[0].number, opts)
    return blocks.map((b) => b.body)
  }
  async getReceipts(hashes: readonly Bytes[], opts?: RequestOptions): Promise<Bytes[]> {
    const blocks = hashes.map((h) => this.byHash.get(bytesToHex(h))!)
    await this.gate(blocks[0].number, opts)
    return blocks.map((b) => b.receipts)
  }
}

class MemoryPool extends EventEmitter implements SourcePool {
  readonly kind = 'devp2p' as const
  connected = true
  constructor(readonly peer: MemoryPeer) {
    super()
  }
  async start() {}
  async stop() {}
  peers() {
    return this.connected ? [this.peer] : []
  }
  report(_peer: SourcePeer, _fault: PeerFault) {}
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(overrides: Partial<ReturnType<typeof defaultSyncConfig>> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-syncer-'))
  const chain = loadChain(GENESIS, { ethash: { mode: 'off' } })
  const store: Store = await openStore(`lmdb:${dir}`, { chain: { name: chain.name, chainId: chain.chainId, genesisHash: chain.genesis.hash } })
  cleanups.push(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const peer = new MemoryPeer(devp2pChain())
  const pool = new MemoryPool(peer)
  const lines: Array<{ msg: string; level: number }> = []
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string; level: number }) })
  const config = { ...defaultSyncConfig(), validationThreads: 0, stallTimeoutMs: 1_000, batchTimeoutMs: 50, ...overrides }
  const syncer = new Syncer({ config, chain, sources: [pool], store, logger })
  cleanups.push(() => syncer.stop())
  return { syncer, store, peer, pool, lines }
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('Syncer', () => {
  it('syncs to the target through the library API and reports its state', async () => {
    const { syncer, store } = await setup({ targetBlock: 600 })
    expect(syncer.isRunning()).toBe(false)
    await syncer.start()
    expect(syncer.isRunning()).toBe(true)
    await expect(syncer.done).resolves.toBe('target-reached')
    expect(syncer.isRunning()).toBe(false)
    expect(syncer.isSynced()).toBe(true)
    expect(syncer.stats()).toMatchObject({ currentBlock: 600, targetBlock: 600, percent: 100, reorgs: 0 })
    const report = await verifyStore(store)
    expect(report.problems).toEqual([])
    expect(report.head).toBe(600)
  }, 120_000)

  it('notices a stall (log, /health 503), recovers when the source answers again', async () => {
    const { syncer, peer, lines } = await setup({ targetBlock: 600 })
    peer.servesUpTo = 250
    await syncer.start()
    await until('blocks up to 250 committed', () => syncer.stats().currentBlock >= 250)
    await until('stall detected', () => lines.some((l) => l.msg.includes('sync stalled')))
    expect(syncer.health()).toMatchObject({ running: true, synced: false, progressing: false })
    peer.release()
    await expect(syncer.done).resolves.toBe('target-reached')
    expect(syncer.stats().currentBlock).toBe(600)
  }, 120_000)

  it('fails with NO_SOURCES when every source is gone for a stall period', async () => {
    const { syncer, peer, pool } = await setup({ targetBlock: 600 })
    peer.servesUpTo = 100
    await syncer.start()
    await until('blocks up to 100 committed', () => syncer.stats().currentBlock >= 100)
    pool.connected = false
    pool.emit('peer:removed', peer, 'test disconnects it')
    await expect(syncer.done).rejects.toMatchObject({ code: 'NO_SOURCES' })
    expect(syncer.health().running).toBe(false)
  }, 120_000)

  it('stop() drains, commits what was verified and resolves "stopped"', async () => {
    const { syncer, peer, store } = await setup({ targetBlock: 600 })
    peer.servesUpTo = 300
    await syncer.start()
    await until('blocks up to 300 committed', () => syncer.stats().currentBlock >= 300)
    await syncer.stop()
    await expect(syncer.done).resolves.toBe('stopped')
    const report = await verifyStore(store)
    expect(report.problems).toEqual([])
    expect(report.head).toBeGreaterThanOrEqual(300)
  }, 120_000)
})

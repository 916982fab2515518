import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { DivergenceError, Downloader, type DownloadedBlock } from '../../src/downloader/downloader.js'
import { SourceError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { type Bytes, bytesToHex } from '../../src/primitives/bytes.js'
import type { HeadersRequest, PeerFault, SourcePeer, SourcePool } from '../../src/sources/types.js'
import { syntheticChain, type SyntheticBlock } from '../helpers/synthetic-chain.js'

type Behaviour = 'good' | 'garbage-headers' | 'wrong-bodies' | 'silent' | 'short'

/** An in-memory source for this unit test only (the real ones are tested against real peers). */
class FakePeer implements SourcePeer {
  readonly kind = 'devp2p' as const
  requests = 0
  /** Sizes of the header requests, in order. */
  readonly headerAsks: number[] = []
  constructor(
    readonly id: string,
    private readonly chain: SyntheticBlock[],
    private readonly behaviour: Behaviour = 'good',
  ) {}
  head() {
    const last = this.chain.at(-1)!.header
    return { number: last.number, hash: last.hash }
  }
  private byHash(h: Bytes) {
    return this.chain.find((b) => bytesToHex(b.header.hash) === bytesToHex(h))
  }
  private async answer<T>(items: T[], signal?: AbortSignal): Promise<T[]> {
    this.requests++
    if (this.behaviour === 'silent') {
      await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new SourceError('REQUEST_TIMEOUT', 'timeout'))))
    }
    await new Promise((r) => setImmediate(r))
    return this.behaviour === 'short' ? items.slice(0, Math.max(1, items.length >> 1)) : items
  }
  async getHeaders(req: HeadersRequest, opts?: { signal?: AbortSignal }) {
    const start = req.start as number
    this.headerAsks.push(req.count)
    if (this.behaviour === 'garbage-headers') return this.answer([Uint8Array.of(0xc1, 0xff)], opts?.signal)
    return this.answer(this.chain.slice(start, start + req.count).map((b) => b.header.raw), opts?.signal)
  }
  async getBodies(hashes: readonly Bytes[], opts?: { signal?: AbortSignal }) {
    const bodies = hashes.map((h) => this.byHash(h)!.body)
    return this.answer(this.behaviour === 'wrong-bodies' ? bodies.reverse() : bodies, opts?.signal)
  }
  async getReceipts(hashes: readonly Bytes[], opts?: { signal?: AbortSignal }) {
    return this.answer(hashes.map((h) => this.byHash(h)!.receipts), opts?.signal)
  }
}

class FakePool extends EventEmitter implements SourcePool {
  readonly kind = 'devp2p' as const
  readonly reports: Array<{ peer: string; fault: PeerFault }> = []
  constructor(private readonly list: SourcePeer[]) {
    super()
  }
  async start() {}
  async stop() {}
  peers() {
    return this.list
  }
  report(peer: SourcePeer, fault: PeerFault) {
    this.reports.push({ peer: peer.id, fault })
  }
}

const running: Downloader[] = []
afterEach(() => {
  for (const d of running.splice(0)) d.stop()
})

function downloader(pool: FakePool, chain: SyntheticBlock[], target: number, config = {}) {
  const d = new Downloader({
    pools: [pool],
    anchor: { number: 0, hash: chain[0].header.hash },
    target: () => target,
    follow: false,
    config: { retryBaseDelayMs: 5, requestTimeoutMs: 200, ...config },
    logger: silentLogger(),
  })
  running.push(d)
  d.start()
  return d
}

async function drain(d: Downloader, validate?: (b: DownloadedBlock) => boolean): Promise<DownloadedBlock[]> {
  const out: DownloadedBlock[] = []
  for (;;) {
    const b = await d.next()
    if (!b) return out
    if (validate && !validate(b)) {
      d.reject(b.number, 'body', 'test rejects it')
      while (out.length > 0 && out[out.length - 1].number >= b.number) out.pop()
      continue
    }
    out.push(b)
    d.accept(b.number)
  }
}

describe('Downloader', () => {
  it('hands out every block in order with the parts of its own header, from two sources', async () => {
    const chain = syntheticChain(600)
    const a = new FakePeer('a', chain)
    const b = new FakePeer('b', chain)
    const d = downloader(new FakePool([a, b]), chain, 599)
    const blocks = await drain(d)
    expect(blocks.map((x) => x.number)).toEqual(chain.slice(1).map((x) => x.header.number))
    for (const x of blocks) {
      expect(bytesToHex(x.header.hash)).toBe(bytesToHex(chain[x.number].header.hash))
      expect(bytesToHex(x.body!)).toBe(bytesToHex(chain[x.number].body))
      expect(bytesToHex(x.receipts!)).toBe(bytesToHex(chain[x.number].receipts))
    }
    expect(a.requests).toBeGreaterThan(0)
    expect(b.requests).toBeGreaterThan(0)
  })

  it('reports a source that sends garbage and completes from a good one', async () => {
    const chain = syntheticChain(300)
    const pool = new FakePool([new FakePeer('bad', chain, 'garbage-headers'), new FakePeer('good', chain)])
    const blocks = await drain(downloader(pool, chain, 299))
    expect(blocks).toHaveLength(299)
    expect(pool.reports).toContainEqual({ peer: 'bad', fault: 'invalid-data' })
  })

  it('times out a silent source and moves its work elsewhere', async () => {
    const chain = syntheticChain(200)
    const silent = new FakePeer('silent', chain, 'silent')
    const pool = new FakePool([silent, new FakePeer('good', chain)])
    const blocks = await drain(downloader(pool, chain, 199))
    expect(blocks).toHaveLength(199)
    expect(silent.requests).toBeGreaterThan(0)
    // Sources score their own timeouts; the downloader must not count them a second time.
    expect(pool.reports).toEqual([])
  })

  it('treats short answers as normal and asks again for the rest', async () => {
    const chain = syntheticChain(300)
    const pool = new FakePool([new FakePeer('short', chain, 'short')])
    const blocks = await drain(downloader(pool, chain, 299))
    expect(blocks).toHaveLength(299)
    expect(pool.reports).toEqual([])
  })

  it('refetches a body the consumer rejected, from another source, and blames the sender', async () => {
    const chain = syntheticChain(120)
    const pool = new FakePool([new FakePeer('liar', chain, 'wrong-bodies'), new FakePeer('good', chain)])
    const d = downloader(pool, chain, 119)
    const blocks = await drain(d, (b) => bytesToHex(b.body!) === bytesToHex(chain[b.number].body))
    expect(blocks.map((b) => b.number)).toEqual(chain.slice(1).map((b) => b.header.number))
    expect(pool.reports.some((r) => r.peer === 'liar' && r.fault === 'invalid-data')).toBe(true)
  })

  it('fails with NO_SOURCE_CAN_SERVE when every source failed the next block', async () => {
    const chain = syntheticChain(50)
    const pool = new FakePool([new FakePeer('bad', chain, 'garbage-headers')])
    await expect(drain(downloader(pool, chain, 49))).rejects.toMatchObject({ code: 'NO_SOURCE_CAN_SERVE' })
  })

  it('reports a divergence when sources serve a chain that does not extend the anchor', async () => {
    const ours = syntheticChain(40)
    const theirs = syntheticChain(40, { fork: 1 })
    const pool = new FakePool([new FakePeer('x', theirs), new FakePeer('y', theirs)])
    const d = downloader(pool, ours, 39)
    const err = await drain(d).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DivergenceError)
    expect((err as DivergenceError).number).toBe(1)
  })

  it('does not cut the stream into one-block requests when a full window opens block by block', async () => {
    const chain = syntheticChain(120)
    const peer = new FakePeer('a', chain)
    const d = downloader(new FakePool([peer]), chain, 119, { fetchBodies: false, fetchReceipts: false, maxWindowBlocks: 20, headersPerRequest: 8 })
    // A slow consumer: the window is full whenever a block is accepted.
    const blocks: DownloadedBlock[] = []
    for (let b = await d.next(); b; b = await d.next()) {
      await new Promise((r) => setTimeout(r, 2))
      blocks.push(b)
      d.accept(b.number)
    }
    expect(blocks.map((b) => b.number)).toEqual(chain.slice(1).map((b) => b.header.number))
    // Each accepted block opens the window by one: requests wait until half of one (4) fits; only
    // the run that ends at the target may be shorter.
    expect(peer.headerAsks.slice(0, -1).every((n) => n >= 4), String(peer.headerAsks)).toBe(true)
  })

  it('rejects headers that do not link to each other', async () => {
    const chain = syntheticChain(30)
    const other = syntheticChain(30, { fork: 2 })
    const mixed = chain.map((b, i) => (i === 10 ? other[10] : b))
    const pool = new FakePool([new FakePeer('mixed', mixed), new FakePeer('good', chain)])
    const blocks = await drain(downloader(pool, chain, 29))
    expect(blocks.map((b) => bytesToHex(b.header.hash))).toEqual(chain.slice(1).map((b) => bytesToHex(b.header.hash)))
    expect(pool.reports.some((r) => r.peer === 'mixed')).toBe(true)
  })
})

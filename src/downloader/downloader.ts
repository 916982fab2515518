/**
 * The Downloader (SPEC §2): fills a sliding window of block slots from every connected source at
 * once and hands complete blocks out strictly in order.
 *
 *  - The header chain leads: header chunks are fetched in parallel and accepted only when they link
 *    by parent hash to the trusted anchor (the store's head, or the last block handed out).
 *  - Bodies and receipts fill in behind it, requested by hash for linked headers only. Empty bodies
 *    and receipt lists are known from the header's roots and never requested.
 *  - Sources that serve whole blocks (JSON-RPC) fill all three parts with one request.
 *  - Request sizes follow each source's measured throughput (RateTracker); a byte budget bounds how
 *    far ahead the window runs (the consumer's memory is released only when it accepts blocks).
 *  - Failures: each (item, source) pair is retried up to `maxRetries` times with exponential backoff
 *    from `retryBaseDelayMs`; other sources take the item at once. An item fails the sync only when
 *    every connected source has failed it.
 *  - The consumer validates what it receives and calls `accept(n)` or `reject(n, part)`; a rejected
 *    part is refetched from another source and the culprit reported to its pool.
 *
 * It never writes anything and never trusts a source: validation is the next stage's job.
 */
import type { Logger } from '../logger.js'
import type { SyncMetrics } from '../metrics/metrics.js'
import { type Bytes, equalBytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { EMPTY_LIST_HASH, EMPTY_TRIE_ROOT } from '../primitives/keccak.js'
import { DecodeError, SourceError, SyncerError, errorMessage } from '../errors.js'
import type { PeerFault, RawBlock, SourcePeer, SourcePool } from '../sources/types.js'
import { RateTracker, type ItemKind } from './rate.js'

export type BlockPart = 'header' | 'body' | 'receipts'

export interface DownloadedBlock {
  number: number
  header: BlockHeader
  /** rlp([txs, ommers, withdrawals?]); undefined in headers-only mode. */
  body: Bytes | undefined
  /** Receipt list RLP (eth/68 or eth/69 form); undefined when receipts are not fetched. */
  receipts: Bytes | undefined
  /** Which source delivered each part (for blame when validation fails). */
  sources: Partial<Record<BlockPart, string>>
}

export interface DownloaderConfig {
  /** Concurrent requests across all sources (SPEC WorkerCount). */
  maxInFlight: number
  /** In-flight requests per source and kind. */
  perSourceInFlight: number
  headersPerRequest: number
  bodiesPerRequest: number
  receiptsPerRequest: number
  blocksPerRequest: number
  /** Soft byte budget of one body/receipt request (peers cap answers near 2 MB anyway). */
  requestBytes: number
  /** Memory budget for blocks downloaded but not yet accepted by the consumer. */
  windowBytes: number
  maxWindowBlocks: number
  requestTimeoutMs: number
  maxRetries: number
  retryBaseDelayMs: number
  targetRttMs: number
  fetchBodies: boolean
  fetchReceipts: boolean
}

export const DEFAULT_DOWNLOADER_CONFIG: DownloaderConfig = {
  maxInFlight: 50,
  // geth serves requests from one peer concurrently; two per kind keeps the pipe full across an RTT.
  perSourceInFlight: 2,
  headersPerRequest: 192,
  bodiesPerRequest: 128,
  receiptsPerRequest: 128,
  blocksPerRequest: 50,
  requestBytes: 2 * 1024 * 1024,
  windowBytes: 256 * 1024 * 1024,
  maxWindowBlocks: 8192,
  requestTimeoutMs: 15_000,
  maxRetries: 3,
  retryBaseDelayMs: 2_000,
  targetRttMs: 1_000,
  fetchBodies: true,
  fetchReceipts: true,
}

/** Initial request sizes before a source has been measured: small, so a slow peer cannot stall much. */
const INITIAL_ITEMS: Record<ItemKind, number> = { headers: 64, bodies: 16, receipts: 16, blocks: 8 }

/** Until measured, a block is assumed to weigh this much (header + body + receipts). */
const INITIAL_BLOCK_BYTES = 32 * 1024

/** Sources that diverge from our chain at its tip must agree before we call it a reorg. */
const DIVERGENCE_CONFIRMATIONS = 2

/** The chain the sources serve no longer extends the block we last accepted or handed out. */
export class DivergenceError extends SyncerError {
  constructor(
    readonly number: number,
    readonly sourceIds: string[],
  ) {
    super('CHAIN_DIVERGED', `sources serve a block ${number} that does not extend our chain (reorg?)`, {
      details: { number, sources: sourceIds },
    })
  }
}

interface Slot {
  number: number
  header?: BlockHeader
  body?: Bytes
  receipts?: Bytes
  sources: Partial<Record<BlockPart, string>>
  pending: Set<BlockPart>
  /** Failures per `${sourceId}/${part}`. */
  failures: Map<string, number>
  /** Earliest retry time per `${sourceId}/${part}`. */
  retryAt: Map<string, number>
  bytes: number
}

interface SourceState {
  peer: SourcePeer
  pool: SourcePool
  tracker: RateTracker
  inFlight: Record<ItemKind, number>
  /** Items delivered since the last re-plan. */
  delivered: number
}

interface Anchor {
  number: number
  hash: Bytes
}

export interface DownloaderOptions {
  pools: SourcePool[]
  /** Trusted parent of the first block to download (the store's head, or the anchor block). */
  anchor: Anchor
  /** Inclusive target; re-read on every scheduling round so it can grow (follow mode). */
  target: () => number
  /** When false, `next()` resolves undefined once the target has been handed out. */
  follow: boolean
  config?: Partial<DownloaderConfig>
  metrics?: SyncMetrics
  logger: Logger
}

export class Downloader {
  readonly config: DownloaderConfig
  private readonly slots = new Map<number, Slot>()
  private readonly sources = new Map<SourcePeer, SourceState>()
  /** Last header known to link back to the anchor. */
  private tip: Anchor
  /** Next block number to hand out. */
  private handed: number
  /** Hashes of handed-out blocks not yet accepted (to re-link after a rejection). */
  private readonly handedHashes = new Map<number, Bytes>()
  private acceptedThrough: number
  private inFlight = 0
  private bytes = 0
  private avgBlockBytes = INITIAL_BLOCK_BYTES
  private readonly divergence = new Map<number, Set<string>>()
  /** Below these numbers every linked slot has its body / receipts (keeps scheduling O(new work)). */
  private readonly filledBelow: Record<'body' | 'receipts', number>
  private fatal: Error | undefined
  private stopped = false
  private readonly controller = new AbortController()
  private wakeConsumer: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly listeners: Array<() => void> = []

  constructor(private readonly opts: DownloaderOptions) {
    this.config = { ...DEFAULT_DOWNLOADER_CONFIG, ...opts.config }
    this.tip = opts.anchor
    this.handed = opts.anchor.number + 1
    this.acceptedThrough = opts.anchor.number
    this.handedHashes.set(opts.anchor.number, opts.anchor.hash)
    this.filledBelow = { body: this.handed, receipts: this.handed }
  }

  start(): void {
    for (const pool of this.opts.pools) {
      const added = (peer: SourcePeer) => {
        this.addSource(pool, peer)
        this.schedule()
      }
      const removed = (peer: SourcePeer) => this.sources.delete(peer)
      pool.on('peer:added', added)
      pool.on('peer:removed', removed)
      this.listeners.push(() => {
        pool.off('peer:added', added)
        pool.off('peer:removed', removed)
      })
      for (const peer of pool.peers()) this.addSource(pool, peer)
    }
    // Heads move and backoffs expire without any event; a coarse tick re-plans. It also keeps the
    // process alive while every source is gone (banned, reconnecting) and the consumer waits.
    this.timer = setInterval(() => this.schedule(), 250)
    this.schedule()
  }

  /** Ends the download with `err` (the consumer's next `next()` throws it). */
  abort(err: Error): void {
    this.fail(err)
  }

  /** Stops scheduling and aborts requests in flight. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.timer)
    for (const off of this.listeners) off()
    this.controller.abort()
    this.wakeConsumer?.()
  }

  /** Next block in order; undefined when the target was reached (and not following) or stopped. */
  async next(): Promise<DownloadedBlock | undefined> {
    for (;;) {
      if (this.fatal) throw this.fatal
      if (this.stopped) return undefined
      const slot = this.slots.get(this.handed)
      if (slot && this.isComplete(slot)) {
        const block = this.handOut(slot)
        this.schedule()
        return block
      }
      if (!this.opts.follow && this.handed > this.opts.target()) return undefined
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve))
      this.wakeConsumer = undefined
    }
  }

  /**
   * Takes up to `max` further blocks that are already complete, without waiting (lets the consumer
   * batch what is ready instead of making one round trip per block).
   */
  takeReady(max: number): DownloadedBlock[] {
    const out: DownloadedBlock[] = []
    while (out.length < max && !this.fatal && !this.stopped) {
      const slot = this.slots.get(this.handed)
      if (!slot || !this.isComplete(slot)) break
      out.push(this.handOut(slot))
    }
    if (out.length > 0) this.schedule()
    return out
  }

  /** Block `n` (and everything below) passed validation: free its memory. */
  accept(n: number): void {
    for (let i = this.acceptedThrough + 1; i <= n; i++) {
      const slot = this.slots.get(i)
      if (slot) this.dropSlot(slot)
      if (i < n) this.handedHashes.delete(i)
    }
    this.acceptedThrough = Math.max(this.acceptedThrough, n)
    this.handedHashes.delete(n - 1)
    this.schedule()
  }

  /**
   * Block `n`'s `part` failed validation. Its source is reported, the part refetched from another
   * source, and handing out restarts at `n` (the consumer discards what it holds above n-1).
   */
  reject(n: number, part: BlockPart, reason: string): void {
    const slot = this.slots.get(n)
    if (!slot) return
    const sourceId = slot.sources[part]
    const state = sourceId ? this.sourceById(sourceId) : undefined
    if (state) state.pool.report(state.peer, 'invalid-data', `block ${n} ${part}: ${reason}`)
    if (sourceId) slot.failures.set(`${sourceId}/${part}`, this.config.maxRetries)
    this.opts.metrics?.validationErrors.inc()
    if (part === 'header') {
      for (const [num, s] of this.slots) if (num >= n) this.clearHeader(s)
      this.tip = { number: n - 1, hash: this.hashAt(n - 1) }
    } else {
      this.clearPart(slot, part)
    }
    for (let i = n; i < this.handed; i++) this.handedHashes.delete(i)
    this.handed = Math.min(this.handed, n)
    this.schedule()
  }

  /**
   * Re-plan after a stall: forget backoffs and failure counts so every source gets a fresh chance,
   * and report sources that delivered nothing since the last re-plan so their pool can rotate them.
   */
  replan(): void {
    for (const slot of this.slots.values()) {
      slot.failures.clear()
      slot.retryAt.clear()
    }
    for (const state of this.sources.values()) {
      if (state.delivered === 0) state.pool.report(state.peer, 'useless', 'delivered nothing during a stall')
      state.delivered = 0
    }
    this.schedule()
  }

  /** Statistics for logs, metrics and the stall watchdog. */
  stats(): { handed: number; tip: number; inFlight: number; bytes: number; sources: number } {
    return { handed: this.handed, tip: this.tip.number, inFlight: this.inFlight, bytes: this.bytes, sources: this.sources.size }
  }

  // ---------------------------------------------------------------------------------------------

  private handOut(slot: Slot): DownloadedBlock {
    this.handed++
    this.handedHashes.set(slot.number, slot.header!.hash)
    return { number: slot.number, header: slot.header!, body: slot.body, receipts: slot.receipts, sources: { ...slot.sources } }
  }

  private addSource(pool: SourcePool, peer: SourcePeer): void {
    if (this.sources.has(peer)) return
    this.sources.set(peer, {
      peer,
      pool,
      tracker: new RateTracker(this.config.targetRttMs, INITIAL_ITEMS),
      inFlight: { headers: 0, bodies: 0, receipts: 0, blocks: 0 },
      delivered: 0,
    })
  }

  private sourceById(id: string): SourceState | undefined {
    for (const s of this.sources.values()) if (s.peer.id === id) return s
    return undefined
  }

  private hashAt(n: number): Bytes {
    const handed = this.handedHashes.get(n)
    if (handed) return handed
    const header = this.slots.get(n)?.header
    if (header) return header.hash
    throw new Error(`no hash known for block ${n}`)
  }

  private slot(n: number): Slot {
    let s = this.slots.get(n)
    if (!s) {
      s = { number: n, sources: {}, pending: new Set(), failures: new Map(), retryAt: new Map(), bytes: 0 }
      this.slots.set(n, s)
    }
    return s
  }

  private dropSlot(slot: Slot): void {
    this.bytes -= slot.bytes
    this.slots.delete(slot.number)
  }

  private addBytes(slot: Slot, n: number): void {
    slot.bytes += n
    this.bytes += n
  }

  private clearPart(slot: Slot, part: BlockPart): void {
    if (part !== 'header') this.filledBelow[part] = Math.min(this.filledBelow[part], slot.number)
    const data = part === 'header' ? slot.header?.raw : part === 'body' ? slot.body : slot.receipts
    if (data) this.addBytes(slot, -data.length)
    if (part === 'header') slot.header = undefined
    else if (part === 'body') slot.body = undefined
    else slot.receipts = undefined
    delete slot.sources[part]
  }

  /** A header goes, and with it the parts that were matched to it by hash. */
  private clearHeader(slot: Slot): void {
    this.clearPart(slot, 'header')
    this.clearPart(slot, 'body')
    this.clearPart(slot, 'receipts')
  }

  private isComplete(slot: Slot): boolean {
    return (
      slot.header !== undefined &&
      slot.number <= this.tip.number &&
      (!this.config.fetchBodies || slot.body !== undefined) &&
      (!this.config.fetchReceipts || slot.receipts !== undefined)
    )
  }

  private fail(err: Error): void {
    if (this.fatal) return
    this.fatal = err
    this.wakeConsumer?.()
  }

  /** How far ahead of the consumer headers may be fetched, by blocks and by bytes. */
  private frontier(): number {
    return Math.min(this.opts.target(), this.acceptedThrough + this.windowBlocks())
  }

  /** How many blocks past the last accepted one the window holds (by count and by bytes). */
  private windowBlocks(): number {
    const byBytes = Math.floor(this.config.windowBytes / Math.max(this.avgBlockBytes, 1))
    return Math.max(1, Math.min(this.config.maxWindowBlocks, byBytes))
  }

  private canAsk(slot: Slot, part: BlockPart, peerId: string, now: number): boolean {
    if (slot.pending.has(part)) return false
    const key = `${peerId}/${part}`
    if ((slot.failures.get(key) ?? 0) >= this.config.maxRetries) return false
    return (slot.retryAt.get(key) ?? 0) <= now
  }

  private peerHead(state: SourceState): number {
    return state.peer.head()?.number ?? -1
  }

  private schedule(): void {
    if (this.stopped || this.fatal) return
    const now = Date.now()
    const states = [...this.sources.values()].sort(
      (a, b) => b.tracker.itemsPerSecond('bodies') + b.tracker.itemsPerSecond('blocks') - (a.tracker.itemsPerSecond('bodies') + a.tracker.itemsPerSecond('blocks')),
    )
    let progress = true
    while (progress && this.inFlight < this.config.maxInFlight) {
      progress = false
      for (const state of states) {
        if (this.inFlight >= this.config.maxInFlight) break
        if (this.assign(state, now)) progress = true
      }
    }
    this.checkExhausted()
  }

  /** Gives one request to `state` if it can take one; true if it did. */
  private assign(state: SourceState, now: number): boolean {
    const { fetchBodies, fetchReceipts } = this.config
    if (fetchBodies && this.idle(state, 'bodies') && this.requestParts(state, 'body', now)) return true
    if (fetchReceipts && this.idle(state, 'receipts') && this.requestParts(state, 'receipts', now)) return true
    if (state.peer.getBlocks && fetchBodies) return this.idle(state, 'blocks') && this.requestBlocks(state, now)
    return this.idle(state, 'headers') && this.requestHeaders(state, now)
  }

  /** Whether `state` can start a request of `kind` now (its own slot count when it keeps one). */
  private idle(state: SourceState, kind: ItemKind): boolean {
    if (state.inFlight[kind] >= this.config.perSourceInFlight) return false
    return kind === 'blocks' || state.peer.idleSlots === undefined || state.peer.idleSlots(kind) > 0
  }

  /**
   * Items to ask `state` for: the source's own throughput-based capacity when it measures one
   * (devp2p peers), else this downloader's estimate; never above the protocol's upper bound.
   */
  private requestSize(state: SourceState, kind: ItemKind, max: number): number {
    const own = kind !== 'blocks' ? state.peer.capacity?.(kind) : undefined
    return Math.max(1, Math.min(max, own ?? state.tracker.requestSize(kind, max)))
  }

  /** Lowest run of numbers above the tip without a header, that `state` may be asked for. */
  private headerRun(state: SourceState, kind: ItemKind, max: number, now: number, allPartsMissing: boolean): [number, number] | undefined {
    const frontier = this.frontier()
    const peerHead = this.peerHead(state)
    const last = Math.min(frontier, peerHead)
    let start = -1
    let count = 0
    for (let n = this.tip.number + 1; n <= last && count < max; n++) {
      const s = this.slots.get(n)
      const free =
        !s ||
        (!s.header &&
          this.canAsk(s, 'header', state.peer.id, now) &&
          (!allPartsMissing || (!s.pending.has('body') && !s.pending.has('receipts'))))
      if (free) {
        if (start < 0) start = n
        count++
      } else if (start >= 0) {
        break
      }
    }
    if (start < 0) return undefined
    // A full window opens a block at a time as blocks are accepted: asking for each opening at once
    // would cut the stream into one-block requests (a round trip and a frame each). Wait until half
    // a request fits, unless the run ends at the target or the source's head.
    const windowLimited = start + count - 1 === frontier && frontier < Math.min(this.opts.target(), peerHead)
    if (windowLimited && count < Math.min(max, this.windowBlocks()) / 2) return undefined
    return [start, count]
  }

  private requestHeaders(state: SourceState, now: number): boolean {
    const size = this.requestSize(state, 'headers', this.config.headersPerRequest)
    const run = this.headerRun(state, 'headers', size, now, false)
    if (!run) return false
    const [start, count] = run
    const slots = this.markPending(start, count, ['header'])
    this.run(state, 'headers', count, slots, ['header'], async (signal) => {
      const raws = await state.peer.getHeaders({ start, count }, { signal, timeoutMs: this.config.requestTimeoutMs })
      this.opts.metrics?.downloadedHeaders.inc(raws.length)
      return this.acceptHeaders(state, start, raws.slice(0, count))
    })
    return true
  }

  private requestBlocks(state: SourceState, now: number): boolean {
    const size = this.requestSize(state, 'blocks', this.config.blocksPerRequest)
    const run = this.headerRun(state, 'blocks', size, now, true)
    if (!run) return false
    const [start, count] = run
    const parts: BlockPart[] = ['header', 'body', 'receipts']
    const slots = this.markPending(start, count, parts)
    const withReceipts = this.config.fetchReceipts
    this.run(state, 'blocks', count, slots, parts, async (signal) => {
      const blocks = await state.peer.getBlocks!(start, count, withReceipts, { signal, timeoutMs: this.config.requestTimeoutMs })
      return this.acceptBlocks(state, start, blocks.slice(0, count))
    })
    return true
  }

  private requestParts(state: SourceState, part: 'body' | 'receipts', now: number): boolean {
    const kind: ItemKind = part === 'body' ? 'bodies' : 'receipts'
    const max = part === 'body' ? this.config.bodiesPerRequest : this.config.receiptsPerRequest
    const byBytes = Math.max(1, Math.floor(this.config.requestBytes / Math.max(this.avgBlockBytes, 1)))
    const size = Math.min(this.requestSize(state, kind, max), byBytes)
    const head = this.peerHead(state)
    const picked: Slot[] = []
    let n = Math.max(this.handed, this.filledBelow[part])
    while (n <= this.tip.number && this.hasPartOrEmpty(this.slots.get(n), part)) n++
    this.filledBelow[part] = n
    for (; n <= this.tip.number && picked.length < size && n <= head; n++) {
      const s = this.slots.get(n)
      if (!s?.header || this.hasPartOrEmpty(s, part)) continue
      if (this.canAsk(s, part, state.peer.id, now)) picked.push(s)
    }
    if (picked.length === 0) return false
    for (const s of picked) s.pending.add(part)
    const hashes = picked.map((s) => s.header!.hash)
    this.run(state, kind, picked.length, picked, [part], async (signal) => {
      const opts = { signal, timeoutMs: this.config.requestTimeoutMs }
      const raws = part === 'body' ? await state.peer.getBodies(hashes, opts) : await state.peer.getReceipts(hashes, opts)
      if (part === 'body') this.opts.metrics?.downloadedBodies.inc(raws.length)
      else this.opts.metrics?.downloadedReceipts.inc(raws.length)
      return this.acceptParts(state, part, picked, hashes, raws.slice(0, picked.length))
    })
    return true
  }

  private hasPartOrEmpty(s: Slot | undefined, part: 'body' | 'receipts'): boolean {
    if (!s?.header) return false
    return this.hasPart(s, part) || this.fillEmpty(s, part)
  }

  /**
   * Empty bodies and receipt lists are implied by the header's roots; they are filled without a
   * request (the validator still checks them like any other).
   */
  private fillEmpty(slot: Slot, part: 'body' | 'receipts'): boolean {
    const h = slot.header!
    if (part === 'receipts') {
      if (!equalBytes(h.receiptsRoot, EMPTY_TRIE_ROOT)) return false
      this.setPart(slot, 'receipts', Uint8Array.of(0xc0), 'implied')
      return true
    }
    const noWithdrawals = h.withdrawalsRoot === undefined || equalBytes(h.withdrawalsRoot, EMPTY_TRIE_ROOT)
    if (!equalBytes(h.transactionsRoot, EMPTY_TRIE_ROOT) || !equalBytes(h.ommersHash, EMPTY_LIST_HASH) || !noWithdrawals) return false
    // rlp([[], []]) or, from Shanghai on, rlp([[], [], []])
    this.setPart(slot, 'body', h.withdrawalsRoot === undefined ? Uint8Array.of(0xc2, 0xc0, 0xc0) : Uint8Array.of(0xc3, 0xc0, 0xc0, 0xc0), 'implied')
    return true
  }

  private setPart(slot: Slot, part: 'body' | 'receipts', data: Bytes, sourceId: string): void {
    if (part === 'body') slot.body = data
    else slot.receipts = data
    slot.sources[part] = sourceId
    this.addBytes(slot, data.length)
  }

  private markPending(start: number, count: number, parts: BlockPart[]): Slot[] {
    const out: Slot[] = []
    for (let n = start; n < start + count; n++) {
      const s = this.slot(n)
      for (const p of parts) s.pending.add(p)
      out.push(s)
    }
    return out
  }

  /**
   * Runs one request: bookkeeping, timing, error classification. `work` returns how many items it
   * used; items it did not fill count as soft failures ("don't have it") for this source.
   */
  private run(
    state: SourceState,
    kind: ItemKind,
    asked: number,
    slots: Slot[],
    parts: BlockPart[],
    work: (signal: AbortSignal) => Promise<number>,
  ): void {
    this.inFlight++
    state.inFlight[kind]++
    this.opts.metrics?.inFlightRequests.inc({ kind })
    const started = performance.now()
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.config.requestTimeoutMs + 1_000)])
    const stopTimer = this.opts.metrics?.downloadDuration.startTimer()
    work(signal)
      .then((used) => {
        state.tracker.update(kind, used, performance.now() - started)
        state.delivered += used
        if (used < asked) this.softFail(state, slots, parts, used === 0)
      })
      .catch((err: unknown) => this.requestFailed(state, kind, slots, parts, err))
      .finally(() => {
        stopTimer?.()
        this.inFlight--
        state.inFlight[kind]--
        this.opts.metrics?.inFlightRequests.dec({ kind })
        for (const s of slots) for (const p of parts) s.pending.delete(p)
        this.wakeConsumer?.()
        this.schedule()
      })
  }

  /** Unfilled items of a short answer: no penalty, but this source is not asked again at once. */
  private softFail(state: SourceState, slots: Slot[], parts: BlockPart[], empty: boolean): void {
    const now = Date.now()
    for (const s of slots) {
      for (const p of parts) {
        if (this.hasPart(s, p)) continue
        const key = `${state.peer.id}/${p}`
        // A short answer is normal (response size cap); only an empty one counts towards giving up.
        if (empty) s.failures.set(key, (s.failures.get(key) ?? 0) + 1)
        s.retryAt.set(key, now + (empty ? this.config.retryBaseDelayMs : 0))
      }
    }
  }

  private hasPart(s: Slot, p: BlockPart): boolean {
    return p === 'header' ? s.header !== undefined : p === 'body' ? s.body !== undefined : s.receipts !== undefined
  }

  private requestFailed(state: SourceState, kind: ItemKind, slots: Slot[], parts: BlockPart[], err: unknown): void {
    if (this.stopped) return
    const fault = classify(err)
    const now = Date.now()
    for (const s of slots) {
      for (const p of parts) {
        if (this.hasPart(s, p)) continue
        const key = `${state.peer.id}/${p}`
        const failures = (s.failures.get(key) ?? 0) + 1
        s.failures.set(key, fault === 'invalid-data' ? this.config.maxRetries : failures)
        s.retryAt.set(key, now + this.config.retryBaseDelayMs * 2 ** (failures - 1))
      }
    }
    if (isTimeout(err)) state.tracker.penalize(kind)
    if (fault) state.pool.report(state.peer, fault, errorMessage(err))
    this.opts.metrics?.countError('downloader', err instanceof SyncerError ? err.code : 'REQUEST_FAILED')
    this.opts.logger.debug({ source: state.peer.id, kind, err: errorMessage(err) }, 'request failed')
  }

  /** Fails the download when the next needed item has been failed by every source we have. */
  private checkExhausted(): void {
    if (this.sources.size === 0 || this.inFlight > 0) return
    const n = this.handed
    if (n > this.opts.target()) return
    const slot = this.slots.get(n)
    const needed: BlockPart[] = !slot?.header
      ? ['header']
      : ([this.config.fetchBodies && !slot.body && 'body', this.config.fetchReceipts && !slot.receipts && 'receipts'].filter(Boolean) as BlockPart[])
    for (const part of needed) {
      const capable = [...this.sources.values()].filter((s) => this.peerHead(s) >= n)
      if (capable.length === 0) return // nobody claims the block yet: wait for heads to move
      const exhausted = capable.every((s) => (slot?.failures.get(`${s.peer.id}/${part}`) ?? 0) >= this.config.maxRetries)
      if (exhausted) {
        this.fail(new SourceError('NO_SOURCE_CAN_SERVE', `no source can serve the ${part} of block ${n}`, { details: { number: n, part } }))
        return
      }
    }
  }

  // --- accepting answers -------------------------------------------------------------------------

  private decodeHeader(raw: Bytes, expected: number): BlockHeader {
    const header = BlockHeader.decode(raw)
    if (header.number !== expected) {
      throw new DecodeError('UNREQUESTED_HEADER', `asked for block ${expected}, got ${header.number}`)
    }
    return header
  }

  /** Decodes a contiguous header run, checks its internal links, and stores it. Returns headers used. */
  private acceptHeaders(state: SourceState, start: number, raws: Bytes[]): number {
    const headers = raws.map((raw, i) => this.decodeHeader(raw, start + i))
    for (let i = 1; i < headers.length; i++) {
      if (!equalBytes(headers[i].parentHash, headers[i - 1].hash)) {
        throw new DecodeError('BROKEN_HEADER_CHAIN', `header ${start + i} does not link to header ${start + i - 1}`)
      }
    }
    let used = 0
    for (const h of headers) {
      if (h.number <= this.tip.number) continue
      const s = this.slot(h.number)
      if (s.header) continue
      s.header = h
      s.sources.header = state.peer.id
      this.addBytes(s, h.raw.length)
      used++
    }
    this.link()
    return used
  }

  private acceptBlocks(state: SourceState, start: number, blocks: RawBlock[]): number {
    const used = this.acceptHeaders(
      state,
      start,
      blocks.map((b) => b.header),
    )
    blocks.forEach((b, i) => {
      const s = this.slots.get(start + i)
      if (!s?.header || s.sources.header !== state.peer.id || !equalBytes(s.header.raw, b.header)) return
      if (s.body === undefined) this.setPart(s, 'body', b.body, state.peer.id)
      if (b.receipts && s.receipts === undefined) this.setPart(s, 'receipts', b.receipts, state.peer.id)
    })
    this.opts.metrics?.downloadedHeaders.inc(blocks.length)
    this.opts.metrics?.downloadedBodies.inc(blocks.length)
    if (this.config.fetchReceipts) this.opts.metrics?.downloadedReceipts.inc(blocks.length)
    this.updateAverage(blocks.reduce((sum, b) => sum + b.header.length + b.body.length + (b.receipts?.length ?? 0), 0), blocks.length)
    return used
  }

  /**
   * Items are attached in the order asked (peers answer in order and may stop early); a part that
   * belongs to another block fails its root check in the validator and is refetched from elsewhere.
   */
  private acceptParts(state: SourceState, part: 'body' | 'receipts', slots: Slot[], hashes: Bytes[], raws: Bytes[]): number {
    let used = 0
    let total = 0
    raws.forEach((raw, i) => {
      const s = slots[i]
      // The header may have been replaced while the request was out; the answer was for the old one.
      if (!s.header || this.slots.get(s.number) !== s || this.hasPart(s, part) || !equalBytes(s.header.hash, hashes[i])) return
      this.setPart(s, part, raw, state.peer.id)
      total += raw.length
      used++
    })
    if (used > 0) this.updateAverage(total * (part === 'body' ? 1.3 : 1.5), used)
    return used
  }

  private updateAverage(bytes: number, blocks: number): void {
    if (blocks === 0) return
    const sample = bytes / blocks
    this.avgBlockBytes += 0.1 * (sample - this.avgBlockBytes)
  }

  /** Advances the linked tip through consecutive headers; handles chunks that do not link. */
  private link(): void {
    for (;;) {
      const next = this.slots.get(this.tip.number + 1)
      if (!next?.header) break
      if (equalBytes(next.header.parentHash, this.tip.hash)) {
        this.tip = { number: next.number, hash: next.header.hash }
        this.divergence.delete(next.number)
        continue
      }
      this.onConflict(next)
      break
    }
    this.wakeConsumer?.()
  }

  /**
   * Header `slot` does not extend the linked tip. If the tip is the last block we handed out or our
   * anchor, sources disagree with our chain itself: after enough confirmations that is a divergence
   * (the Syncer looks for the common ancestor). Otherwise two downloaded chunks disagree: the newer
   * headers are dropped and refetched; if that repeats, the older unhanded ones go too.
   */
  private onConflict(slot: Slot): void {
    const sourceId = slot.sources.header ?? 'unknown'
    const confirmations = this.divergence.get(slot.number) ?? new Set<string>()
    confirmations.add(sourceId)
    this.divergence.set(slot.number, confirmations)
    const atBase = this.tip.number === this.handed - 1
    // Ask someone else first; this source may retry after the backoff.
    slot.retryAt.set(`${sourceId}/header`, Date.now() + this.config.retryBaseDelayMs)
    for (const [num, s] of this.slots) if (num >= slot.number) this.clearHeader(s)
    if (atBase) {
      const needed = Math.min(DIVERGENCE_CONFIRMATIONS, Math.max(1, this.sources.size))
      this.opts.logger.warn({ number: slot.number, source: sourceId, confirmations: confirmations.size }, 'header does not extend our chain')
      if (confirmations.size >= needed) this.fail(new DivergenceError(slot.number, [...confirmations]))
      return
    }
    if (confirmations.size >= DIVERGENCE_CONFIRMATIONS) {
      // Our own unhanded headers may be the stale ones (a reorg under the window): refetch them too.
      for (let n = this.handed; n <= this.tip.number; n++) {
        const s = this.slots.get(n)
        if (s) this.clearHeader(s)
      }
      this.tip = { number: this.handed - 1, hash: this.hashAt(this.handed - 1) }
      this.divergence.delete(slot.number)
      this.opts.logger.warn({ number: slot.number }, 'downloaded header chunks disagree; refetching the window')
    }
  }
}

function isTimeout(err: unknown): boolean {
  if (err instanceof SourceError) return /TIMEOUT/i.test(err.code)
  return err instanceof Error && err.name === 'TimeoutError'
}

/**
 * Faults the downloader itself detected (a header that is not the one asked for, a broken chain)
 * are reported as invalid data. Transport failures are not: sources score their own timeouts and
 * disconnects, and reporting them again would count them twice.
 */
function classify(err: unknown): PeerFault | undefined {
  return err instanceof DecodeError ? 'invalid-data' : undefined
}

/**
 * A connected, handshaken eth peer as a `SourcePeer`: requests sized from the peer's measured
 * throughput, per-kind in-flight limits, a timeout on every request, and counters for scoring and
 * metrics. Faults it observes itself (timeouts) go to the pool through `PeerHooks`; faults found by
 * validating the data (wrong roots) come back through `pool.report()`.
 */
import { SourceError } from '../../errors.js'
import { bytesToHex, equalBytes, type Bytes } from '../../primitives/bytes.js'
import { BlockHeader } from '../../primitives/header.js'
import type { HeadInfo, HeadersRequest, PeerFault, RequestOptions, SourcePeer } from '../types.js'
import { nodeIdHex } from './enode.js'
import { devp2pError, Devp2pErrorCode } from './errors.js'
import {
  encodeGetBlockHeaders,
  encodeHashesRequest,
  REQUEST_KINDS,
  type AnnouncedHead,
  type BlockRange,
  type EthVersion,
  type RequestKind,
} from './messages.js'
import { RateTracker, type RateTrackers } from './rate.js'
import type { RlpxConnection } from './transport.js'
import type { EthWire, WireObserver } from './wire.js'

/** What the peer needs from its pool. */
export interface PeerHooks {
  rates: RateTrackers
  maxInFlight: Record<RequestKind, number>
  onFault(peer: Devp2pPeer, fault: PeerFault, detail: string): void
  onHead(peer: Devp2pPeer, head: HeadInfo): void
}

export interface KindStats {
  requests: number
  items: number
  bytes: number
  /** Answers with no items ("don't have it"); not penalised. */
  empty: number
  timeouts: number
  /** Requests that failed otherwise (disconnect, invalid message), aborts excluded. */
  failures: number
  inFlight: number
  queued: number
  /** Items the next request will ask for. */
  capacity: number
  /** Measured items per second (undefined until measured). */
  throughput: number | undefined
}

/** Plain-object snapshot for metrics and logs. */
export interface Devp2pPeerStats {
  id: string
  address: string
  client: string
  version: EthVersion
  inbound: boolean
  head: { number: number; hash: string } | undefined
  connectedForMs: number
  score: number
  rttMs: number | undefined
  bytesPerSecond: number
  consecutiveTimeouts: number
  invalidReports: number
  lateResponses: number
  ignoredMessages: number
  servedRequests: number
  kinds: Record<RequestKind, KindStats>
}

/** A FIFO counting semaphore whose waiters honour AbortSignals and fail when the peer goes away. */
class Slots {
  active = 0
  private readonly waiters: Array<{ grant(): void; fail(err: SourceError): void }> = []

  constructor(private readonly limit: number) {}

  get queued(): number {
    return this.waiters.length
  }

  get idle(): number {
    return Math.max(0, this.limit - this.active)
  }

  acquire(kind: RequestKind, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(devp2pError(Devp2pErrorCode.Aborted, `${kind} request aborted`, { kind }))
    if (this.active < this.limit && this.waiters.length === 0) {
      this.active++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(devp2pError(Devp2pErrorCode.Aborted, `${kind} request aborted`, { kind }))
      }
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          this.active++
          resolve()
        },
        fail: (err: SourceError) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      this.waiters.push(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  release(): void {
    this.active--
    const next = this.waiters.shift()
    if (next) next.grant()
  }

  failAll(err: SourceError): void {
    for (const w of this.waiters.splice(0)) w.fail(err)
  }
}

function emptyKindStats(): Omit<KindStats, 'inFlight' | 'queued' | 'capacity' | 'throughput'> {
  return { requests: 0, items: 0, bytes: 0, empty: 0, timeouts: 0, failures: 0 }
}

export class Devp2pPeer implements SourcePeer, WireObserver {
  readonly id: string
  readonly kind = 'devp2p' as const
  readonly version: EthVersion
  readonly rates: RateTracker
  readonly connectedAt = Date.now()
  consecutiveTimeouts = 0
  invalidReports = 0
  private headInfo: HeadInfo | undefined
  private closedError: SourceError | undefined
  private readonly slots: Record<RequestKind, Slots>
  private readonly counts = { headers: emptyKindStats(), bodies: emptyKindStats(), receipts: emptyKindStats() }

  constructor(
    readonly wire: EthWire,
    private readonly hooks: PeerHooks,
  ) {
    const remoteId = wire.conn.remoteId
    if (remoteId === null) throw new RangeError('peer without a node id')
    this.id = nodeIdHex(remoteId)
    this.version = wire.version
    this.rates = new RateTracker(hooks.rates.settings)
    this.slots = {
      headers: new Slots(hooks.maxInFlight.headers),
      bodies: new Slots(hooks.maxInFlight.bodies),
      receipts: new Slots(hooks.maxInFlight.receipts),
    }
    hooks.rates.track(this.rates)
  }

  get conn(): RlpxConnection {
    return this.wire.conn
  }

  /** True as soon as the session failed or closed (the socket may still be draining). */
  get closed(): boolean {
    return this.closedError !== undefined || this.wire.closed
  }

  /** Short form for logs. */
  get label(): string {
    return `${this.id.slice(0, 8)}@${this.conn.remoteAddress}:${this.conn.remotePort}`
  }

  /**
   * Learns the peer's head block number. eth/69 Status carries it; eth/66-68 Status only has the
   * head hash, so the header is fetched by hash (and must hash to what was announced).
   */
  async init(timeoutMs: number): Promise<void> {
    const status = this.wire.remoteStatus
    if (status === undefined) throw new RangeError('peer before Status')
    this.wire.observer = this
    if (status.headNumber !== undefined) {
      this.headInfo = { number: status.headNumber, hash: status.headHash }
      if (this.wire.range) this.onRange(this.wire.range)
      return
    }
    const [raw] = await this.getHeaders({ start: status.headHash, count: 1 }, { timeoutMs })
    if (raw !== undefined) {
      const header = BlockHeader.decode(raw)
      if (!equalBytes(header.hash, status.headHash)) {
        throw devp2pError(Devp2pErrorCode.ProtocolViolation, 'head header does not hash to the Status head hash')
      }
      this.headInfo = { number: header.number, hash: status.headHash, totalDifficulty: status.totalDifficulty }
    }
    const announced = this.wire.announced
    if (announced) this.onAnnounce(announced)
  }

  head(): HeadInfo | undefined {
    return this.headInfo
  }

  onAnnounce(head: AnnouncedHead): void {
    this.raiseHead({ number: head.number, hash: head.hash, totalDifficulty: head.totalDifficulty })
  }

  onRange(range: BlockRange): void {
    this.raiseHead({ number: range.latest, hash: range.latestHash })
  }

  private raiseHead(head: HeadInfo): void {
    if (this.headInfo !== undefined && head.number <= this.headInfo.number) return
    this.headInfo = head
    this.hooks.onHead(this, head)
  }

  /** Oldest block the peer serves, where it says (eth/69). */
  earliestBlock(): number | undefined {
    return this.wire.range?.earliest
  }

  capacity(kind: RequestKind): number {
    return this.rates.capacity(kind, this.hooks.rates.targetRttMs(), this.hooks.rates.meanThroughput(kind))
  }

  idleSlots(kind: RequestKind): number {
    return this.closed ? 0 : this.slots[kind].idle
  }

  /**
   * Higher is better: useful bytes per second, discounted by latency and by recent stalls. A peer
   * that answered nothing yet ranks by latency alone.
   */
  score(): number {
    const latency = 1 / (1 + (this.rates.rttMs ?? 1000) / 1000)
    return (this.rates.bytesPerSecond + 1) * latency * 0.5 ** this.consecutiveTimeouts
  }

  getHeaders(req: HeadersRequest, opts: RequestOptions = {}): Promise<Bytes[]> {
    const count = Math.min(req.count, this.capacity('headers'))
    if (count <= 0) return Promise.resolve([])
    const query = { origin: req.start, amount: count, skip: req.skip ?? 0, reverse: req.reverse ?? false }
    return this.fetch('headers', count, (reqId) => encodeGetBlockHeaders(reqId, query), opts)
  }

  getBodies(hashes: readonly Bytes[], opts: RequestOptions = {}): Promise<Bytes[]> {
    return this.fetchByHash('bodies', hashes, opts)
  }

  getReceipts(hashes: readonly Bytes[], opts: RequestOptions = {}): Promise<Bytes[]> {
    return this.fetchByHash('receipts', hashes, opts)
  }

  private fetchByHash(kind: RequestKind, hashes: readonly Bytes[], opts: RequestOptions): Promise<Bytes[]> {
    const asked = hashes.slice(0, this.capacity(kind))
    if (asked.length === 0) return Promise.resolve([])
    return this.fetch(kind, asked.length, (reqId) => encodeHashesRequest(reqId, asked), opts)
  }

  private async fetch(kind: RequestKind, count: number, encodeFor: (reqId: bigint) => Bytes, opts: RequestOptions): Promise<Bytes[]> {
    const gone = this.closedError ?? this.wire.closeReason
    if (gone) throw gone
    await this.slots[kind].acquire(kind, opts.signal)
    const counts = this.counts[kind]
    counts.requests++
    try {
      const targetRtt = this.hooks.rates.targetRttMs()
      const timeoutMs = opts.timeoutMs ?? this.rates.timeoutMs(kind, count, targetRtt)
      const res = await this.wire.request(kind, encodeFor, count, timeoutMs, opts.signal)
      this.rates.update(kind, res.elapsedMs, res.items.length, res.bytes)
      counts.items += res.items.length
      counts.bytes += res.bytes
      if (res.items.length === 0) counts.empty++
      else this.consecutiveTimeouts = 0
      return res.items
    } catch (err) {
      if (err instanceof SourceError && err.code === Devp2pErrorCode.Timeout) {
        counts.timeouts++
        this.noteTimeout(kind)
        this.hooks.onFault(this, 'timeout', err.message)
      } else if (!(err instanceof SourceError && err.code === Devp2pErrorCode.Aborted)) {
        counts.failures++
      }
      throw err
    } finally {
      this.slots[kind].release()
    }
  }

  /** Counts a stall (from this peer's own request timeouts or a caller's report). */
  noteTimeout(kind?: RequestKind): void {
    this.consecutiveTimeouts++
    if (kind !== undefined) this.rates.timedOut(kind)
  }

  /** The connection is gone: queued requests fail, estimates stop counting in the pool's target RTT. */
  markClosed(err: SourceError): void {
    if (this.closedError) return
    this.closedError = err
    for (const kind of REQUEST_KINDS) this.slots[kind].failAll(err)
    this.hooks.rates.untrack(this.rates)
  }

  stats(): Devp2pPeerStats {
    const targetRtt = this.hooks.rates.targetRttMs()
    const kinds = {} as Record<RequestKind, KindStats>
    for (const kind of REQUEST_KINDS) {
      kinds[kind] = {
        ...this.counts[kind],
        inFlight: this.slots[kind].active,
        queued: this.slots[kind].queued,
        capacity: this.rates.capacity(kind, targetRtt, this.hooks.rates.meanThroughput(kind)),
        throughput: this.rates.measuredThroughput(kind),
      }
    }
    const head = this.headInfo
    return {
      id: this.id,
      address: `${this.conn.remoteAddress}:${this.conn.remotePort}`,
      client: this.conn.clientName,
      version: this.version,
      inbound: this.conn.inbound,
      head: head && { number: head.number, hash: bytesToHex(head.hash) },
      connectedForMs: Date.now() - this.connectedAt,
      score: this.score(),
      rttMs: this.rates.rttMs,
      bytesPerSecond: this.rates.bytesPerSecond,
      consecutiveTimeouts: this.consecutiveTimeouts,
      invalidReports: this.invalidReports,
      lateResponses: this.wire.counters.lateResponses,
      ignoredMessages: this.wire.counters.ignoredMessages,
      servedRequests: this.wire.counters.servedRequests,
      kinds,
    }
  }
}

/**
 * Request sizing from measured peer throughput, after go-ethereum's `p2p/msgrate`: each peer has a
 * moving average of items delivered per second for each request kind and of its round-trip time; a
 * request asks for `throughput x target RTT` items, so every request takes about the target RTT
 * whatever the peer's speed. On top: the spec's per-request item limits and a byte budget (servers
 * stop filling a response at ~2 MiB, so asking for more only makes them do wasted lookups).
 *
 * Differences from geth, on purpose: an empty answer ("don't have it") leaves the estimates alone
 * (geth zeroes the capacity), and a timeout halves the throughput instead of zeroing it.
 */
import type { RequestKind } from './messages.js'

export interface RateSettings {
  /** Weight of one measurement in the moving averages (geth: 0.1). */
  measurementImpact: number
  /** Requests are sized to take about the median peer RTT, clamped to this range (geth: 2-20 s). */
  targetRttMs: { min: number; max: number }
  /** Timeout = ttlScaling x the longer of the target RTT and the request's expected duration (geth: 3). */
  ttlScaling: number
  timeoutMs: { min: number; max: number }
  /** Upper bounds per request (SPEC §2: 192 headers, 128 bodies, 128 receipts). */
  maxItems: Record<RequestKind, number>
  /** Items asked of a peer before anything was measured from it or any other peer. */
  initialItems: Record<RequestKind, number>
  /** Byte budget per response (geth's soft response limit is 2 MiB). */
  softResponseBytes: number
}

export const DEFAULT_RATE_SETTINGS: RateSettings = {
  measurementImpact: 0.1,
  // 1 s rather than geth's 2 s floor: fewer bytes in flight per peer, same throughput on a LAN.
  targetRttMs: { min: 1000, max: 20_000 },
  ttlScaling: 3,
  timeoutMs: { min: 5000, max: 60_000 },
  maxItems: { headers: 192, bodies: 128, receipts: 128 },
  initialItems: { headers: 64, bodies: 16, receipts: 16 },
  softResponseBytes: 2 * 1024 * 1024,
}

/** Capacity over-estimation, so that capacity grows when a peer can do more (geth: 1.01). */
const CAPACITY_OVERESTIMATION = 1.01

function perKind<T>(make: (kind: RequestKind) => T): Record<RequestKind, T> {
  return { headers: make('headers'), bodies: make('bodies'), receipts: make('receipts') }
}

export function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v))
}

/** One peer's measured rates. */
export class RateTracker {
  /** Items per second, per kind; undefined until measured. */
  private readonly throughput: Record<RequestKind, number | undefined> = perKind(() => undefined)
  /** Mean encoded size of one item, per kind; undefined until measured. */
  private readonly itemBytes: Record<RequestKind, number | undefined> = perKind(() => undefined)
  /** Round trip of a request, any kind; undefined until measured. */
  rttMs: number | undefined
  /** Response bytes per second of request time (useful bandwidth), any kind. */
  bytesPerSecond = 0

  constructor(private readonly settings: RateSettings) {}

  private average(old: number | undefined, sample: number): number {
    const w = this.settings.measurementImpact
    return old === undefined ? sample : (1 - w) * old + w * sample
  }

  /** Records a delivered response. Empty answers carry no rate information and are skipped. */
  update(kind: RequestKind, elapsedMs: number, items: number, bytes: number): void {
    if (items === 0) return
    const seconds = Math.max(elapsedMs, 0.1) / 1000
    this.throughput[kind] = this.average(this.throughput[kind], items / seconds)
    this.itemBytes[kind] = this.average(this.itemBytes[kind], bytes / items)
    this.rttMs = this.average(this.rttMs, elapsedMs)
    this.bytesPerSecond = this.bytesPerSecond === 0 ? bytes / seconds : this.average(this.bytesPerSecond, bytes / seconds)
  }

  /** A stall: the peer is slower than we thought (or gone); ask for less next time. */
  timedOut(kind: RequestKind): void {
    const t = this.throughput[kind]
    if (t !== undefined) this.throughput[kind] = t / 2
    this.bytesPerSecond /= 2
  }

  measuredThroughput(kind: RequestKind): number | undefined {
    return this.throughput[kind]
  }

  /**
   * Items the next request of `kind` should ask for. `fallbackThroughput` (e.g. the mean of other
   * peers, as geth seeds new peers) applies until this peer has been measured.
   */
  capacity(kind: RequestKind, targetRttMs: number, fallbackThroughput?: number): number {
    const s = this.settings
    const throughput = this.throughput[kind] ?? fallbackThroughput
    let items = throughput === undefined ? s.initialItems[kind] : Math.ceil(CAPACITY_OVERESTIMATION * throughput * (targetRttMs / 1000))
    const size = this.itemBytes[kind]
    if (size !== undefined && size > 0) items = Math.min(items, Math.floor(s.softResponseBytes / size))
    return clamp(items, 1, s.maxItems[kind])
  }

  /** Timeout for a request of `items` items: a multiple of the longer of the target RTT and its expected duration. */
  timeoutMs(kind: RequestKind, items: number, targetRttMs: number): number {
    const throughput = this.throughput[kind]
    const expectedMs = throughput === undefined || throughput <= 0 ? targetRttMs : (items / throughput) * 1000
    return Math.round(clamp(this.settings.ttlScaling * Math.max(targetRttMs, expectedMs), this.settings.timeoutMs.min, this.settings.timeoutMs.max))
  }

  snapshot(): { rttMs: number | undefined; bytesPerSecond: number; throughput: Record<RequestKind, number | undefined> } {
    return { rttMs: this.rttMs, bytesPerSecond: this.bytesPerSecond, throughput: { ...this.throughput } }
  }
}

/** Pool-wide view over the peers' trackers: target RTT and seed throughput for new peers. */
export class RateTrackers {
  private readonly trackers = new Set<RateTracker>()

  constructor(readonly settings: RateSettings) {}

  track(t: RateTracker): void {
    this.trackers.add(t)
  }

  untrack(t: RateTracker): void {
    this.trackers.delete(t)
  }

  /** Median measured RTT of the tracked peers, clamped to the configured range. */
  targetRttMs(): number {
    const rtts = [...this.trackers].map((t) => t.rttMs).filter((r): r is number => r !== undefined)
    const { min, max } = this.settings.targetRttMs
    if (rtts.length === 0) return min
    rtts.sort((a, b) => a - b)
    return clamp(rtts[rtts.length >> 1], min, max)
  }

  /** Mean measured throughput of the tracked peers for `kind` (undefined if none measured). */
  meanThroughput(kind: RequestKind): number | undefined {
    let sum = 0
    let n = 0
    for (const t of this.trackers) {
      const v = t.measuredThroughput(kind)
      if (v !== undefined) {
        sum += v
        n++
      }
    }
    return n === 0 ? undefined : sum / n
  }
}

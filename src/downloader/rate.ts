/**
 * Per-source request sizing from measured throughput, after go-ethereum's msgrate tracker: each
 * source's capacity (items per second, per kind) is an exponential moving average of what it
 * delivered, and a request asks for capacity x target round-trip time items, clamped to the
 * protocol's upper bound. A new source starts small and earns larger requests.
 */
export type ItemKind = 'headers' | 'bodies' | 'receipts' | 'blocks'

/** Weight of the newest measurement; small enough to ride out one slow answer. */
const EWMA_WEIGHT = 0.2

export class RateTracker {
  private capacity = new Map<ItemKind, number>()
  private rttMs: number | undefined

  constructor(
    private readonly targetRttMs: number,
    private readonly initialItems: Record<ItemKind, number>,
  ) {}

  /** Records a delivery of `items` in `elapsedMs`. Empty answers say nothing about capacity. */
  update(kind: ItemKind, items: number, elapsedMs: number): void {
    const ms = Math.max(elapsedMs, 1)
    this.rttMs = this.rttMs === undefined ? ms : this.rttMs + EWMA_WEIGHT * (ms - this.rttMs)
    if (items === 0) return
    const measured = (items * 1000) / ms
    const prev = this.capacity.get(kind)
    this.capacity.set(kind, prev === undefined ? measured : prev + EWMA_WEIGHT * (measured - prev))
  }

  /** A timeout halves the estimate: the source was asked for more than it could deliver in time. */
  penalize(kind: ItemKind): void {
    const prev = this.capacity.get(kind)
    this.capacity.set(kind, (prev ?? (this.initialItems[kind] * 1000) / this.targetRttMs) / 2)
  }

  /** Items to ask for next, within [1, max]. */
  requestSize(kind: ItemKind, max: number): number {
    const cap = this.capacity.get(kind)
    const n = cap === undefined ? this.initialItems[kind] : Math.floor((cap * this.targetRttMs) / 1000)
    return Math.max(1, Math.min(max, n))
  }

  /** Smoothed round-trip time, for scoring; undefined before the first answer. */
  roundTripMs(): number | undefined {
    return this.rttMs
  }

  itemsPerSecond(kind: ItemKind): number {
    return this.capacity.get(kind) ?? 0
  }
}

/**
 * Progress arithmetic (SPEC §5): blocks per second over a sliding window of commits, percentage and
 * ETA. The persisted record is the store's commit record; this only computes the numbers in it.
 */
export interface ProgressSnapshot {
  startBlock: number
  currentBlock: number
  targetBlock: number
  startedAt: number
  blocksPerSecond: number
  percent: number
  /** Seconds to the target at the current speed; undefined while the speed is unknown. */
  etaSeconds: number | undefined
  totalSynced: number
}

/** Speed is measured over the last minute of commits: long enough to smooth batches, short enough to react. */
const WINDOW_MS = 60_000

export class ProgressTracker {
  private readonly samples: Array<{ at: number; block: number }> = []
  private current: number
  private synced = 0

  constructor(
    readonly startBlock: number,
    private target: number,
    readonly startedAt: number = Date.now(),
  ) {
    this.current = startBlock - 1
  }

  setTarget(target: number): void {
    this.target = target
  }

  /** Records that blocks up to `block` are committed (it may move backwards after a reorg). */
  committed(block: number, now = Date.now()): void {
    if (block > this.current) this.synced += block - this.current
    this.current = block
    this.samples.push({ at: now, block })
    while (this.samples.length > 2 && now - this.samples[0].at > WINDOW_MS) this.samples.shift()
  }

  blocksPerSecond(now = Date.now()): number {
    if (this.samples.length < 2) return 0
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    const seconds = (Math.max(now, last.at) - first.at) / 1000
    return seconds > 0 ? Math.max(0, last.block - first.block) / seconds : 0
  }

  snapshot(now = Date.now()): ProgressSnapshot {
    const speed = this.blocksPerSecond(now)
    const span = this.target - this.startBlock + 1
    const done = this.current - this.startBlock + 1
    const remaining = Math.max(0, this.target - this.current)
    return {
      startBlock: this.startBlock,
      currentBlock: this.current,
      targetBlock: this.target,
      startedAt: this.startedAt,
      blocksPerSecond: speed,
      percent: span > 0 ? Math.min(100, Math.max(0, (done / span) * 100)) : 100,
      etaSeconds: remaining === 0 ? 0 : speed > 0 ? remaining / speed : undefined,
      totalSynced: this.synced,
    }
  }
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

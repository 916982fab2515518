import { describe, expect, it } from 'vitest'
import { renderProgress } from '../../src/cli/progress-bar.js'
import { formatDuration, ProgressTracker } from '../../src/sync/progress.js'

describe('ProgressTracker', () => {
  it('computes speed over the commit window, percent and ETA', () => {
    const t = new ProgressTracker(1, 1000, 0)
    t.committed(100, 1_000)
    t.committed(300, 3_000)
    const s = t.snapshot(3_000)
    expect(s.blocksPerSecond).toBe(100)
    expect(s.percent).toBeCloseTo(30)
    expect(s.etaSeconds).toBe(7)
    expect(s.totalSynced).toBe(300)
    expect(renderProgress(s, 3)).toContain('block 300/1000')
  })

  it('forgets samples older than a minute and handles a rollback', () => {
    const t = new ProgressTracker(1, 10_000, 0)
    t.committed(100, 0)
    t.committed(200, 61_000)
    t.committed(400, 62_000)
    expect(t.snapshot(62_000).blocksPerSecond).toBe(200)
    t.committed(390, 63_000)
    expect(t.snapshot(63_000).currentBlock).toBe(390)
    expect(t.snapshot(63_000).totalSynced).toBe(400)
  })

  it('formats durations', () => {
    expect(formatDuration(undefined)).toBe('--')
    expect(formatDuration(59)).toBe('59s')
    expect(formatDuration(61)).toBe('1m01s')
    expect(formatDuration(3 * 3600 + 120)).toBe('3h02m')
  })
})

/**
 * One-line progress display for interactive terminals (stderr): blocks, rate, ETA, peers. Redrawn
 * at most a few times a second; on a non-TTY the caller uses JSON logs instead.
 */
import type { WriteStream } from 'node:tty'
import { formatDuration, type ProgressSnapshot } from '../sync/progress.js'

const REDRAW_MS = 250
const BAR_WIDTH = 24

export class ProgressBar {
  private last = 0

  constructor(private readonly stream: WriteStream) {}

  static forStderr(): ProgressBar | undefined {
    return process.stderr.isTTY ? new ProgressBar(process.stderr as WriteStream) : undefined
  }

  update(p: ProgressSnapshot, peers: number, force = false): void {
    if (p.targetBlock <= 0) return // nothing meaningful to draw before the target is known
    const now = Date.now()
    if (!force && now - this.last < REDRAW_MS) return
    this.last = now
    this.stream.cursorTo(0)
    this.stream.write(renderProgress(p, peers))
    this.stream.clearLine(1)
  }

  done(): void {
    this.stream.write('\n')
  }
}

export function renderProgress(p: ProgressSnapshot, peers: number): string {
  const filled = Math.round((p.percent / 100) * BAR_WIDTH)
  const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled)
  return `[${bar}] ${p.percent.toFixed(1)}% block ${p.currentBlock}/${p.targetBlock}  ${p.blocksPerSecond.toFixed(1)} blk/s  ETA ${formatDuration(p.etaSeconds)}  peers ${peers}`
}

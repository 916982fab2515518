import { availableParallelism, cpus, totalmem } from 'node:os'

/** The machine a figure was measured on, for JSON output and PERFORMANCE.md. */
export function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform }
}

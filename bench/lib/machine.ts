import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'

/** The machine a figure was measured on (and how busy it was), for JSON output and PERFORMANCE.md. */
export function machine() {
  const [load1, load5] = loadavg().map((l) => Math.round(l * 100) / 100)
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform, loadAvg: { load1, load5 } }
}

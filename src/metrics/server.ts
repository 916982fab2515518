/**
 * HTTP endpoint for Prometheus (`/metrics`) and liveness probes (`/health`). Binds to loopback by
 * default: metrics reveal peers and progress, so exposing them is an explicit operator choice.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SyncMetrics } from './metrics.js'

export interface HealthReport {
  running: boolean
  synced: boolean
  /** Blocks between the committed head and the target. */
  lag: number
  /** ISO time of the last committed batch, or null before the first. */
  lastProgressTime: string | null
  /** False when running but no progress for longer than the stall threshold. */
  progressing: boolean
  currentBlock: number
  targetBlock: number
}

export interface MetricsServerOptions {
  host: string
  port: number
  metrics: SyncMetrics
  health: () => HealthReport
}

export class MetricsServer {
  private server: Server | undefined

  constructor(private readonly opts: MetricsServerOptions) {}

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET') {
        res.writeHead(405).end()
      } else if (path === '/metrics') {
        this.opts.metrics.render().then(
          (body) => res.writeHead(200, { 'content-type': this.opts.metrics.registry.contentType }).end(body),
          (err: unknown) => res.writeHead(500).end(String(err)),
        )
      } else if (path === '/health') {
        const report = this.opts.health()
        const healthy = report.running && report.progressing
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report))
      } else {
        res.writeHead(404).end()
      }
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port, this.opts.host, () => resolve())
    })
    const addr = server.address() as AddressInfo
    return { host: addr.address, port: addr.port }
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** Parses `host:port` (IPv6 as `[::1]:2112`). */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value)
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) throw new RangeError(`expected HOST:PORT, got "${value}"`)
  return { host: m[1] ?? m[2], port }
}

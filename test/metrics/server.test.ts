import { afterEach, describe, expect, it } from 'vitest'
import { SPEC_METRIC_NAMES, SyncMetrics } from '../../src/metrics/metrics.js'
import { type HealthReport, MetricsServer, parseListenAddress } from '../../src/metrics/server.js'

const servers: MetricsServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop()
})

const healthy: HealthReport = { running: true, synced: false, lag: 10, lastProgressTime: new Date(0).toISOString(), progressing: true, currentBlock: 5, targetBlock: 15 }

async function serve(health: () => HealthReport, metrics = new SyncMetrics({ processMetrics: false })) {
  const server = new MetricsServer({ host: '127.0.0.1', port: 0, metrics, health })
  servers.push(server)
  const { port } = await server.start()
  return `http://127.0.0.1:${port}`
}

describe('metrics endpoint', () => {
  it('serves the 15 spec metrics without labels', async () => {
    const metrics = new SyncMetrics({ processMetrics: false })
    metrics.currentBlock.set(42)
    metrics.countError('downloader', 'TIMEOUT')
    const text = await (await fetch(`${await serve(() => healthy, metrics)}/metrics`)).text()
    for (const name of SPEC_METRIC_NAMES) expect(text).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter|histogram)$`, 'm'))
    expect(text).toMatch(/^syncer_current_block 42$/m)
    expect(text).toMatch(/^syncer_errors_total 1$/m)
    expect(text).toMatch(/^syncer_errors_by_kind_total\{component="downloader",code="TIMEOUT"\} 1$/m)
  })

  it('answers /health 200 while progressing, 503 when stalled or stopped', async () => {
    let report = healthy
    const base = await serve(() => report)
    const ok = await fetch(`${base}/health`)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual(healthy)
    report = { ...healthy, progressing: false }
    expect((await fetch(`${base}/health`)).status).toBe(503)
    report = { ...healthy, running: false }
    expect((await fetch(`${base}/health`)).status).toBe(503)
    expect((await fetch(`${base}/nothing`)).status).toBe(404)
  })

  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:2112')).toEqual({ host: '127.0.0.1', port: 2112 })
    expect(parseListenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 })
    expect(() => parseListenAddress('2112')).toThrow(/HOST:PORT/)
  })
})

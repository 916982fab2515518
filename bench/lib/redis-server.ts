/**
 * A redis-server for store benchmarks: a free 127.0.0.1 port, its own temp dir, no persistence
 * (PEERS.md: Redis stands in for Pika), readiness by PING, stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../../test/helpers/anvil.js'

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'))
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
  })
}

export class RedisServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {}

  static async start(timeoutMs = 15_000): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-redis-'))
    const port = await freePort()
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const server = new RedisServer(child, dir, `redis://127.0.0.1:${port}`)
    const deadline = Date.now() + timeoutMs
    while (!(await ping(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.close()
        throw new Error(`redis-server on port ${port} did not answer PING`)
      }
      await sleep(20)
    }
    return server
  }

  async close(): Promise<void> {
    const child = this.child
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      process.kill(child.pid, 'SIGTERM')
      await exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

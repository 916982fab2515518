/**
 * A real redis-server for tests: started on a free 127.0.0.1 port in its own temp dir, waited for
 * with PING (not with sleeps), stopped by PID. `restart` keeps port and dir, so with AOF on the data
 * survives (minus what a SIGKILL drops under `appendfsync everysec`).
 *
 *   const redis = await RedisServer.start({ aof: true })
 *   ... redis.url ...
 *   await redis.restart({ kill: true })
 *   await redis.close()          // stops the server and removes its dir
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServerOptions {
  /** AOF with `appendfsync everysec` (Redis' usual durable setting). */
  aof?: boolean
  /** Reuse this dir instead of a new temp dir (not removed by close()). */
  dir?: string
  port?: number
  /** Extra redis-server arguments, e.g. ['--requirepass', 'secret']. */
  args?: string[]
  /** How long to wait for the server to answer PING (ms). */
  startTimeoutMs?: number
  /** Serve TLS only (rediss://) on the port, with these PEM files; clients need not present a certificate. */
  tls?: { certFile: string; keyFile: string; caFile: string }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** One RESP PING; resolves true on +PONG, false on anything else (refused, -LOADING, timeout). */
function ping(port: number, password: string | undefined, tls: RedisServerOptions['tls']): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(tls.caFile) })
      : createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      const auth = password === undefined ? '' : `*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n`
      socket.write(`${auth}*1\r\n$4\r\nPING\r\n`)
    })
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('+PONG')) done(true)
      else if (reply.includes('-LOADING') || reply.includes('-ERR')) done(false)
    })
  })
}

export class RedisServer {
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'evm-syncer-redis-'))
    const server = new RedisServer(options.port ?? (await freePort()), dir, options.dir === undefined, options)
    await server.launch()
    return server
  }

  get url(): string {
    return `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== undefined
  }

  private password(): string | undefined {
    const args = this.options.args ?? []
    const i = args.indexOf('--requirepass')
    return i >= 0 ? args[i + 1] : undefined
  }

  private async launch(): Promise<void> {
    const persistence = this.options.aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']
    const tls = this.options.tls
    const listen = tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
      : ['--port', String(this.port)]
    const child = spawn(
      'redis-server',
      [
        ...listen, '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...persistence,
        '--daemonize', 'no', '--logfile', join(this.dir, 'redis.log'), ...(this.options.args ?? []),
      ],
      { stdio: 'ignore' },
    )
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    const exitedEarly = this.exited.then(() => 'exited' as const)
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 20_000)
    while (Date.now() < deadline) {
      const state = await Promise.race([ping(this.port, this.password(), this.options.tls).then((ok) => (ok ? 'up' : 'down')), exitedEarly])
      if (state === 'up') return
      if (state === 'exited') {
        this.child = undefined
        throw new Error(`redis-server exited during start:\n${this.log()}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    await this.kill()
    throw new Error(`redis-server did not answer PING on port ${this.port}:\n${this.log()}`)
  }

  /** The server's log (for failure messages). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'redis.log'), 'utf8').split('\n').slice(-20).join('\n')
    } catch {
      return '(no log)'
    }
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = undefined
    child.kill(sig)
    await this.exited
  }

  /** Graceful stop (SIGTERM): Redis flushes the AOF before exiting. */
  stop(): Promise<void> {
    return this.signal('SIGTERM')
  }

  /** SIGKILL: writes not yet fsynced to the AOF are lost. */
  kill(): Promise<void> {
    return this.signal('SIGKILL')
  }

  /** Stops (or kills) the server and starts it again on the same port and dir. */
  async restart(options: { kill?: boolean } = {}): Promise<void> {
    await (options.kill ? this.kill() : this.stop())
    await this.launch()
  }

  /** Stops the server and removes the temp dir it created. */
  async close(): Promise<void> {
    await this.stop()
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true })
  }
}

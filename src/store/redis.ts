/**
 * Redis / Pika / Kvrocks backend over one ioredis connection, restricted to the commands Pika and
 * Codis accept (GET, MGET, SET, SET NX, DEL, PING; AUTH and SELECT when configured) sent as plain
 * pipelines: no MULTI, Lua, SCAN, HELLO, CLIENT SETINFO, ready-check INFO or QUIT. A test runs the
 * store as a Redis ACL user allowed nothing else.
 *
 * Reconnects are explicit. ioredis would re-send unanswered commands after a reconnect and queue new
 * ones while offline; both could land on a restarted server that lost writes (AOF everysec drops up
 * to ~1 s) and break the write order. So neither happens here: commands fail while disconnected, each
 * reconnect bumps `epoch`, and writes carrying an older epoch are refused until the writer has
 * re-read the commit record on the new connection.
 */
import type { ConnectionOptions } from 'node:tls'
import { Redis, type RedisOptions } from 'ioredis'
import { StoreError, errorMessage } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Bytes } from '../primitives/bytes.js'
import { type KvBackend, type KvOp, opBytes } from './kv.js'

export interface RedisConfig {
  host: string
  port: number
  db: number
  username?: string
  password?: string
  /** rediss://: TLS, with these options (e.g. a private CA) if given. */
  tls: boolean | ConnectionOptions
  /** URL without credentials. */
  url: string
  connectTimeoutMs?: number
  commandTimeoutMs?: number
  logger?: Logger
}

function asBuffer(b: Bytes): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

function unavailable(url: string, err: unknown): StoreError {
  return new StoreError('STORE_UNAVAILABLE', `redis ${url}: ${errorMessage(err)}`, { retryable: true, cause: err, details: { url } })
}

/** Reconnect delay: quick at first (a restart takes ~100 ms), then at most every 2 s, forever. */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2000)
}

export class RedisKv implements KvBackend {
  readonly url: string
  /** A restarted server may have lost up to a second of acknowledged writes (AOF everysec). */
  readonly durable = false
  private readonly redis: Redis
  private generation = 0

  private constructor(config: RedisConfig) {
    this.url = config.url
    const options: RedisOptions = {
      host: config.host,
      port: config.port,
      db: config.db,
      username: config.username,
      password: config.password,
      tls: config.tls === false ? undefined : config.tls === true ? {} : config.tls,
      // Pika speaks RESP2 and has no HELLO / CLIENT SETINFO; the INFO ready check is pointless for it.
      protocol: 2,
      disableClientInfo: true,
      enableReadyCheck: false,
      // See the file comment: no silent re-sends, no offline queue.
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: reconnectDelay,
      connectTimeout: config.connectTimeoutMs ?? 5000,
      commandTimeout: config.commandTimeoutMs ?? 60_000,
      lazyConnect: true,
    }
    this.redis = new Redis(options)
    const log = config.logger
    this.redis.on('ready', () => {
      this.generation++
      if (this.generation > 1) log?.warn({ store: this.url, epoch: this.generation }, 'store reconnected')
    })
    // Without a listener ioredis would print every connection error; the callers see typed errors.
    this.redis.on('error', (err: Error) => log?.debug({ store: this.url, err: err.message }, 'store connection error'))
  }

  static async connect(config: RedisConfig): Promise<RedisKv> {
    const kv = new RedisKv(config)
    try {
      await kv.redis.connect()
      await kv.redis.ping()
    } catch (err) {
      kv.redis.disconnect()
      throw unavailable(config.url, err)
    }
    return kv
  }

  get epoch(): number {
    return this.generation
  }

  async get(key: string): Promise<Bytes | undefined> {
    try {
      return (await this.redis.getBuffer(key)) ?? undefined
    } catch (err) {
      throw unavailable(this.url, err)
    }
  }

  async getMany(keys: readonly string[]): Promise<Array<Bytes | undefined>> {
    if (keys.length === 0) return []
    try {
      const values = await this.redis.mgetBuffer(...keys)
      return values.map((v) => v ?? undefined)
    } catch (err) {
      throw unavailable(this.url, err)
    }
  }

  async apply(ops: readonly KvOp[], epoch?: number): Promise<void> {
    if (ops.length === 0) return
    // Checked synchronously right before the pipeline is handed to the socket: either all of it goes
    // to the connection whose epoch the caller verified, or none of it is sent.
    if (this.redis.status !== 'ready' || (epoch !== undefined && epoch !== this.generation)) {
      throw new StoreError('STORE_RECONNECTED', `redis ${this.url}: connection changed since the commit record was read`, {
        retryable: true,
        details: { url: this.url, expectedEpoch: epoch, epoch: this.generation, status: this.redis.status },
      })
    }
    const pipeline = this.redis.pipeline()
    for (const op of ops) {
      if (op.kind === 'put') pipeline.set(op.key, asBuffer(op.value))
      else pipeline.del(op.key)
    }
    let results: Array<[Error | null, unknown]> | null
    try {
      results = await pipeline.exec()
    } catch (err) {
      throw unavailable(this.url, err)
    }
    const failed = results?.find(([err]) => err !== null)
    if (results === null || failed) {
      const cause = failed?.[0] ?? new Error('pipeline returned no results')
      throw new StoreError('STORE_WRITE_FAILED', `redis ${this.url}: write failed: ${errorMessage(cause)}`, {
        retryable: true,
        cause,
        details: { url: this.url, ops: ops.length, bytes: ops.reduce((n, op) => n + opBytes(op), 0) },
      })
    }
  }

  async putIfAbsent(key: string, value: Bytes): Promise<boolean> {
    try {
      return (await this.redis.set(key, asBuffer(value), 'NX')) === 'OK'
    } catch (err) {
      throw unavailable(this.url, err)
    }
  }

  /** Drops the connection (every write was awaited already; QUIT is not in Pika's safe subset). */
  async close(): Promise<void> {
    this.redis.disconnect()
  }
}

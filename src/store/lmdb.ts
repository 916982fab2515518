/**
 * Embedded LMDB backend (npm `lmdb`). One environment, one database, string keys, raw byte values.
 * Every `apply` is one LMDB transaction, so a batch is all or nothing; readers in other processes
 * (get, verify, status) see committed transactions only.
 *
 * Locks: LMDB's writer mutex is a robust process-shared mutex and reader slots record their pid, so
 * a process killed with SIGKILL leaves nothing that blocks the next writer or reader (the SIGKILL
 * test in test/store shows it); stale reader slots are cleared on open.
 *
 * One environment per directory per process: a writable open runs a synchronous write transaction,
 * which deadlocks the process if another environment on the same files has an asynchronous write in
 * flight (its writer thread holds the lock and waits for this thread). Opens of the same directory
 * therefore share one environment, closed when its last user closes it. A read-only environment
 * never writes, so a writer may still open next to one.
 *
 * lmdb-js 3.5's `transaction(callback)` hangs on this platform; `batch(callback)` runs the same
 * writes as one transaction without the cross-thread callback, so it is used instead.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs'
import { type RootDatabase, open } from 'lmdb'
import { StoreError, errorMessage } from '../errors.js'
import type { Bytes } from '../primitives/bytes.js'
import type { KvBackend, KvOp } from './kv.js'

export interface LmdbConfig {
  dir: string
  url: string
  readOnly: boolean
}

function failed(url: string, what: string, err: unknown): StoreError {
  return new StoreError('STORE_WRITE_FAILED', `lmdb ${url}: ${what}: ${errorMessage(err)}`, { cause: err, details: { url } })
}

interface SharedEnv {
  db: RootDatabase<Buffer, string>
  users: number
  readOnly: boolean
}

/** Open environments by real path; a writable one serves readers too. */
const environments = new Map<string, SharedEnv[]>()

function acquire(config: LmdbConfig): SharedEnv {
  const path = realpathSync(config.dir)
  const open_ = environments.get(path) ?? []
  const shared = open_.find((e) => !e.readOnly) ?? (config.readOnly ? open_[0] : undefined)
  if (shared) {
    shared.users++
    return shared
  }
  let db: RootDatabase<Buffer, string>
  try {
    // noSubdir: false, or lmdb-js takes a directory whose name has a dot for a file name.
    db = open<Buffer, string>({ path, noSubdir: false, encoding: 'binary', compression: false, readOnly: config.readOnly })
  } catch (err) {
    throw new StoreError('STORE_UNAVAILABLE', `lmdb ${config.url}: cannot open: ${errorMessage(err)}`, { cause: err, details: { url: config.url } })
  }
  // Reader slots of killed processes would pin old pages; free them now.
  db.readerCheck()
  const env: SharedEnv = { db, users: 1, readOnly: config.readOnly }
  environments.set(path, [...open_, env])
  return env
}

async function release(env: SharedEnv): Promise<void> {
  if (--env.users > 0) return
  for (const [path, list] of environments) {
    const rest = list.filter((e) => e !== env)
    if (rest.length === list.length) continue
    if (rest.length > 0) environments.set(path, rest)
    else environments.delete(path)
  }
  await env.db.close()
}

export class LmdbKv implements KvBackend {
  readonly epoch = 0
  readonly durable = true
  private readonly db: RootDatabase<Buffer, string>
  private closed = false

  private constructor(
    readonly url: string,
    private readonly env: SharedEnv,
  ) {
    this.db = env.db
  }

  static open(config: LmdbConfig): LmdbKv {
    if (config.readOnly && !existsSync(config.dir)) {
      throw new StoreError('STORE_NOT_FOUND', `lmdb ${config.url}: no store at ${config.dir}`, { details: { url: config.url } })
    }
    if (!config.readOnly) mkdirSync(config.dir, { recursive: true })
    return new LmdbKv(config.url, acquire(config))
  }

  async get(key: string): Promise<Bytes | undefined> {
    // Another process may have committed since our last read: read the newest snapshot.
    this.db.resetReadTxn()
    return this.db.get(key)
  }

  async getMany(keys: readonly string[]): Promise<Array<Bytes | undefined>> {
    this.db.resetReadTxn()
    return keys.map((k) => this.db.get(k))
  }

  async apply(ops: readonly KvOp[]): Promise<void> {
    if (ops.length === 0) return
    try {
      await this.db.batch(() => {
        for (const op of ops) {
          if (op.kind === 'put') void this.db.put(op.key, op.value as Buffer)
          else void this.db.remove(op.key)
        }
      })
    } catch (err) {
      throw failed(this.url, 'write failed', err)
    }
  }

  async putIfAbsent(key: string, value: Bytes): Promise<boolean> {
    try {
      return await this.db.ifNoExists(key, () => void this.db.put(key, value as Buffer))
    } catch (err) {
      throw failed(this.url, 'write failed', err)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await release(this.env)
  }
}

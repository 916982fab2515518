/**
 * Opens a store from its URL:
 *   redis://[user:password@]host:port[/db]   Redis, Pika, Kvrocks (pika:// is an alias)
 *   rediss://...                             the same over TLS
 *   lmdb:DIR                                 embedded LMDB in directory DIR (default lmdb:./data)
 * A `?prefix=P` query puts every key behind P (several chains in one Redis). The backend modules
 * are imported on demand, so a command using LMDB never loads ioredis and vice versa.
 */
import type { ConnectionOptions } from 'node:tls'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logger.js'
import { BlockStore, type BlockStoreOptions } from './block-store.js'
import type { KvBackend } from './kv.js'
import { StoreKeys } from './keys.js'
import type { ChainIdentity, Store } from './types.js'

export { DEFAULT_STORE_URL } from './defaults.js'

export type StoreLocation =
  | { kind: 'redis'; host: string; port: number; db: number; username?: string; password?: string; tls: boolean; prefix: string; display: string }
  | { kind: 'lmdb'; dir: string; prefix: string; display: string }

export interface OpenStoreOptions extends BlockStoreOptions {
  /** Key prefix; overrides the URL's `?prefix=`. */
  prefix?: string
  /** Readers (get, verify, status): LMDB opens read-only and a missing store is an error. */
  readOnly?: boolean
  logger?: Logger
  connectTimeoutMs?: number
  commandTimeoutMs?: number
  /** TLS options for rediss:// (e.g. `ca` for a private CA; NODE_EXTRA_CA_CERTS works too). */
  tls?: ConnectionOptions
  /**
   * The chain this process syncs: recorded on first open; opening a store of another chain fails
   * with STORE_CHAIN_MISMATCH (see Store.claimChain).
   */
  chain?: ChainIdentity
  acceptForkConfigChange?: boolean
}

function badUrl(url: string, why: string): ConfigError {
  return new ConfigError('STORE_BAD_URL', `invalid store URL "${url}": ${why} (expected redis://host:port[/db], pika://..., rediss://... or lmdb:DIR)`, {
    details: { url },
  })
}

function splitPrefix(rest: string): { path: string; prefix: string } {
  const q = rest.indexOf('?')
  if (q < 0) return { path: rest, prefix: '' }
  const params = new URLSearchParams(rest.slice(q + 1))
  return { path: rest.slice(0, q), prefix: params.get('prefix') ?? '' }
}

export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('lmdb:')) {
    const { path, prefix } = splitPrefix(url.slice('lmdb:'.length))
    const dir = path.startsWith('//') ? path.slice(2) : path
    if (dir === '') throw badUrl(url, 'no directory')
    return { kind: 'lmdb', dir, prefix, display: url }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw badUrl(url, 'not a URL')
  }
  const scheme = parsed.protocol.slice(0, -1)
  if (scheme !== 'redis' && scheme !== 'rediss' && scheme !== 'pika') throw badUrl(url, `unknown scheme ${scheme}`)
  if (parsed.hostname === '') throw badUrl(url, 'no host')
  const port = parsed.port === '' ? 6379 : Number(parsed.port)
  const dbText = parsed.pathname.replace(/^\//, '')
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw badUrl(url, `database "${dbText}" is not a number`)
  const prefix = parsed.searchParams.get('prefix') ?? ''
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username)
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password)
  parsed.password = ''
  parsed.username = ''
  return {
    kind: 'redis',
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: dbText === '' ? 0 : Number(dbText),
    // redis:// carries an optional user before the password; a lone "user" is Redis 5's password form.
    username: password === undefined ? undefined : username,
    password: password ?? username,
    tls: scheme === 'rediss',
    prefix,
    display: parsed.toString(),
  }
}

/** The raw key-value backend behind a URL (the Store is built on it; tests wrap it to inject faults). */
export async function openBackend(location: StoreLocation, options: OpenStoreOptions = {}): Promise<KvBackend> {
  if (location.kind === 'lmdb') {
    const { LmdbKv } = await import('./lmdb.js')
    return LmdbKv.open({ dir: location.dir, url: location.display, readOnly: options.readOnly ?? false })
  }
  const { RedisKv } = await import('./redis.js')
  return RedisKv.connect({
    ...location,
    tls: location.tls && (options.tls ?? true),
    url: location.display,
    logger: options.logger,
    connectTimeoutMs: options.connectTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs,
  })
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url)
  const kv = await openBackend(location, options)
  const store = new BlockStore(kv, new StoreKeys(options.prefix ?? location.prefix), options)
  if (options.chain) {
    try {
      await store.claimChain(options.chain, { acceptForkConfigChange: options.acceptForkConfigChange })
    } catch (err) {
      await store.close()
      throw err
    }
  }
  return store
}

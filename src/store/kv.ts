/**
 * The little a backend has to provide: point reads, multi-reads, an ordered list of writes, and one
 * set-if-absent. Crash safety is built on top (block-store.ts) from the order of the writes alone,
 * so the same logic holds on Redis, Pika, Kvrocks, Codis and LMDB.
 */
import type { Bytes } from '../primitives/bytes.js'

export type KvOp = { readonly kind: 'put'; readonly key: string; readonly value: Bytes } | { readonly kind: 'del'; readonly key: string }

export interface KvBackend {
  /** URL without credentials. */
  readonly url: string
  /** Connection generation; see Store.epoch. */
  readonly epoch: number
  /** See Store.durable. */
  readonly durable: boolean
  get(key: string): Promise<Bytes | undefined>
  getMany(keys: readonly string[]): Promise<Array<Bytes | undefined>>
  /**
   * Applies `ops` in order: the backend never reorders them, and a crash leaves a prefix of them
   * applied (LMDB: all or nothing, one transaction; Redis: one pipeline on one connection). With
   * `epoch`, refuses (STORE_RECONNECTED, retryable) unless the connection is still that generation.
   */
  apply(ops: readonly KvOp[], epoch?: number): Promise<void>
  /** Sets `key` unless it exists; true if it was set. */
  putIfAbsent(key: string, value: Bytes): Promise<boolean>
  close(): Promise<void>
}

/** Bytes a write list sends (values plus keys), for pipeline byte budgets. */
export function opBytes(op: KvOp): number {
  return op.key.length + (op.kind === 'put' ? op.value.length : 0)
}

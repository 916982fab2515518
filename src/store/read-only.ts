/**
 * What the read-only commands (get, verify, status) share: open the store read-only (LMDB readers
 * never block a sync writing the same store), run, close, and turn failures into exit codes and one
 * line on stderr: 2 for a bad URL or argument, 1 for anything else (store missing, unreachable, corrupt).
 */
import { ConfigError, errorMessage } from '../errors.js'
import { openStore } from './open.js'
import type { Store } from './types.js'

export const READ_EXIT = { ok: 0, failure: 1, usage: 2 } as const

export interface ReadOnlyOptions {
  store: string
  prefix?: string
}

export async function withReadOnlyStore(options: ReadOnlyOptions, run: (store: Store) => Promise<number>): Promise<number> {
  let store: Store | undefined
  try {
    store = await openStore(options.store, { readOnly: true, prefix: options.prefix, connectTimeoutMs: 5_000 })
    return await run(store)
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n`)
    return err instanceof ConfigError ? READ_EXIT.usage : READ_EXIT.failure
  } finally {
    await store?.close().catch(() => undefined)
  }
}

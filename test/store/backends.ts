/**
 * The two real backends every store test runs against: a redis-server started for the test on a free
 * loopback port, and LMDB in a temp dir. Each `start()` gives a fresh, empty store location.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProgressFields } from '../../src/store/types.js'
import { RedisServer } from '../helpers/redis.js'

export interface StoreLocation {
  url: string
  /** The redis-server behind the URL (undefined for LMDB). */
  redis?: RedisServer
  cleanup(): Promise<void>
}

export interface Backend {
  name: 'lmdb' | 'redis'
  start(options?: { aof?: boolean }): Promise<StoreLocation>
}

export const BACKENDS: Backend[] = [
  {
    name: 'lmdb',
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-lmdb-'))
      return { url: `lmdb:${dir}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: 'redis',
    async start(options = {}) {
      const redis = await RedisServer.start({ aof: options.aof })
      return { url: redis.url, redis, cleanup: () => redis.close() }
    },
  },
]

/** Commit-record fields for direct store writes in tests. */
export function fields(overrides: Partial<ProgressFields> = {}): ProgressFields {
  return {
    targetBlock: 0,
    startBlock: 0,
    startTime: 0,
    speed: 0,
    reorgCount: 0,
    lastReorgDepth: 0,
    totalSynced: 0,
    updatedAt: 0,
    headersOnly: false,
    ...overrides,
  }
}

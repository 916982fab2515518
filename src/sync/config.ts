/**
 * Sync configuration (SPEC "Configuration") plus what the pipeline stages need. Every default has
 * its reason next to it; `validateSyncConfig` turns bad values into one-line ConfigErrors.
 */
import { availableParallelism } from 'node:os'
import { ConfigError } from '../errors.js'

export type SyncMode = 'full' | 'headers-only'

export interface SyncConfig {
  mode: SyncMode
  /** First block to sync; 0 = genesis. A saved checkpoint of the same chain inside the range wins. */
  startBlock: number
  /** Last block to sync (inclusive); 0 = the best source's head at start. */
  targetBlock: number
  /** Keep following the head after reaching the target. */
  follow: boolean
  /** Blocks per store commit (SPEC default 100). */
  batchSize: number
  /** Blocks between "checkpoint" progress log lines; progress itself is committed every batch. */
  checkpointInterval: number
  /** Concurrent source requests (SPEC default 50). */
  workerCount: number
  /** Validation worker threads; default: one per core, the main thread keeps the network busy. */
  validationThreads: number
  /** Recover every transaction's sender during validation (costs ~4x CPU). */
  recoverSenders: boolean
  /** Reorg window when sources offer no finalized block; undefined = the chain adapter's default. */
  finalityDepth: number | undefined
  /** Memory budget for blocks held by the pipeline (download window + validation + write buffer). */
  memoryBudgetBytes: number
  /** No committed progress for this long = stalled: log why, re-plan, rotate peers; /health -> 503. */
  stallTimeoutMs: number
  /** Writer flushes a partial batch after this long (SPEC: 5 s). */
  batchTimeoutMs: number
  /** Writer buffer in blocks (SPEC: 500 requests) — backpressure beyond it. */
  writeBufferBlocks: number
}

export function defaultSyncConfig(): SyncConfig {
  return {
    mode: 'full',
    startBlock: 0,
    targetBlock: 0,
    follow: false,
    batchSize: 100,
    checkpointInterval: 1000,
    workerCount: 50,
    validationThreads: Math.max(1, availableParallelism() - 1),
    recoverSenders: false,
    finalityDepth: undefined,
    // Fits the whole process in ~1 GiB RSS: the window dominates, the rest is code and caches.
    memoryBudgetBytes: 512 * 1024 * 1024,
    stallTimeoutMs: 120_000,
    batchTimeoutMs: 5_000,
    writeBufferBlocks: 500,
  }
}

function check(ok: boolean, key: string, message: string): void {
  if (!ok) throw new ConfigError('BAD_CONFIG', `${key}: ${message}`, { details: { key } })
}

const isCount = (v: number, min = 0) => Number.isSafeInteger(v) && v >= min

export function validateSyncConfig(c: SyncConfig): SyncConfig {
  check(c.mode === 'full' || c.mode === 'headers-only', 'mode', `must be "full" or "headers-only", got "${c.mode}"`)
  check(isCount(c.startBlock), 'startBlock', `must be a block number >= 0, got ${c.startBlock}`)
  check(isCount(c.targetBlock), 'targetBlock', `must be a block number >= 0 (0 = auto), got ${c.targetBlock}`)
  check(c.targetBlock === 0 || c.targetBlock >= c.startBlock, 'targetBlock', `${c.targetBlock} is below startBlock ${c.startBlock}`)
  check(isCount(c.batchSize, 1) && c.batchSize <= 10_000, 'batchSize', `must be 1..10000, got ${c.batchSize}`)
  check(isCount(c.checkpointInterval, 1), 'checkpointInterval', `must be >= 1, got ${c.checkpointInterval}`)
  check(isCount(c.workerCount, 1) && c.workerCount <= 1024, 'workerCount', `must be 1..1024, got ${c.workerCount}`)
  check(isCount(c.validationThreads, 0) && c.validationThreads <= 256, 'validationThreads', `must be 0..256, got ${c.validationThreads}`)
  check(c.finalityDepth === undefined || isCount(c.finalityDepth, 1), 'finalityDepth', `must be >= 1, got ${c.finalityDepth}`)
  check(isCount(c.memoryBudgetBytes, 16 * 1024 * 1024), 'memoryBudgetBytes', 'must be at least 16 MiB')
  check(isCount(c.stallTimeoutMs, 1_000), 'stallTimeoutMs', `must be >= 1000 ms, got ${c.stallTimeoutMs}`)
  check(isCount(c.batchTimeoutMs, 1), 'batchTimeoutMs', `must be >= 1 ms, got ${c.batchTimeoutMs}`)
  check(isCount(c.writeBufferBlocks, 1), 'writeBufferBlocks', `must be >= 1, got ${c.writeBufferBlocks}`)
  return c
}

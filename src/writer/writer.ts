/**
 * The Writer (SPEC §4): the only holder of the store handle. Verified blocks go into a bounded
 * buffer (the producer waits when it is full), leave it in batches of `batchSize` blocks (or fewer
 * after `batchTimeoutMs`, or when `maxBatchBytes` is reached), and are written one batch at a time
 * while the next batch is assembled and prepared (receipts converted to eth/69).
 *
 * Blocks arrive in chain order. A block at or below the writer's tip is either one it already holds
 * (skipped: re-sending after a restart is harmless) or the first block of a new branch: the store is
 * rewound to the block's parent and the branch written on top. Anything else (a gap, a block that does
 * not link) is a caller bug and stops the writer with STORE_NOT_LINKED.
 *
 * Failures: retryable store errors are retried with backoff; before every retry, and whenever the
 * connection was re-established, the writer re-reads the commit record. If the store lost
 * acknowledged writes (a restarted Redis with AOF everysec drops up to ~1 s), the writer rewrites
 * them from a window of recently committed blocks it keeps for non-durable stores. Half-written
 * batches above the commit record are dropped first. Errors that retrying cannot fix stop the writer;
 * `write`, `flush`, `rewindTo` and `close` then reject with that typed error.
 */
import { StoreError, SyncerError, errorMessage } from '../errors.js'
import { type Logger, silentLogger } from '../logger.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import { withStoredReceipts } from '../store/block-store.js'
import type { Head, ProgressFields, Store, SyncProgress, VerifiedBlock } from '../store/types.js'

export interface WriterOptions {
  /** Blocks per batch (SPEC: 100). */
  batchSize?: number
  /** The sync stores the verified header chain only (blocks come without body and receipts). */
  headersOnly?: boolean
  /** A partial batch is written after this long (SPEC: 5 s). */
  batchTimeoutMs?: number
  /** Requests the buffer holds before `write` waits (SPEC: 500). */
  bufferSize?: number
  /** Bytes the buffer holds before `write` waits. */
  maxBufferBytes?: number
  /** Bytes per batch; the store splits pipelines further at its own limit. */
  maxBatchBytes?: number
  /** Attempts per store operation before its error is surfaced. */
  maxAttempts?: number
  retryDelayMs?: number
  maxRetryDelayMs?: number
  /** Recently committed blocks kept to rewrite what a non-durable store (Redis) loses on a crash. */
  redoWindowBlocks?: number
  redoWindowBytes?: number
  targetBlock?: number
  logger?: Logger
  /** Aborting stops retrying (the writer fails with the abort reason). */
  signal?: AbortSignal
  onBatch?: (event: BatchEvent) => void
  onReorg?: (event: ReorgEvent) => void
}

export interface BatchEvent {
  blocks: number
  bytes: number
  /** From the start of the first attempt to the store's acknowledgement. */
  durationMs: number
  attempts: number
  head: Head
  progress: ProgressFields
}

export interface ReorgEvent {
  ancestor: Head
  /** Blocks unwound. */
  depth: number
  reorgCount: number
}

/** Plain counters for the metrics module. */
export interface WriterStats {
  blocksWritten: number
  batchesWritten: number
  bytesWritten: number
  retries: number
  reorgs: number
  blocksUnwound: number
  /** Blocks skipped because the store already held them. */
  duplicatesSkipped: number
  /** Blocks rewritten because the store had lost them. */
  blocksRedone: number
  tailBlocksDropped: number
  lastBatchDurationMs: number
  totalWriteDurationMs: number
  queuedBlocks: number
  queuedBytes: number
  committedHead: number | undefined
}

export const WRITER_DEFAULTS = {
  batchSize: 100,
  batchTimeoutMs: 5_000,
  bufferSize: 500,
  // 500 mainnet blocks are ~75 MB; the byte bound only bites on unusually large blocks.
  maxBufferBytes: 256 * 1024 * 1024,
  maxBatchBytes: 32 * 1024 * 1024,
  // ~25 s of backoff in total: long enough for a Redis restart, short enough to surface a dead store.
  maxAttempts: 10,
  retryDelayMs: 100,
  maxRetryDelayMs: 5_000,
  // AOF everysec loses at most ~1-2 s of writes: a few hundred blocks at validation speed.
  redoWindowBlocks: 2_000,
  redoWindowBytes: 256 * 1024 * 1024,
} as const

const SPEED_WINDOW_MS = 30_000

type Entry =
  | { kind: 'block'; block: VerifiedBlock; bytes: number }
  | { kind: 'rewind'; ancestor: number; done: Deferred<Head> }
  | { kind: 'flush'; done: Deferred<void> }

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(err: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined) // rejections are delivered to whoever awaits; never unhandled
  return { promise, resolve, reject }
}

function blockBytes(b: VerifiedBlock): number {
  return b.header.length + (b.body?.length ?? 0) + (b.receipts?.length ?? 0)
}

function sameHead(a: Head | undefined, b: Head | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.number === b.number && equalBytes(a.hash, b.hash)
}

function headOf(p: SyncProgress | undefined): Head | undefined {
  return p && { number: p.currentBlock, hash: p.lastHash }
}

function notLinked(message: string, block: VerifiedBlock, tip: Head | undefined): StoreError {
  return new StoreError('STORE_NOT_LINKED', message, {
    details: { number: block.number, hash: bytesToHex(block.hash), parentHash: bytesToHex(block.parentHash), tip: tip?.number, tipHash: tip && bytesToHex(tip.hash) },
  })
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export class BlockWriter {
  private readonly opts: Required<Omit<WriterOptions, 'targetBlock' | 'logger' | 'signal' | 'onBatch' | 'onReorg'>>
  private readonly log: Logger
  private readonly signal: AbortSignal | undefined

  // buffer
  private readonly queue: Entry[] = []
  private queuedBytes = 0
  private wakeConsumer: (() => void) | undefined
  private spaceWaiters: Array<() => void> = []

  // batch being assembled, and the one being written
  private batch: VerifiedBlock[] = []
  private batchBytes = 0
  private batchDeadline = 0
  private inflight: Promise<void> | undefined

  /** The last block handed to a batch (the chain the writer is building). */
  private tip: Head | undefined
  /** What the store acknowledged last. */
  private committed: Head | undefined
  /** The epoch on which the commit record was last checked against `committed`. */
  private verifiedEpoch: number | undefined
  private readonly window: VerifiedBlock[] = []
  private windowBytes = 0

  // commit record fields
  private firstBlock: number | undefined
  private targetBlock: number
  private startBlock: number | undefined
  private readonly startTime = Date.now()
  /** (time, blocks written) samples of the last SPEED_WINDOW_MS, for the speed in the commit record. */
  private readonly speedSamples: Array<{ time: number; blocks: number }>
  private reorgCount: number
  private lastReorgDepth: number
  private totalSynced: number

  private readonly stats: WriterStats = {
    blocksWritten: 0,
    batchesWritten: 0,
    bytesWritten: 0,
    retries: 0,
    reorgs: 0,
    blocksUnwound: 0,
    duplicatesSkipped: 0,
    blocksRedone: 0,
    tailBlocksDropped: 0,
    lastBatchDurationMs: 0,
    totalWriteDurationMs: 0,
    queuedBlocks: 0,
    queuedBytes: 0,
    committedHead: undefined,
  }

  private failure: SyncerError | undefined
  private closing = false
  private readonly loop: Promise<void>

  private constructor(
    private readonly store: Store,
    progress: SyncProgress | undefined,
    private readonly options: WriterOptions,
  ) {
    this.opts = { ...WRITER_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as BlockWriter['opts']
    this.log = options.logger ?? silentLogger()
    this.signal = options.signal
    this.committed = headOf(progress)
    this.tip = this.committed
    this.stats.committedHead = this.committed?.number
    this.firstBlock = progress?.firstBlock
    this.targetBlock = Math.max(options.targetBlock ?? 0, progress?.targetBlock ?? 0)
    this.startBlock = progress && progress.currentBlock + 1
    this.reorgCount = progress?.reorgCount ?? 0
    this.lastReorgDepth = progress?.lastReorgDepth ?? 0
    this.totalSynced = progress?.totalSynced ?? 0
    this.speedSamples = [{ time: this.startTime, blocks: this.totalSynced }]
    this.loop = this.run()
  }

  /**
   * Starts a writer on `store`: reads the commit record and drops a half-written batch above it
   * (left by a crash), so the store is consistent before the first write.
   */
  static async open(store: Store, options: WriterOptions = {}): Promise<BlockWriter> {
    const writer = new BlockWriter(store, await store.progress(), options)
    try {
      await writer.withRetries('open', async () => undefined)
    } catch (err) {
      await writer.close().catch(() => undefined)
      throw err
    }
    return writer
  }

  /** The head the store has acknowledged. */
  head(): Head | undefined {
    return this.committed
  }

  metrics(): WriterStats {
    return { ...this.stats, queuedBlocks: this.queue.filter((e) => e.kind === 'block').length, queuedBytes: this.queuedBytes }
  }

  setTarget(targetBlock: number): void {
    this.targetBlock = targetBlock
  }

  /** Queues a verified block; waits while the buffer is full (backpressure). */
  async write(block: VerifiedBlock): Promise<void> {
    const bytes = blockBytes(block)
    await this.enqueue({ kind: 'block', block, bytes }, bytes)
  }

  /** Unwinds the store to `ancestor` after everything queued before; resolves with the new head. */
  async rewindTo(ancestor: number): Promise<Head> {
    const done = deferred<Head>()
    await this.enqueue({ kind: 'rewind', ancestor, done }, 0)
    return done.promise
  }

  /** Resolves once everything queued before it is committed. */
  async flush(): Promise<void> {
    const done = deferred<void>()
    await this.enqueue({ kind: 'flush', done }, 0)
    return done.promise
  }

  /** Stops accepting blocks, writes everything queued, and stops. Does not close the store. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true
      // The final flush goes in even when the buffer is full: it only marks the end of the queue.
      this.queue.push({ kind: 'flush', done: deferred<void>() })
      this.wakeConsumer?.()
    }
    await this.loop
    if (this.failure) throw this.failure
  }

  private async enqueue(entry: Entry, bytes: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure
      if (this.closing) throw new StoreError('WRITER_CLOSED', 'the writer is closed')
      const full = this.queue.length >= this.opts.bufferSize || (this.queue.length > 0 && this.queuedBytes + bytes > this.opts.maxBufferBytes)
      if (!full) break
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
    }
    this.queue.push(entry)
    this.queuedBytes += bytes
    this.wakeConsumer?.()
  }

  /** The next entry, or undefined when the partial batch's deadline passes first. */
  private async next(): Promise<Entry | undefined> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure
      const wait = this.batch.length > 0 ? this.batchDeadline - Date.now() : Infinity
      if (wait <= 0) return undefined
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(wait) ? setTimeout(resolve, wait) : undefined
        this.wakeConsumer = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wakeConsumer = undefined
    }
    const entry = this.queue.shift()!
    if (entry.kind === 'block') this.queuedBytes -= entry.bytes
    const waiters = this.spaceWaiters
    this.spaceWaiters = []
    for (const w of waiters) w()
    return entry
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.closing && this.queue.length === 0) break
        const entry = await this.next()
        if (entry === undefined) {
          await this.dispatch()
        } else if (entry.kind === 'block') {
          await this.accept(entry.block, entry.bytes)
        } else {
          try {
            await this.drain()
            if (entry.kind === 'rewind') entry.done.resolve(await this.requestedRewind(entry.ancestor))
            else entry.done.resolve()
          } catch (err) {
            entry.done.reject(err)
            // A rewind the store refuses (above the head, below its first block) fails that request only.
            if (!(err instanceof StoreError && err.code === 'STORE_BAD_REWIND')) throw err
          }
        }
      }
      await this.drain()
    } catch (err) {
      this.fail(err)
    }
  }

  private fail(err: unknown): void {
    this.failure ??=
      err instanceof SyncerError ? err : new StoreError('WRITER_FAILED', `writer failed: ${errorMessage(err)}`, { cause: err })
    this.log.error({ err: this.failure.toJSON() }, 'writer stopped')
    for (const entry of this.queue.splice(0)) if (entry.kind !== 'block') entry.done.reject(this.failure)
    this.queuedBytes = 0
    for (const w of this.spaceWaiters.splice(0)) w()
    this.wakeConsumer?.()
  }

  private async accept(block: VerifiedBlock, bytes: number): Promise<void> {
    const tip = this.tip
    if (tip && block.number <= tip.number) {
      await this.drain()
      const [canonical] = await this.withRetries('read canonical hash', () => this.store.canonicalHashes(block.number, block.number))
      if (canonical && equalBytes(canonical, block.hash)) {
        this.stats.duplicatesSkipped++
        return
      }
      const ancestor = await this.rewind(block.number - 1)
      if (!equalBytes(block.parentHash, ancestor.hash)) throw notLinked(`block ${block.number} does not link to the stored block ${ancestor.number}`, block, ancestor)
    } else if (tip && (block.number !== tip.number + 1 || !equalBytes(block.parentHash, tip.hash))) {
      await this.drain() // the blocks before the bad one are fine: keep them
      throw notLinked(`block ${block.number} does not extend the writer's tip ${tip.number}`, block, tip)
    }
    if (this.batch.length > 0 && this.batchBytes + bytes > this.opts.maxBatchBytes) await this.dispatch()
    if (this.batch.length === 0) this.batchDeadline = Date.now() + this.opts.batchTimeoutMs
    this.startBlock ??= block.number
    this.batch.push(block)
    this.batchBytes += bytes
    this.tip = { number: block.number, hash: block.hash }
    if (this.batch.length >= this.opts.batchSize || this.batchBytes >= this.opts.maxBatchBytes) await this.dispatch()
  }

  /** Writes the assembled batch after the previous one, without waiting for it to be acknowledged. */
  private async dispatch(): Promise<void> {
    if (this.batch.length === 0) return
    // Prepare while the previous batch is still being written.
    const blocks = this.batch.map(withStoredReceipts)
    const bytes = this.batchBytes
    this.batch = []
    this.batchBytes = 0
    await this.inflight
    const write = this.commit(blocks, bytes)
    this.inflight = write
    // Stop at once rather than at the next dispatch; drain/dispatch also see the rejection.
    write.catch((err: unknown) => this.fail(err))
  }

  /** Waits until everything handed to the store is acknowledged. */
  private async drain(): Promise<void> {
    await this.dispatch()
    await this.inflight
  }

  private async commit(blocks: VerifiedBlock[], bytes: number): Promise<void> {
    const started = Date.now()
    const last = blocks[blocks.length - 1]
    let attempts = 0
    let progress: ProgressFields | undefined
    const head = await this.withRetries(
      `write blocks ${blocks[0].number}-${last.number}`,
      async (epoch) => {
        attempts++
        progress = this.progressFields(blocks.length, 0)
        return this.store.writeBatch(blocks, progress, { epoch })
      },
      { number: last.number, hash: last.hash },
    )
    const durationMs = Date.now() - started
    this.totalSynced += blocks.length
    this.firstBlock ??= blocks[0].number
    this.remember(blocks, bytes)
    Object.assign(this.stats, {
      blocksWritten: this.stats.blocksWritten + blocks.length,
      batchesWritten: this.stats.batchesWritten + 1,
      bytesWritten: this.stats.bytesWritten + bytes,
      lastBatchDurationMs: durationMs,
      totalWriteDurationMs: this.stats.totalWriteDurationMs + durationMs,
    })
    this.log.debug({ from: blocks[0].number, to: last.number, bytes, durationMs, attempts }, 'batch committed')
    this.options.onBatch?.({ blocks: blocks.length, bytes, durationMs, attempts, head, progress: progress ?? this.progressFields(0, 0) })
  }

  /** `rewindTo`: the committed head itself is a no-op, anything else a rewind. */
  private async requestedRewind(ancestor: number): Promise<Head> {
    return this.committed?.number === ancestor ? this.committed : this.rewind(ancestor)
  }

  /** Rewinds the store to `ancestor` (the writer must be drained). */
  private async rewind(ancestor: number): Promise<Head> {
    const from = this.committed?.number ?? ancestor
    const depth = Math.max(0, from - ancestor)
    const target = await this.hashAt(ancestor)
    const head = await this.withRetries(`rewind to ${ancestor}`, (epoch) => this.store.rewind(ancestor, this.progressFields(0, depth), { epoch }), target)
    this.committed = head
    this.stats.committedHead = head.number
    this.reorgCount++
    this.lastReorgDepth = depth
    this.tip = head
    while (this.window.length > 0 && this.window[this.window.length - 1].number > ancestor) this.forgetLast()
    this.stats.reorgs++
    this.stats.blocksUnwound += depth
    this.log.warn({ ancestor, depth, reorgCount: this.reorgCount }, 'store rewound (reorg)')
    this.options.onReorg?.({ ancestor: head, depth, reorgCount: this.reorgCount })
    return head
  }

  /** The committed hash at `n` (for n = firstBlock - 1, the first block's parent), if known. */
  private async hashAt(n: number): Promise<Head | undefined> {
    const inWindow = this.window.find((b) => b.number === n + 1)
    if (inWindow) return { number: n, hash: inWindow.parentHash }
    const [hash] = await this.withRetries('read canonical hash', () => this.store.canonicalHashes(n, n))
    return hash && { number: n, hash }
  }

  /** Blocks per second over the last SPEED_WINDOW_MS (steady enough for an ETA, quick to follow changes). */
  private speed(now: number, blocks: number): number {
    const samples = this.speedSamples
    samples.push({ time: now, blocks })
    while (samples.length > 2 && now - samples[1].time >= SPEED_WINDOW_MS) samples.shift()
    const oldest = samples[0]
    return (blocks - oldest.blocks) / Math.max((now - oldest.time) / 1000, 0.001)
  }

  private progressFields(newBlocks: number, rewindDepth: number): ProgressFields {
    const now = Date.now()
    const head = (this.committed?.number ?? 0) + newBlocks
    return {
      targetBlock: Math.max(this.targetBlock, head),
      startBlock: this.startBlock ?? head,
      startTime: this.startTime,
      speed: this.speed(now, this.totalSynced + newBlocks),
      reorgCount: this.reorgCount + (rewindDepth > 0 ? 1 : 0),
      lastReorgDepth: rewindDepth > 0 ? rewindDepth : this.lastReorgDepth,
      totalSynced: this.totalSynced + newBlocks,
      updatedAt: now,
      headersOnly: this.options.headersOnly ?? false,
    }
  }

  /** Keeps committed blocks for a redo after a non-durable store loses writes. */
  private remember(blocks: VerifiedBlock[], bytes: number): void {
    if (this.store.durable) return
    this.window.push(...blocks)
    this.windowBytes += bytes
    while (this.window.length > this.opts.redoWindowBlocks || (this.window.length > 1 && this.windowBytes > this.opts.redoWindowBytes)) {
      this.windowBytes -= blockBytes(this.window.shift()!)
    }
  }

  private forgetLast(): void {
    this.windowBytes -= blockBytes(this.window.pop()!)
  }

  /**
   * Runs a store operation; on a retryable error, waits, re-checks the store (`reconcile`) and tries
   * again. `target` is the head the operation produces: if a failed attempt did land, the re-check
   * finds the store there and the operation is not repeated.
   */
  private async withRetries<T>(what: string, op: (epoch: number) => Promise<T>, target?: Head): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.verifiedEpoch !== this.store.epoch) {
          const epoch = this.store.epoch
          const landed = await this.reconcile(epoch, target)
          this.verifiedEpoch = epoch
          if (landed) return target as T
        }
        const result = await op(this.verifiedEpoch!)
        if (target) {
          this.committed = target
          this.stats.committedHead = target.number
        }
        return result
      } catch (err) {
        const retryable = err instanceof SyncerError && err.retryable
        if (!retryable || attempt >= this.opts.maxAttempts || this.signal?.aborted) {
          if (!retryable) throw err
          throw new StoreError('STORE_WRITE_FAILED', `${what}: still failing after ${attempt} attempts: ${errorMessage(err)}`, {
            cause: err,
            details: { attempts: attempt, store: this.store.url },
          })
        }
        this.stats.retries++
        this.verifiedEpoch = undefined
        const delay = Math.min(this.opts.retryDelayMs * 2 ** (attempt - 1), this.opts.maxRetryDelayMs)
        this.log.warn({ what, attempt, delayMs: delay, err: err.toJSON() }, 'store operation failed; retrying')
        await sleep(delay, this.signal)
      }
    }
  }

  /**
   * Brings the store back to what the writer knows it acknowledged. Returns true when the store
   * already holds `target` (the operation being retried had landed).
   */
  private async reconcile(epoch: number, target: Head | undefined): Promise<boolean> {
    const progress = await this.store.progress()
    const stored = headOf(progress)
    const repair = async () => {
      const { dropped } = await this.store.repairTail({ epoch })
      if (dropped.length > 0) {
        this.stats.tailBlocksDropped += dropped.length
        this.log.warn({ from: dropped[0], to: dropped[dropped.length - 1] }, 'dropped a half-written batch above the commit record')
      }
    }
    if (target && stored && sameHead(stored, target)) {
      await repair()
      this.committed = target
      return true
    }
    if (sameHead(stored, this.committed)) {
      await repair()
      return false
    }
    await this.redo(stored, epoch)
    await repair()
    return false
  }

  /** The store is behind the writer's acknowledged head: rewrite the lost blocks from the window. */
  private async redo(stored: Head | undefined, epoch: number): Promise<void> {
    const committed = this.committed
    const lost = (why: string) =>
      new StoreError('STORE_LOST_WRITES', `the store lost acknowledged writes and ${why}; restart the sync from the store's head`, {
        details: { storeHead: stored?.number, writerHead: committed?.number, windowFrom: this.window[0]?.number },
      })
    if (!committed || (stored && stored.number > committed.number)) {
      throw new StoreError('STORE_CONFLICT', 'the store is ahead of this writer: is another writer using it?', {
        details: { storeHead: stored?.number, writerHead: committed?.number },
      })
    }
    if (this.window.length === 0) throw lost('this store keeps no redo window')
    // The highest block both agree on: the store's head or below, the window's first parent or above.
    const windowParent = this.window[0].number - 1
    const top = Math.min(stored?.number ?? windowParent, committed.number)
    const ours = (n: number): Bytes | undefined => (n === windowParent ? this.window[0].parentHash : this.window[n - this.window[0].number]?.hash)
    let ancestor: number | undefined
    if (stored === undefined) {
      // Everything is gone: only a window that starts at the store's first block can rebuild it.
      if (this.window[0].number === this.firstBlock) ancestor = windowParent
    } else if (top >= windowParent) {
      const theirs = await this.store.canonicalHashes(windowParent, top)
      for (let n = top; n >= windowParent && ancestor === undefined; n--) {
        const t = n === stored.number ? stored.hash : theirs[n - windowParent]
        const o = ours(n)
        if (t && o && equalBytes(t, o)) ancestor = n
      }
    }
    if (ancestor === undefined) throw lost(`the redo window (from block ${this.window[0].number}) does not reach back to it`)
    this.log.warn({ storeHead: stored?.number, writerHead: committed.number, ancestor }, 'store lost acknowledged writes; rewriting them')
    await this.store.repairTail({ epoch })
    if (stored && ancestor < stored.number) await this.store.rewind(ancestor, this.progressFields(0, 0), { epoch })
    const redo = this.window.filter((b) => b.number > ancestor)
    for (let i = 0; i < redo.length; i += this.opts.batchSize) {
      await this.store.writeBatch(redo.slice(i, i + this.opts.batchSize), this.progressFields(0, 0), { epoch })
    }
    this.stats.blocksRedone += redo.length
  }
}

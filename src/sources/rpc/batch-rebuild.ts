/**
 * The common case of a block batch, as one pure function of the response bytes: every call
 * answered, every block there with its receipts, no uncles (or a batch of header-only answers).
 * Then tokenizing, matching and the whole rebuild need nothing but the bytes, so they can run on a
 * worker thread: the response's buffer is moved to the worker and the rebuilt blocks come back in
 * one moved buffer, leaving the main thread only HTTP. Anything else (an error or a null answer, a
 * block with uncles, a malformed field) is declined and handled by the endpoint on its own thread,
 * where errors are reported and ommers fetched: the batch is then tokenized again there, which only
 * unusual answers pay.
 */
import { availableParallelism } from 'node:os'
import type { Bytes } from '../../primitives/bytes.js'
import { taskRef, withTransfer, WorkerPool, type WithTransfer, type WorkerPoolOptions } from '../../validator/pool.js'
import type { RawBlock } from '../types.js'
import { RpcError, RpcErrorCode } from './errors.js'
import { readNumber } from './hex-tape.js'
import { JsonKind } from './json-tape.js'
import { BlockBatchWriter, blocksFromMarks } from './rebuild.js'
import { outcomesOf, type RawResponse } from './transport.js'

export interface BlockBatchRequest {
  /** Block numbers asked for, in call order (each followed by its eth_getBlockReceipts call when `withReceipts`). */
  numbers: readonly number[]
  withReceipts: boolean
  verifyTxHashes: boolean
  /** Header-only answers (`eth_getBlockByNumber(n, false)`): only the headers are rebuilt; bodies come out empty. */
  headersOnly?: boolean
}

/** A batch rebuilt in full: every block's parts in one buffer (see `blocksFromMarks`). */
export interface RebuiltBatch {
  bytes: Uint8Array
  marks: readonly number[]
  /** The last block, for the endpoint's head. */
  last: { number: number; hash: Bytes }
}

/** The batch rebuilt, or undefined when it is not the common case or anything fails (nothing thrown: the endpoint decides). */
export function rebuildBlockBatch(raw: RawResponse, req: BlockBatchRequest): RebuiltBatch | undefined {
  try {
    // Everything below is synchronous: the thread's reusable token arrays will do.
    const outcomes = outcomesOf(raw, true)
    const stride = req.withReceipts ? 2 : 1
    if (outcomes.length !== req.numbers.length * stride || !outcomes.every((o) => o.ok && !o.tape.isMissing(o.result))) return undefined
    const batch = new BlockBatchWriter()
    let last: RebuiltBatch['last'] | undefined
    for (let i = 0; i < req.numbers.length; i++) {
      const block = outcomes[i * stride]
      const receipts = req.withReceipts ? outcomes[i * stride + 1] : undefined
      if (!block.ok || (receipts && !receipts.ok)) return undefined
      const { tape, result } = block
      if (tape.kinds[result] !== JsonKind.Object || readNumber(tape, tape.get(result, 'number'), 'number') !== req.numbers[i]) return undefined
      const uncles = tape.get(result, 'uncles')
      if (!req.headersOnly && uncles >= 0 && tape.kinds[uncles] === JsonKind.Array && tape.length(uncles) > 0) return undefined
      if (receipts && receipts.tape.kinds[receipts.result] !== JsonKind.Array) return undefined
      const { hash } = req.headersOnly ? batch.addHeader(tape, result) : batch.add(tape, result, { receipts: receipts?.result, verifyTxHashes: req.verifyTxHashes })
      last = { number: req.numbers[i], hash }
    }
    if (last === undefined) return undefined
    const { bytes, marks } = batch.finishPacked()
    return { bytes, marks, last }
  } catch {
    // The endpoint's step-by-step path meets the same problem and reports it (on its own thread).
    return undefined
  }
}

// -- on worker threads ----------------------------------------------------------------------------

interface BatchTask {
  bytes: ArrayBuffer
  calls: RawResponse['calls']
  firstId: number
  req: BlockBatchRequest
}

type BatchTaskResult = { rebuilt: RebuiltBatch } | { declined: ArrayBuffer }

/** Worker task: the batch rebuilt (its buffer moved back), or the response's bytes moved back to the caller. */
export function rebuildBlockBatchTask(task: BatchTask): WithTransfer<BatchTaskResult> {
  const rebuilt = rebuildBlockBatch({ calls: task.calls, firstId: task.firstId, bytes: Buffer.from(task.bytes) }, task.req)
  if (rebuilt) return withTransfer({ rebuilt }, [rebuilt.bytes.buffer as ArrayBuffer])
  return withTransfer({ declined: task.bytes }, [task.bytes])
}

const REBUILD_TASK = taskRef<BatchTask, BatchTaskResult>(new URL(import.meta.url), 'rebuildBlockBatchTask')

/**
 * Worker threads for rebuilding by default: one where there is a core to spare, else none. On 2
 * cores (with the one validation thread) this took the sync from ~320 to ~370 blocks/s; a second
 * validation thread instead does as well, both at once no better (PERFORMANCE.md).
 */
export function defaultRebuildThreads(): number {
  return availableParallelism() > 1 ? 1 : 0
}

/**
 * Responses below this size (a few headers, e.g. the genesis header a devp2p sync asks JSON-RPC for)
 * are rebuilt on the calling thread: a worker would cost more to start (~60 ms of CPU) and to reach.
 */
const INLINE_REBUILD_BYTES = 16 * 1024

/**
 * Rebuilds block batches on `threads` worker threads (0: on the calling thread), shared by the
 * endpoints of a pool. The threads start with the first batch too large to rebuild inline.
 */
export class BlockRebuilder {
  private workers: WorkerPool | undefined
  private closed = false

  constructor(
    private readonly threads: number,
    private readonly poolOptions: Omit<WorkerPoolOptions, 'size'> = {},
  ) {}

  /**
   * The batch's blocks when it is the common case; otherwise the response (whose bytes may have
   * made a round trip to a worker) for the endpoint to handle.
   */
  async rebuild(raw: RawResponse, req: BlockBatchRequest): Promise<{ blocks: RawBlock[]; last: RebuiltBatch['last'] } | { declined: RawResponse }> {
    if (this.threads === 0 || this.closed || raw.bytes.length < INLINE_REBUILD_BYTES) {
      const rebuilt = rebuildBlockBatch(raw, req)
      return rebuilt ? { blocks: blocksFromMarks(rebuilt.bytes, rebuilt.marks), last: rebuilt.last } : { declined: raw }
    }
    // Moved, not copied; a body sharing Node's small-buffer pool is copied out first.
    const own = raw.bytes.byteOffset === 0 && raw.bytes.byteLength === raw.bytes.buffer.byteLength
    const bytes = (own ? raw.bytes.buffer : raw.bytes.buffer.slice(raw.bytes.byteOffset, raw.bytes.byteOffset + raw.bytes.byteLength)) as ArrayBuffer
    this.workers ??= new WorkerPool({ ...this.poolOptions, size: this.threads })
    let result: BatchTaskResult
    try {
      result = await this.workers.run(REBUILD_TASK, { bytes, calls: raw.calls, firstId: raw.firstId, req }, [bytes])
    } catch (err) {
      // The response went with the worker; the request is repeated, the endpoint is not to blame.
      throw new RpcError(RpcErrorCode.RebuildFailed, `rebuild worker failed: ${(err as Error).message}`, { retryable: true, cause: err })
    }
    if ('declined' in result) return { declined: { ...raw, bytes: Buffer.from(result.declined) } }
    const { rebuilt } = result
    return { blocks: blocksFromMarks(rebuilt.bytes, rebuilt.marks), last: rebuilt.last }
  }

  /** Stops the threads; batches still coming are rebuilt on the calling thread. */
  close(): Promise<void> {
    this.closed = true
    return this.workers?.close() ?? Promise.resolve()
  }
}

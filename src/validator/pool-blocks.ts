/**
 * Block validation off the main thread. A batch of raw blocks (header, body, optional receipts and
 * parent header, plus a structured-clone-able context such as the fork rules' inputs) is packed
 * into ONE ArrayBuffer that is moved to a worker; the worker runs a per-block validator function,
 * named by module URL and export, over zero-copy views, and moves back one buffer with every
 * recovered sender. Which validator runs is the caller's choice: this module's body + receipts
 * validator by default, the full `validateBlock` once header rules compose it.
 */
import type { BlobParams, Hardfork } from '../chain/forks.js'
import { rulesAt } from '../chain/forks.js'
import { DecodeError, ValidationError } from '../errors.js'
import { BlockBody } from '../primitives/body.js'
import { type Bytes, concatBytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { encodeReceiptsEth69, type Receipt } from '../primitives/receipt.js'
import { BodyErrorCode, validateBody } from './body.js'
import { type TaskRef, type WithTransfer, WorkerPool, type WorkerPoolOptions, importFunction, taskRef, withTransfer } from './pool.js'
import { decodeAndValidateReceipts } from './receipts.js'
import { recoverSenders } from './senders.js'

/** One block as received, with what its validator needs to know about the chain. */
export interface RawBlock<Context> {
  header: Bytes
  /** rlp([txs, ommers, withdrawals?]) */
  body: Bytes
  /** The block's receipt list (eth/68 or eth/69 form); omitted when not fetched. */
  receipts?: Bytes
  /** The parent's header, for rules that compare against it. */
  parentHeader?: Bytes
  context: Context
}

export interface BlockValidationOptions {
  recoverSenders: boolean
}

export interface BlockCheck {
  errors: ValidationError[]
  /** Present when senders were recovered and every transaction had one. */
  senders?: Bytes[]
  /**
   * The receipts re-encoded in the store's compact eth/69 form, when they validated and came in the
   * eth/68 form (the conversion runs here, on the validation thread, not on the writer's).
   */
  storedReceipts?: Bytes
  /** The receipts validated and came in the store's eth/69 form already (nothing to convert). */
  receiptsEth69?: true
}

/** What a per-block validator run by the pool must look like. */
export type BlockValidatorFn<Context> = (block: RawBlock<Context>, opts: BlockValidationOptions) => BlockCheck | Promise<BlockCheck>

export const BLOCK_MALFORMED = 'BLOCK_MALFORMED'

/** Context of the default validator: the chain id and the fork in force at this block. */
export interface ForkContext {
  chainId: bigint
  fork: Hardfork
  /** The chain's blob parameters at this block (blob schedules differ per chain and fork). */
  blob?: BlobParams
}

/**
 * Default per-block validator: decodes header and body and runs every body and receipt rule
 * (header rules are not part of it). Never throws for bad bytes.
 */
export function validateBodyAndReceipts(block: RawBlock<ForkContext>, opts: BlockValidationOptions): BlockCheck {
  const rules = rulesAt(block.context.chainId, block.context.fork, block.context.blob)
  let header: BlockHeader
  let body: BlockBody
  try {
    header = BlockHeader.decode(block.header)
    body = BlockBody.decode(block.body)
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    return { errors: [new ValidationError(BLOCK_MALFORMED, `malformed block: ${err.message}`, { details: { decodeCode: err.code }, cause: err })] }
  }
  const errors = validateBody(header, body, rules, opts)
  let receipts: Receipt[] | undefined
  if (block.receipts !== undefined) {
    // validateBody reported an undecodable transaction list; without it receipts cannot be matched.
    const txs = errors.some((e) => e.code === BodyErrorCode.Malformed) ? undefined : body.transactions()
    if (txs) {
      const checked = decodeAndValidateReceipts(header, block.receipts, txs.length, { rules, txTypes: txs.map((t) => t.type) })
      errors.push(...checked.errors)
      receipts = checked.receipts
    }
  }
  if (errors.length > 0) return { errors }
  const check: BlockCheck = { errors }
  if (opts.recoverSenders) {
    const senders = recoverSenders(body)
    if (senders) check.senders = senders
  }
  if (receipts?.some((r) => r.encoding !== 'eth69')) check.storedReceipts = encodeReceiptsEth69(receipts)
  else if (receipts) check.receiptsEth69 = true
  return check
}

// ---------------------------------------------------------------------------------------------
// Wire format between threads.

/** A batch as it travels to a worker: all bytes in one buffer, lengths alongside. */
export interface PackedBlocks<Context> {
  buffer: ArrayBuffer
  /** Per block: header, body, receipts, parentHeader lengths; -1 = absent. */
  lengths: Int32Array
  contexts: Context[]
  validator: { module: string; export: string }
  recoverSenders: boolean
}

export interface SerializedError {
  code: string
  message: string
  details?: Record<string, unknown>
}

export interface PackedResults {
  errors: SerializedError[][]
  /** Per block: number of senders in `senders` (-1 = not recovered). */
  senderCounts: Int32Array
  /** 20 bytes per sender, all blocks in order. */
  senders: ArrayBuffer
  /** Per block: length of its re-encoded receipts in `storedReceipts` (NO_RECEIPTS, RECEIPTS_ETH69: none). */
  storedReceiptLengths: Int32Array
  storedReceipts: ArrayBuffer
}

const FIELDS = 4
/** `storedReceiptLengths` entries that carry no bytes: no receipts checked, or already in eth/69 form. */
const NO_RECEIPTS = -1
const RECEIPTS_ETH69 = -2

export function packBlocks<Context>(
  blocks: readonly RawBlock<Context>[],
  validator: TaskRef<RawBlock<Context>, BlockCheck>,
  opts: BlockValidationOptions,
): PackedBlocks<Context> {
  const lengths = new Int32Array(blocks.length * FIELDS)
  let total = 0
  blocks.forEach((b, i) => {
    const parts = [b.header, b.body, b.receipts, b.parentHeader]
    for (let f = 0; f < FIELDS; f++) {
      const len = parts[f]?.length ?? -1
      lengths[i * FIELDS + f] = len
      total += Math.max(len, 0)
    }
  })
  const out = new Uint8Array(total)
  let pos = 0
  for (const b of blocks) {
    for (const part of [b.header, b.body, b.receipts, b.parentHeader]) {
      if (!part) continue
      out.set(part, pos)
      pos += part.length
    }
  }
  return {
    buffer: out.buffer,
    lengths,
    contexts: blocks.map((b) => b.context),
    validator: { module: validator.module, export: validator.export },
    recoverSenders: opts.recoverSenders,
  }
}

export function unpackBlocks<Context>(packed: PackedBlocks<Context>): RawBlock<Context>[] {
  const bytes = new Uint8Array(packed.buffer)
  const blocks: RawBlock<Context>[] = []
  let pos = 0
  const take = (len: number): Bytes | undefined => {
    if (len < 0) return undefined
    const view = bytes.subarray(pos, pos + len)
    pos += len
    return view
  }
  for (let i = 0; i < packed.contexts.length; i++) {
    const at = i * FIELDS
    const header = take(packed.lengths[at])!
    const body = take(packed.lengths[at + 1])!
    const receipts = take(packed.lengths[at + 2])
    const parentHeader = take(packed.lengths[at + 3])
    const block: RawBlock<Context> = { header, body, context: packed.contexts[i] }
    if (receipts) block.receipts = receipts
    if (parentHeader) block.parentHeader = parentHeader
    blocks.push(block)
  }
  return blocks
}

function serializeError(e: ValidationError): SerializedError {
  return e.details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details: e.details }
}

function packResults(checks: readonly BlockCheck[]): WithTransfer<PackedResults> {
  const senderCounts = new Int32Array(checks.length)
  let total = 0
  checks.forEach((c, i) => {
    senderCounts[i] = c.senders ? c.senders.length : -1
    total += c.senders?.length ?? 0
  })
  const senders = new Uint8Array(total * 20)
  let pos = 0
  for (const c of checks) {
    for (const s of c.senders ?? []) {
      senders.set(s, pos)
      pos += 20
    }
  }
  const storedReceiptLengths = Int32Array.from(checks, (c) => c.storedReceipts?.length ?? (c.receiptsEth69 ? RECEIPTS_ETH69 : NO_RECEIPTS))
  // A fresh allocation of its own: its buffer can be moved whole.
  const stored = concatBytes(...checks.flatMap((c) => (c.storedReceipts ? [c.storedReceipts] : []))).buffer as ArrayBuffer
  const errors = checks.map((c) => c.errors.map(serializeError))
  return withTransfer({ errors, senderCounts, senders: senders.buffer, storedReceiptLengths, storedReceipts: stored }, [senders.buffer, stored])
}

/** Worker task: validates every block of a packed batch with the batch's validator. */
export async function validatePackedBlocks(packed: PackedBlocks<unknown>): Promise<WithTransfer<PackedResults>> {
  const validate = await importFunction<BlockValidatorFn<unknown>>(packed.validator)
  const opts = { recoverSenders: packed.recoverSenders }
  const checks: BlockCheck[] = []
  for (const block of unpackBlocks(packed)) checks.push(await validate(block, opts))
  return packResults(checks)
}

export function unpackResults(results: PackedResults): BlockCheck[] {
  const senders = new Uint8Array(results.senders)
  const stored = new Uint8Array(results.storedReceipts)
  let pos = 0
  let storedPos = 0
  return results.errors.map((errs, i) => {
    const check: BlockCheck = { errors: errs.map((e) => new ValidationError(e.code, e.message, e.details === undefined ? {} : { details: e.details })) }
    const count = results.senderCounts[i]
    if (count >= 0) {
      const list: Bytes[] = []
      for (let k = 0; k < count; k++, pos += 20) list.push(senders.subarray(pos, pos + 20))
      check.senders = list
    }
    const length = results.storedReceiptLengths[i]
    if (length >= 0) {
      check.storedReceipts = stored.subarray(storedPos, storedPos + length)
      storedPos += length
    } else if (length === RECEIPTS_ETH69) check.receiptsEth69 = true
    return check
  })
}

// ---------------------------------------------------------------------------------------------

export const VALIDATE_PACKED_BLOCKS = taskRef<PackedBlocks<unknown>, PackedResults>(new URL('./pool-blocks.js', import.meta.url), 'validatePackedBlocks')
export const BODY_AND_RECEIPTS_VALIDATOR = taskRef<RawBlock<ForkContext>, BlockCheck>(new URL('./pool-blocks.js', import.meta.url), 'validateBodyAndReceipts')

/**
 * Validates batches of blocks on a WorkerPool. `validator` names the per-block function the workers
 * run (default: body and receipt rules); it must be a `BlockValidatorFn` exported by an ES module.
 */
export class BlockValidationPool<Context = ForkContext> {
  readonly pool: WorkerPool

  constructor(
    private readonly validator: TaskRef<RawBlock<Context>, BlockCheck> = BODY_AND_RECEIPTS_VALIDATOR as unknown as TaskRef<RawBlock<Context>, BlockCheck>,
    options: WorkerPoolOptions = {},
  ) {
    this.pool = new WorkerPool({ preload: [VALIDATE_PACKED_BLOCKS, validator], ...options })
  }

  /** Results in the order of `blocks`. The caller keeps its byte arrays: they are copied into one buffer. */
  async validate(blocks: readonly RawBlock<Context>[], opts: BlockValidationOptions): Promise<BlockCheck[]> {
    if (blocks.length === 0) return []
    const packed = packBlocks(blocks, this.validator, opts)
    const results = await this.pool.run(VALIDATE_PACKED_BLOCKS, packed as PackedBlocks<unknown>, [packed.buffer])
    return unpackResults(results)
  }

  close(): Promise<void> {
    return this.pool.close()
  }
}

/**
 * Receipt validation against the header: count, receipts root, blooms, gas accounting and the
 * status/post-state form of the fork. Blooms are always computed from the logs (never trusted from
 * the wire); eth/69 receipts have their consensus encoding rebuilt with the computed bloom, eth/68
 * receipts are hashed as received and their bloom compared with the computed one.
 */
import type { ForkRules } from '../chain/forks.js'
import { DecodeError, ValidationError } from '../errors.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import type { BlockHeader } from '../primitives/header.js'
import { BLOOM_BYTES, bloomOrWords, decodeBlockReceipts, type Receipt, sharedBloomCache } from '../primitives/receipt.js'
import { orderedTrieRoot } from '../primitives/trie.js'

export const ReceiptErrorCode = {
  /** The receipt list or a receipt's logs do not decode. */
  Malformed: 'RECEIPTS_MALFORMED',
  CountMismatch: 'RECEIPTS_COUNT_MISMATCH',
  RootMismatch: 'RECEIPTS_ROOT_MISMATCH',
  /** An eth/68 receipt's bloom differs from the bloom of its logs. */
  ReceiptBloomMismatch: 'RECEIPT_BLOOM_MISMATCH',
  /** The header's logsBloom differs from the OR of the receipts' blooms. */
  LogsBloomMismatch: 'RECEIPTS_LOGS_BLOOM_MISMATCH',
  GasUsedMismatch: 'RECEIPTS_GAS_USED_MISMATCH',
  CumulativeGasDecreasing: 'RECEIPT_CUMULATIVE_GAS_DECREASING',
  TypeMismatch: 'RECEIPT_TYPE_MISMATCH',
  /** A post-state root after Byzantium, or a status before it (EIP-658). */
  StatusForm: 'RECEIPT_STATUS_FORM',
} as const

export interface ReceiptValidationOptions {
  /** Enables the status-vs-post-state rule (EIP-658 from Byzantium). */
  rules?: ForkRules
  /** The block's transaction types in order; each receipt's type must match. */
  txTypes?: readonly number[]
}

function atReceipt(index: number, code: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): ValidationError {
  return new ValidationError(code, `receipt ${index}: ${message}`, { details: { ...details, receiptIndex: index }, cause })
}

function checkForm(receipts: readonly Receipt[], opts: ReceiptValidationOptions, out: ValidationError[]): void {
  const byzantium = opts.rules?.isActive('byzantium')
  const txTypes = opts.txTypes
  let previous = 0n
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i]
    if (r.cumulativeGasUsed < previous) {
      out.push(
        atReceipt(i, ReceiptErrorCode.CumulativeGasDecreasing, `cumulativeGasUsed ${r.cumulativeGasUsed} is below the previous ${previous}`, {
          cumulativeGasUsed: r.cumulativeGasUsed.toString(),
          previous: previous.toString(),
        }),
      )
    }
    previous = r.cumulativeGasUsed
    if (txTypes !== undefined && i < txTypes.length && txTypes[i] !== r.type) {
      out.push(atReceipt(i, ReceiptErrorCode.TypeMismatch, `receipt type ${r.type} differs from transaction type ${txTypes[i]}`))
    }
    if (byzantium !== undefined && r.hasStatus !== byzantium) {
      const want = byzantium ? 'a status (EIP-658)' : 'a post-state root'
      out.push(atReceipt(i, ReceiptErrorCode.StatusForm, `expected ${want} at ${opts.rules?.fork}`))
    }
  }
}

/**
 * Every receipt rule against the header. Returns all errors found (empty = valid). `txCount` is the
 * number of transactions in the block's body.
 */
export function validateReceipts(header: BlockHeader, receipts: readonly Receipt[], txCount: number, opts: ReceiptValidationOptions = {}): ValidationError[] {
  const out: ValidationError[] = []
  if (receipts.length !== txCount) {
    out.push(new ValidationError(ReceiptErrorCode.CountMismatch, `${receipts.length} receipts for ${txCount} transactions`))
  }
  checkForm(receipts, opts, out)

  const blockBloom = new Uint8Array(BLOOM_BYTES)
  // One buffer for every receipt's bloom in turn, one for the block's built trie values (eth/69):
  // a buffer each would be ~300 backing-store allocations per block.
  const bloom = new Uint8Array(BLOOM_BYTES)
  const blockBloomWords = new Uint32Array(blockBloom.buffer)
  const bloomWords = new Uint32Array(bloom.buffer)
  let builtBytes = 0
  for (const r of receipts) builtBytes += r.builtEncodingSize()
  const built = new Uint8Array(builtBytes)
  let builtAt = 0
  const values: Bytes[] = []
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i]
    try {
      r.computeBloom(sharedBloomCache, bloom)
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      out.push(atReceipt(i, ReceiptErrorCode.Malformed, `malformed logs: ${err.message}`, { decodeCode: err.code }, err))
      continue
    }
    if (r.receivedBloom !== undefined && !equalBytes(r.receivedBloom, bloom)) {
      out.push(atReceipt(i, ReceiptErrorCode.ReceiptBloomMismatch, 'bloom differs from the bloom of its logs'))
    }
    bloomOrWords(blockBloomWords, bloomWords)
    if (r.builtEncodingSize() === 0) values.push(r.consensusEncoding())
    else {
      const end = r.writeConsensusEncoding(built, builtAt, bloom)
      values.push(built.subarray(builtAt, end))
      builtAt = end
    }
  }
  if (values.length === receipts.length) {
    const root = orderedTrieRoot(values)
    if (!equalBytes(root, header.receiptsRoot)) {
      out.push(new ValidationError(ReceiptErrorCode.RootMismatch, 'receipts root mismatch', { details: { expected: bytesToHex(header.receiptsRoot), actual: bytesToHex(root) } }))
    }
  }
  if (!equalBytes(blockBloom, header.logsBloom)) {
    out.push(new ValidationError(ReceiptErrorCode.LogsBloomMismatch, 'header logsBloom differs from the OR of the receipt blooms'))
  }
  const gasUsed = receipts.length === 0 ? 0n : receipts[receipts.length - 1].cumulativeGasUsed
  if (gasUsed !== header.gasUsed) {
    out.push(
      new ValidationError(ReceiptErrorCode.GasUsedMismatch, `header gasUsed ${header.gasUsed} differs from the last cumulativeGasUsed ${gasUsed}`, {
        details: { header: header.gasUsed.toString(), receipts: gasUsed.toString() },
      }),
    )
  }
  return out
}

/**
 * Decodes a block's receipt list (eth/68 or eth/69 form, detected per receipt) and validates it.
 * Malformed bytes become a RECEIPTS_MALFORMED error instead of a throw.
 */
export function validateRawReceipts(header: BlockHeader, raw: Bytes, txCount: number, opts: ReceiptValidationOptions = {}): ValidationError[] {
  return decodeAndValidateReceipts(header, raw, txCount, opts).errors
}

/** `validateRawReceipts`, also handing out the decoded receipts (when they decode). */
export function decodeAndValidateReceipts(
  header: BlockHeader,
  raw: Bytes,
  txCount: number,
  opts: ReceiptValidationOptions = {},
): { errors: ValidationError[]; receipts?: Receipt[] } {
  let receipts: Receipt[]
  try {
    // Loose enough to still report a count mismatch, tight enough to bound allocation.
    receipts = decodeBlockReceipts(raw, txCount * 2 + 1)
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    return { errors: [new ValidationError(ReceiptErrorCode.Malformed, `malformed receipts: ${err.message}`, { details: { decodeCode: err.code }, cause: err })] }
  }
  return { errors: validateReceipts(header, receipts, txCount, opts), receipts }
}

/**
 * Body validation: the body's commitments against its header (transactions root, ommers hash,
 * withdrawals root), each transaction's state-free validity, the block's blob gas, and optionally
 * every sender. Errors are collected, never thrown: a peer that sends a bad body gets every reason.
 * The ommer headers' own rules (depth, duplicates, seals) belong to the header validator.
 */
import type { ForkRules } from '../chain/forks.js'
import { DecodeError, ValidationError } from '../errors.js'
import type { BlockBody } from '../primitives/body.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import type { BlockHeader } from '../primitives/header.js'
import { type Transaction, TxType } from '../primitives/transaction.js'
import { encodedLength } from '../primitives/rlp.js'
import { orderedTrieRoot } from '../primitives/trie.js'
import { recoverSendersInto } from './senders.js'
import { atTransaction, blobLimits, decodeOrError, txBlockContext, validateTransaction } from './transaction.js'

export const BodyErrorCode = {
  /** The transaction, ommer or withdrawal lists do not decode. */
  Malformed: 'BODY_MALFORMED',
  TransactionsRootMismatch: 'BODY_TRANSACTIONS_ROOT_MISMATCH',
  OmmersHashMismatch: 'BODY_OMMERS_HASH_MISMATCH',
  WithdrawalsMissing: 'BODY_WITHDRAWALS_MISSING',
  WithdrawalsUnexpected: 'BODY_WITHDRAWALS_UNEXPECTED',
  WithdrawalsRootMismatch: 'BODY_WITHDRAWALS_ROOT_MISMATCH',
  BlobGasUsedMismatch: 'BODY_BLOB_GAS_USED_MISMATCH',
  BlobGasAboveLimit: 'BODY_BLOB_GAS_ABOVE_LIMIT',
  /** EIP-7934 (Osaka): the RLP-encoded block exceeds MAX_RLP_BLOCK_SIZE. */
  BlockTooLarge: 'BODY_BLOCK_TOO_LARGE',
} as const

/** EIP-7934: MAX_BLOCK_SIZE (10 MiB) minus a 2 MiB margin for the beacon block wrapper. */
export const MAX_RLP_BLOCK_SIZE = 8_388_608

export interface BodyValidationOptions {
  /** Recover every sender (about 60 us per transaction); failures become errors. */
  recoverSenders?: boolean
}

function malformed(what: string, err: DecodeError): ValidationError {
  return new ValidationError(BodyErrorCode.Malformed, `malformed ${what}: ${err.message}`, { details: { decodeCode: err.code }, cause: err })
}

/** Runs `fn`, turning a DecodeError into a BODY_MALFORMED error in `out`; undefined on failure. */
function decoding<T>(what: string, out: ValidationError[], fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    out.push(malformed(what, err))
    return undefined
  }
}

function mismatch(code: string, what: string, expected: Bytes, actual: Bytes): ValidationError {
  return new ValidationError(code, `${what} mismatch`, {
    details: { expected: bytesToHex(expected), actual: bytesToHex(actual) },
  })
}

/** Checks each transaction and the block's blob gas; returns the indices of transactions without errors. */
function validateTransactions(header: BlockHeader, txs: Transaction[], rules: ForkRules, out: ValidationError[]): number[] {
  const passed: number[] = []
  const block = txBlockContext(header, rules)
  let blobGas = 0n
  const { gasPerBlob, maxBlobsPerBlock } = blobLimits(rules)
  for (let i = 0; i < txs.length; i++) {
    const errors = validateTransaction(txs[i], rules, block)
    if (errors.length === 0) passed.push(i)
    for (const err of errors) out.push(atTransaction(i, err))
    if (txs[i].type !== TxType.Blob) continue
    const decoded = decodeOrError(txs[i]) // cached by the validation above
    if (!(decoded instanceof ValidationError)) blobGas += gasPerBlob * BigInt(decoded.blobVersionedHashes?.length ?? 0)
  }
  if (rules.isActive('cancun')) validateBlobGas(header, blobGas, gasPerBlob * BigInt(maxBlobsPerBlock), out)
  return passed
}

function validateBlobGas(header: BlockHeader, blobGas: bigint, maxBlobGas: bigint, out: ValidationError[]): void {
  if (blobGas > maxBlobGas) {
    out.push(new ValidationError(BodyErrorCode.BlobGasAboveLimit, `blob gas ${blobGas} exceeds the block limit ${maxBlobGas}`))
  }
  if (header.blobGasUsed !== undefined && header.blobGasUsed !== blobGas) {
    out.push(
      new ValidationError(BodyErrorCode.BlobGasUsedMismatch, `header blobGasUsed ${header.blobGasUsed} differs from the transactions' ${blobGas}`, {
        details: { header: header.blobGasUsed.toString(), transactions: blobGas.toString() },
      }),
    )
  }
}

function validateWithdrawals(header: BlockHeader, body: BlockBody, rules: ForkRules, out: ValidationError[]): void {
  if (!rules.isActive('shanghai')) {
    if (body.hasWithdrawals()) out.push(new ValidationError(BodyErrorCode.WithdrawalsUnexpected, `withdrawals are not allowed before shanghai (${rules.fork})`))
    return
  }
  if (!body.hasWithdrawals()) {
    out.push(new ValidationError(BodyErrorCode.WithdrawalsMissing, 'body has no withdrawals list (required from shanghai)'))
    return
  }
  const root = decoding('withdrawals', out, () => body.withdrawalsRoot())
  // A header without withdrawalsRoot is the header validator's finding; nothing to compare here.
  if (root !== undefined && header.withdrawalsRoot !== undefined && !equalBytes(root, header.withdrawalsRoot)) {
    out.push(mismatch(BodyErrorCode.WithdrawalsRootMismatch, 'withdrawals root', header.withdrawalsRoot, root))
  }
}

/**
 * Every state-free rule of a block body against its header. Returns all errors found (empty = valid).
 * With `recoverSenders`, each transaction's sender is recovered and cached on the Transaction, so
 * `recoverSenders(body)` afterwards returns them without recomputing.
 */
export function validateBody(header: BlockHeader, body: BlockBody, rules: ForkRules, opts: BodyValidationOptions = {}): ValidationError[] {
  const out: ValidationError[] = []
  const txs = decoding('transactions list', out, () => body.transactions())
  if (txs !== undefined) {
    const root = orderedTrieRoot(txs.map((t) => t.envelope))
    if (!equalBytes(root, header.transactionsRoot)) out.push(mismatch(BodyErrorCode.TransactionsRootMismatch, 'transactions root', header.transactionsRoot, root))
    const passed = validateTransactions(header, txs, rules, out)
    // Transactions that already failed are not recovered: their errors would only repeat.
    if (opts.recoverSenders) recoverSendersInto(txs, passed, out)
  }
  const ommersHash = body.ommersHash()
  if (!equalBytes(ommersHash, header.ommersHash)) out.push(mismatch(BodyErrorCode.OmmersHashMismatch, 'ommers hash', header.ommersHash, ommersHash))
  validateWithdrawals(header, body, rules, out)
  if (rules.isActive('osaka')) {
    const size = encodedLength(header.raw.length + body.byteLength)
    if (size > MAX_RLP_BLOCK_SIZE) out.push(new ValidationError(BodyErrorCode.BlockTooLarge, `block of ${size} bytes exceeds ${MAX_RLP_BLOCK_SIZE} (EIP-7934)`))
  }
  return out
}

/**
 * Rebuilds the raw consensus RLP of a block from JSON-RPC results, so a JSON-RPC endpoint feeds the
 * validator the same bytes a devp2p peer would: header, body rlp([txs, ommers, withdrawals?]) and
 * the block's receipts in eth/69 form (no blooms: the validator computes every bloom from the logs,
 * and the store keeps this form, so the JSON's blooms are neither decoded nor kept).
 *
 * JSON is untrusted and lossy (field names vary between nodes), so the rebuild is checked where the
 * JSON carries a commitment: the header must hash to the reported block hash (a mismatch is a typed
 * error naming the block, never accepted), each ommer to its listed hash, and optionally each
 * transaction to its reported hash. The validator then re-checks every root from these bytes.
 *
 * The rebuild reads a JSON tape (json-tape.ts: the response bytes, tokenized) and writes RLP back to
 * front into one buffer (primitives/rlp-writer.ts): hex digits are decoded straight into their
 * place, so no field becomes a string, a Buffer or a copy, and a batch of blocks comes out as one
 * allocation. Items are therefore written last field first, last transaction first; when a block
 * has several malformed fields, the one named in the error may be another than a forward reader
 * would name (the code and the blame are the same). The object-taking functions at the end keep
 * the original interface for tools and tests.
 */
import { type Bytes, bytesToHex, equalBytes } from '../../primitives/bytes.js'
import { keccak256 } from '../../primitives/keccak.js'
import { RlpBackWriter } from '../../primitives/rlp-writer.js'
import { TxType } from '../../primitives/transaction.js'
import type { RawBlock } from '../types.js'
import { badResponse, RpcError, RpcErrorCode } from './errors.js'
import {
  arrayToken,
  describe,
  isPresent,
  objectToken,
  readFixed,
  readNumber,
  readSmallQuantity,
  sameText,
  writeAddressOrEmpty,
  writeData,
  writeFixed,
  writePaddedQuantity,
  writeQuantity,
} from './hex-tape.js'
import { JsonKeys, JsonKind, JsonTape } from './json-tape.js'

export type JsonObject = Record<string, unknown>

const LEGACY_HEADER_KEYS = [
  'parentHash', 'sha3Uncles', 'miner', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'logsBloom', 'difficulty',
  'number', 'gasLimit', 'gasUsed', 'timestamp', 'extraData', 'mixHash', 'nonce',
] as const
/** Header fields after the 15 legacy ones, in RLP order; each fork appends, so presence decides the count. */
const HEADER_TAIL = ['baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed', 'excessBlobGas', 'parentBeaconBlockRoot', 'requestsHash'] as const
/** JSON keys of a block that are not header fields (or are the header's own commitments). */
const NON_HEADER_KEYS = ['hash', 'size', 'totalDifficulty', 'uncles', 'transactions', 'withdrawals', 'sealFields', 'author'] as const

const BLOCK = new JsonKeys([...LEGACY_HEADER_KEYS, ...HEADER_TAIL, ...NON_HEADER_KEYS])
const B = BLOCK.ids
const TX = new JsonKeys([
  'type', 'nonce', 'gas', 'to', 'value', 'input', 'data', 'r', 's', 'v', 'yParity', 'gasPrice', 'chainId', 'accessList',
  'maxPriorityFeePerGas', 'maxFeePerGas', 'maxFeePerBlobGas', 'blobVersionedHashes', 'authorizationList', 'hash',
] as const)
const T = TX.ids
const ACCESS = new JsonKeys(['address', 'storageKeys'] as const)
const AUTH = new JsonKeys(['chainId', 'address', 'nonce', 'yParity', 'v', 'r', 's'] as const)
const WITHDRAWAL = new JsonKeys(['index', 'validatorIndex', 'address', 'amount'] as const)
const RECEIPT = new JsonKeys(['type', 'root', 'status', 'cumulativeGasUsed', 'logs', 'blockHash', 'transactionHash'] as const)
const R = RECEIPT.ids
const LOG = new JsonKeys(['address', 'topics', 'data'] as const)

/** Child tokens of arrays being written back to front: nested lists push above their parent's. */
class TokenStack {
  items = new Int32Array(1024)
  top = 0

  /** Pushes the children of `array` (none for -1) and returns where they start. */
  pushChildren(tape: JsonTape, array: number): number {
    const base = this.top
    if (array < 0) return base
    const end = tape.nexts[array]
    for (let t = array + 1; t < end; t = tape.nexts[t]) {
      if (this.top === this.items.length) {
        const grown = new Int32Array(this.items.length * 2)
        grown.set(this.items)
        this.items = grown
      }
      this.items[this.top++] = t
    }
    return base
  }
}
const stack = new TokenStack()

/** Writes one item of a list (a top-level function where it can be: no closure made per list). */
type ItemWriter = (w: RlpBackWriter, tape: JsonTape, token: number, index: number) => void

/** Writes the items of `array` last first with `write(w, tape, token, index)`, then the list prefix. */
function writeList(w: RlpBackWriter, tape: JsonTape, array: number, write: ItemWriter): void {
  const mark = w.length
  const base = stack.pushChildren(tape, array)
  try {
    for (let k = stack.top - 1; k >= base; k--) write(w, tape, stack.items[k], k - base)
  } finally {
    stack.top = base
  }
  w.listPrefix(w.length - mark)
}

// -- header ---------------------------------------------------------------------------------------

/** The 8-byte PoW nonce; some nodes print it as a quantity ("0x0"), so it is left-padded. */
function writeHeaderNonce(w: RlpBackWriter, tape: JsonTape, token: number): void {
  const short = token >= 0 && tape.kinds[token] === JsonKind.String && tape.ends[token] - tape.starts[token] < 18
  if (short) writePaddedQuantity(w, tape, token, 'nonce', 8)
  else writeFixed(w, tape, token, 8, 'nonce')
}

/** Raw header RLP of the block (or uncle) object `block`: 15 to 21 fields, as the JSON carries them. */
export function writeHeader(w: RlpBackWriter, tape: JsonTape, block: number): void {
  const s = BLOCK.read(tape, block)
  let tail = 0
  let missing: string | undefined
  for (const key of HEADER_TAIL) {
    if (!isPresent(tape, s[B[key]])) {
      missing ??= key
      continue
    }
    if (missing !== undefined) throw badResponse(`header has ${key} but not ${missing}`, { field: key })
    tail++
  }
  const mark = w.length
  if (tail > 5) writeFixed(w, tape, s[B.requestsHash], 32, 'requestsHash') // Prague
  if (tail > 4) writeFixed(w, tape, s[B.parentBeaconBlockRoot], 32, 'parentBeaconBlockRoot') // Cancun
  if (tail > 3) writeQuantity(w, tape, s[B.excessBlobGas], 'excessBlobGas', 8) // Cancun
  if (tail > 2) writeQuantity(w, tape, s[B.blobGasUsed], 'blobGasUsed', 8) // Cancun
  if (tail > 1) writeFixed(w, tape, s[B.withdrawalsRoot], 32, 'withdrawalsRoot') // Shanghai
  if (tail > 0) writeQuantity(w, tape, s[B.baseFeePerGas], 'baseFeePerGas') // London
  writeHeaderNonce(w, tape, s[B.nonce])
  writeFixed(w, tape, s[B.mixHash], 32, 'mixHash')
  writeData(w, tape, s[B.extraData], 'extraData')
  writeQuantity(w, tape, s[B.timestamp], 'timestamp', 8)
  writeQuantity(w, tape, s[B.gasUsed], 'gasUsed', 8)
  writeQuantity(w, tape, s[B.gasLimit], 'gasLimit', 8)
  writeQuantity(w, tape, s[B.number], 'number', 8)
  writeQuantity(w, tape, s[B.difficulty], 'difficulty')
  writeFixed(w, tape, s[B.logsBloom], 256, 'logsBloom')
  writeFixed(w, tape, s[B.receiptsRoot], 32, 'receiptsRoot')
  writeFixed(w, tape, s[B.transactionsRoot], 32, 'transactionsRoot')
  writeFixed(w, tape, s[B.stateRoot], 32, 'stateRoot')
  writeFixed(w, tape, s[B.miner], 20, 'miner')
  writeFixed(w, tape, s[B.sha3Uncles], 32, 'sha3Uncles')
  writeFixed(w, tape, s[B.parentHash], 32, 'parentHash')
  w.listPrefix(w.length - mark)
}

/** keccak(rebuilt header) must equal the reported hash; otherwise a typed error naming the block. */
export function checkHeaderHashAt(tape: JsonTape, block: number, header: Bytes, what = 'block'): Bytes {
  const s = BLOCK.read(tape, block)
  const reported = readFixed(tape, s[B.hash], 32, 'hash')
  const computed = keccak256(header)
  if (!equalBytes(reported, computed)) {
    const known = new Set<string>(BLOCK.names)
    const number = s[B.number]
    throw new RpcError(RpcErrorCode.HeaderHashMismatch, `${what} ${describe(tape, number)}: rebuilt header hashes to ${bytesToHex(computed)}, endpoint reported ${bytesToHex(reported)}`, {
      fault: 'invalid-data',
      details: {
        number: number < 0 ? undefined : tape.value(number),
        reportedHash: bytesToHex(reported),
        computedHash: bytesToHex(computed),
        // A new fork's header field would show up here: the usual reason for a mismatch on every endpoint.
        unknownFields: tape.keys(block).filter((k) => !known.has(k)),
      },
    })
  }
  return computed
}

// -- transactions ---------------------------------------------------------------------------------

function writeAccessList(w: RlpBackWriter, tape: JsonTape, token: number): void {
  writeList(w, tape, arrayToken(tape, token, 'accessList', true), writeAccessListEntry)
}

function writeAccessListEntry(w: RlpBackWriter, tape: JsonTape, entry: number): void {
  const e = ACCESS.read(tape, objectToken(tape, entry, 'accessList entry'))
  const address = e[ACCESS.ids.address]
  const keys = arrayToken(tape, e[ACCESS.ids.storageKeys], 'accessList storageKeys', true)
  const mark = w.length
  writeList(w, tape, keys, writeStorageKey)
  writeFixed(w, tape, address, 20, 'accessList address')
  w.listPrefix(w.length - mark)
}

function writeStorageKey(w: RlpBackWriter, tape: JsonTape, key: number): void {
  writeFixed(w, tape, key, 32, 'accessList storage key')
}

/** yParity of a typed signature: `yParity`, else `v` (0/1, or 27/28 from some older nodes). */
function writeYParity(w: RlpBackWriter, tape: JsonTape, yParity: number, v: number, what: string): void {
  const value = readSmallQuantity(tape, isPresent(tape, yParity) ? yParity : v, `${what} yParity`, 1)
  const parity = value === 27 ? 0 : value === 28 ? 1 : value
  if (parity > 1) throw badResponse(`${what} yParity must be 0 or 1`, { field: 'yParity' })
  w.byte(parity === 0 ? 0x80 : 0x01)
}

function writeAuthorizationList(w: RlpBackWriter, tape: JsonTape, token: number): void {
  writeList(w, tape, arrayToken(tape, token, 'authorizationList'), writeAuthorization)
}

function writeAuthorization(w: RlpBackWriter, tape: JsonTape, entry: number): void {
  const a = AUTH.read(tape, objectToken(tape, entry, 'authorization'))
  const mark = w.length
  writeQuantity(w, tape, a[AUTH.ids.s], 'authorization s')
  writeQuantity(w, tape, a[AUTH.ids.r], 'authorization r')
  writeYParity(w, tape, a[AUTH.ids.yParity], a[AUTH.ids.v], 'authorization')
  writeQuantity(w, tape, a[AUTH.ids.nonce], 'authorization nonce', 8)
  writeFixed(w, tape, a[AUTH.ids.address], 20, 'authorization address')
  writeQuantity(w, tape, a[AUTH.ids.chainId], 'authorization chainId')
  w.listPrefix(w.length - mark)
}

function writeBlobHash(w: RlpBackWriter, tape: JsonTape, hash: number): void {
  writeFixed(w, tape, hash, 32, 'blob versioned hash')
}

/** Writes the signed envelope of transaction `tx` (types 0-4): a legacy list, or type || rlp(payload). Returns the type. */
export function writeTransaction(w: RlpBackWriter, tape: JsonTape, tx: number): number {
  return writeTransactionFields(w, tape, TX.read(tape, tx))
}

/** `writeTransaction` from the transaction's key slots (`TX.read`), for callers that need other fields too. */
function writeTransactionFields(w: RlpBackWriter, tape: JsonTape, s: Int32Array): number {
  const type = isPresent(tape, s[T.type]) ? readNumber(tape, s[T.type], 'type') : TxType.Legacy
  if (type > TxType.SetCode) {
    throw new RpcError(RpcErrorCode.UnsupportedTxType, `transaction type ${type} cannot be rebuilt`, { details: { txType: type } })
  }
  // Nodes disagree on the name of the calldata field.
  const data = isPresent(tape, s[T.input]) ? s[T.input] : s[T.data]
  const mark = w.length
  writeQuantity(w, tape, s[T.s], 's')
  writeQuantity(w, tape, s[T.r], 'r')
  if (type === TxType.Legacy) {
    // v as sent: 27/28, or chainId * 2 + 35/36 (EIP-155); a `chainId` key on legacy txs is informational.
    writeQuantity(w, tape, s[T.v], 'v')
    writeData(w, tape, data, 'input')
    writeQuantity(w, tape, s[T.value], 'value')
    writeAddressOrEmpty(w, tape, s[T.to], 'to')
    writeQuantity(w, tape, s[T.gas], 'gas', 8)
    writeQuantity(w, tape, s[T.gasPrice], 'gasPrice')
    writeQuantity(w, tape, s[T.nonce], 'nonce', 8)
    w.listPrefix(w.length - mark)
    return type
  }
  writeYParity(w, tape, s[T.yParity], s[T.v], 'transaction')
  if (type === TxType.Blob) {
    writeList(w, tape, arrayToken(tape, s[T.blobVersionedHashes], 'blobVersionedHashes'), writeBlobHash)
    writeQuantity(w, tape, s[T.maxFeePerBlobGas], 'maxFeePerBlobGas')
  } else if (type === TxType.SetCode) {
    writeAuthorizationList(w, tape, s[T.authorizationList])
  }
  writeAccessList(w, tape, s[T.accessList])
  writeData(w, tape, data, 'input')
  writeQuantity(w, tape, s[T.value], 'value')
  writeAddressOrEmpty(w, tape, s[T.to], 'to')
  writeQuantity(w, tape, s[T.gas], 'gas', 8)
  if (type === TxType.AccessList) {
    writeQuantity(w, tape, s[T.gasPrice], 'gasPrice')
  } else {
    writeQuantity(w, tape, s[T.maxFeePerGas], 'maxFeePerGas')
    writeQuantity(w, tape, s[T.maxPriorityFeePerGas], 'maxPriorityFeePerGas')
  }
  writeQuantity(w, tape, s[T.nonce], 'nonce', 8)
  writeQuantity(w, tape, s[T.chainId], 'chainId')
  w.listPrefix(w.length - mark)
  w.byte(type)
  return type
}

function checkTxHash(tape: JsonTape, tx: number, envelope: Bytes, index: number): void {
  const reported = readFixed(tape, TX.read(tape, tx)[T.hash], 32, 'transaction hash')
  const computed = keccak256(envelope)
  if (!equalBytes(reported, computed)) {
    throw new RpcError(RpcErrorCode.TxHashMismatch, `transaction ${index}: rebuilt envelope hashes to ${bytesToHex(computed)}, endpoint reported ${bytesToHex(reported)}`, {
      fault: 'invalid-data',
      details: { txIndex: index, reportedHash: bytesToHex(reported), computedHash: bytesToHex(computed) },
    })
  }
}

// -- body -----------------------------------------------------------------------------------------

export interface BodyRebuildOptions {
  /** Raw ommer headers, in the order of the block's `uncles` list. */
  ommers?: readonly Bytes[]
  /** Check every transaction's keccak against its reported `hash` (names the bad transaction). */
  verifyTxHashes?: boolean
}

function writeWithdrawal(w: RlpBackWriter, tape: JsonTape, token: number): void {
  const x = WITHDRAWAL.read(tape, objectToken(tape, token, 'withdrawal'))
  const mark = w.length
  writeQuantity(w, tape, x[WITHDRAWAL.ids.amount], 'withdrawal amount', 8)
  writeFixed(w, tape, x[WITHDRAWAL.ids.address], 20, 'withdrawal address')
  writeQuantity(w, tape, x[WITHDRAWAL.ids.validatorIndex], 'withdrawal validatorIndex', 8)
  writeQuantity(w, tape, x[WITHDRAWAL.ids.index], 'withdrawal index', 8)
  w.listPrefix(w.length - mark)
}

/**
 * rlp([txs, ommers, withdrawals?]) of a full block object (eth_getBlockByNumber(n, true)). Returns
 * each transaction's `hash` token (-1 when absent), read with its other fields, for matching receipts.
 */
export function writeBody(w: RlpBackWriter, tape: JsonTape, block: number, opts: BodyRebuildOptions = {}): number[] {
  const s = BLOCK.read(tape, block)
  const txs = arrayToken(tape, s[B.transactions], 'transactions')
  const uncles = arrayToken(tape, s[B.uncles], 'uncles', true)
  // The header decides the body's shape: withdrawals exist iff the header commits to them.
  const withdrawals = isPresent(tape, s[B.withdrawalsRoot]) ? arrayToken(tape, s[B.withdrawals], 'withdrawals') : undefined
  const ommers = opts.ommers ?? []
  const uncleCount = uncles < 0 ? 0 : tape.length(uncles)
  if (ommers.length !== uncleCount) {
    throw badResponse(`block lists ${uncleCount} uncles but ${ommers.length} ommer headers were supplied`, { field: 'uncles' })
  }
  const mark = w.length
  if (withdrawals !== undefined) {
    writeList(w, tape, withdrawals, writeWithdrawal)
  }
  const ommersMark = w.length
  for (let i = ommers.length - 1; i >= 0; i--) w.raw(ommers[i])
  w.listPrefix(w.length - ommersMark)
  const hashes = new Array<number>(tape.length(txs))
  writeList(w, tape, txs, (_w, _tape, token, i) => {
    if (tape.kinds[token] === JsonKind.String) throw badResponse('block has transaction hashes, not full transactions', { field: 'transactions' })
    const tx = objectToken(tape, token, 'transaction')
    const m = w.length
    let type: number
    try {
      const fields = TX.read(tape, tx)
      hashes[i] = fields[T.hash]
      type = writeTransactionFields(w, tape, fields)
    } catch (err) {
      throw err instanceof RpcError ? err.withContext(`transaction ${i}`, { txIndex: i }) : err
    }
    if (opts.verifyTxHashes) checkTxHash(tape, tx, w.view(m, w.length), i)
    // In a block body a typed envelope is an RLP string, a legacy transaction its own list.
    if (type !== TxType.Legacy) w.stringPrefix(w.length - m)
  })
  w.listPrefix(w.length - mark)
  return hashes
}

// -- receipts -------------------------------------------------------------------------------------

/** A log: [address, topics, data]. */
function writeLog(w: RlpBackWriter, tape: JsonTape, token: number): void {
  const l = LOG.read(tape, objectToken(tape, token, 'log'))
  const address = l[LOG.ids.address]
  const topics = arrayToken(tape, l[LOG.ids.topics], 'log topics')
  const data = l[LOG.ids.data]
  const mark = w.length
  writeData(w, tape, data, 'log data')
  writeList(w, tape, topics, writeTopic)
  writeFixed(w, tape, address, 20, 'log address')
  w.listPrefix(w.length - mark)
}

function writeTopic(w: RlpBackWriter, tape: JsonTape, topic: number): void {
  writeFixed(w, tape, topic, 32, 'log topic')
}

/** Post-Byzantium status (0x01 or empty), or the pre-Byzantium 32-byte post-state root. */
function writeStatusOrRoot(w: RlpBackWriter, tape: JsonTape, root: number, status: number): void {
  if (isPresent(tape, root) && !(tape.kinds[root] === JsonKind.String && tape.textEquals(root, '0x'))) return writeFixed(w, tape, root, 32, 'receipt root')
  const value = readSmallQuantity(tape, status, 'receipt status', 1)
  if (value > 1) throw badResponse('receipt status must be 0x0 or 0x1', { field: 'status' })
  w.byte(value === 0 ? 0x80 : 0x01)
}

/** Where receipts must come from: a block hash and the block's transaction hashes, as string tokens of `tape`. */
export interface ReceiptChecks {
  /** The block's hash: every receipt must say it belongs to it (a load balancer may mix blocks). */
  blockHash?: number
  /** Transaction hashes in block order: receipt i must be for transaction i. */
  txHashes?: readonly number[]
}

/** A block's receipts as an eth/69 list: rlp([type, statusOrRoot, cumulativeGasUsed, logs]) each. */
export function writeReceipts(w: RlpBackWriter, tape: JsonTape, receipts: number, checks: ReceiptChecks = {}): void {
  const list = arrayToken(tape, receipts, 'receipts')
  const { blockHash, txHashes } = checks
  if (txHashes && txHashes.length !== tape.length(list)) {
    throw inconsistent(`${tape.length(list)} receipts for ${txHashes.length} transactions`)
  }
  writeList(w, tape, list, (_w, _tape, token, i) => {
    const r = RECEIPT.read(tape, objectToken(tape, token, 'receipt'))
    const rBlockHash = r[R.blockHash]
    if (blockHash !== undefined && rBlockHash >= 0 && tape.kinds[rBlockHash] === JsonKind.String && !sameText(tape, rBlockHash, tape, blockHash)) {
      throw inconsistent(`receipt ${i} belongs to block ${tape.text(rBlockHash)}, not ${tape.text(blockHash)}`)
    }
    const rTxHash = r[R.transactionHash]
    if (txHashes && rTxHash >= 0 && tape.kinds[rTxHash] === JsonKind.String && !sameText(tape, rTxHash, tape, txHashes[i])) {
      throw inconsistent(`receipt ${i} is for transaction ${tape.text(rTxHash)}, not ${tape.text(txHashes[i])}`)
    }
    const type = isPresent(tape, r[R.type]) ? readNumber(tape, r[R.type], 'receipt type') : TxType.Legacy
    if (type > 0x7f) throw badResponse(`receipt type ${type} is not a typed-receipt byte`, { field: 'type' })
    // The fields are read before the logs are written: writing a log reuses the key slots.
    const [root, status, gasUsed] = [r[R.root], r[R.status], r[R.cumulativeGasUsed]]
    const logs = arrayToken(tape, r[R.logs], 'receipt logs')
    const mark = w.length
    writeList(w, tape, logs, writeLog)
    writeQuantity(w, tape, gasUsed, 'cumulativeGasUsed', 8)
    writeStatusOrRoot(w, tape, root, status)
    w.byte(type === TxType.Legacy ? 0x80 : type)
    w.listPrefix(w.length - mark)
  })
}

function inconsistent(message: string): RpcError {
  return new RpcError(RpcErrorCode.Inconsistent, message, { retryable: true, fault: 'useless' })
}

/** String tokens of the transaction hashes of a block (full transaction objects or bare hashes), for matching receipts. */
export function transactionHashTokens(tape: JsonTape, block: number): number[] {
  const txs = arrayToken(tape, BLOCK.read(tape, block)[B.transactions], 'transactions')
  return tape.elements(txs).map((tx) => hashToken(tape, tape.kinds[tx] === JsonKind.String ? tx : tape.kinds[tx] === JsonKind.Object ? TX.read(tape, tx)[T.hash] : -1))
}

/** `token` if it is a transaction's hash string; a transaction without one cannot be matched to its receipt. */
function hashToken(tape: JsonTape, token: number): number {
  if (token < 0 || tape.kinds[token] !== JsonKind.String) throw badResponse('transaction without hash', { field: 'hash' })
  return token
}

// -- whole blocks ---------------------------------------------------------------------------------

export interface BlockRebuildOptions extends BodyRebuildOptions {
  /** eth_getBlockReceipts result (an array token of the same tape); omitted = no receipts wanted. */
  receipts?: number
}

/**
 * Rebuilt blocks written into one buffer: `add` writes a block's header (hash-checked), body and
 * receipts, `finish` hands them all out as views of one exactly sized allocation.
 */
export class BlockBatchWriter {
  /** Per block: writer marks before the header, body, receipts and after them (receipts == after: none). */
  private readonly marks: number[] = []

  constructor(private readonly w: RlpBackWriter = sharedWriter()) {
    w.reset()
  }

  /** Rebuilds block object `block` of `tape`; errors carry the block number in their message and details. */
  add(tape: JsonTape, block: number, opts: BlockRebuildOptions = {}): { hash: Bytes } {
    const w = this.w
    const start = w.length
    try {
      writeHeader(w, tape, block)
      const hash = checkHeaderHashAt(tape, block, w.view(start, w.length))
      const bodyMark = w.length
      const hashes = writeBody(w, tape, block, opts)
      const receiptsMark = w.length
      if (opts.receipts !== undefined) {
        const blockHash = BLOCK.read(tape, block)[B.hash]
        writeReceipts(w, tape, opts.receipts, { blockHash, txHashes: hashes.map((h) => hashToken(tape, h)) })
      }
      this.marks.push(start, bodyMark, receiptsMark, opts.receipts !== undefined ? w.length : -1)
      return { hash }
    } catch (err) {
      if (err instanceof RpcError && err.code !== RpcErrorCode.HeaderHashMismatch) {
        const s = BLOCK.read(tape, block)
        const number = isPresent(tape, s[B.number]) ? tape.value(s[B.number]) : undefined
        const hash = isPresent(tape, s[B.hash]) ? tape.value(s[B.hash]) : undefined
        throw err.withContext(`block ${describe(tape, s[B.number])}`, { number, blockHash: hash })
      }
      throw err
    }
  }

  /** Rebuilds only the header of block object `block` (an `eth_getBlockByNumber(n, false)` answer); hash-checked. */
  addHeader(tape: JsonTape, block: number): { hash: Bytes } {
    const w = this.w
    const start = w.length
    writeHeader(w, tape, block)
    const hash = checkHeaderHashAt(tape, block, w.view(start, w.length))
    this.marks.push(start, w.length, w.length, -1)
    return { hash }
  }

  /** Everything added, in one allocation; the writer is free for the next batch. */
  finish(): RawBlock[] {
    const all = this.w.take()
    return blocksFromMarks(all, this.marks)
  }

  /** The bytes and marks as `finish` would use them (for moving a batch between threads). */
  finishPacked(): { bytes: Uint8Array; marks: number[] } {
    return { bytes: this.w.take(), marks: this.marks }
  }
}

/** Blocks from one buffer written back to front and the writer marks of their parts. */
export function blocksFromMarks(all: Uint8Array, marks: readonly number[]): RawBlock[] {
  const end = all.length
  const part = (from: number, to: number) => all.subarray(end - to, end - from)
  const out: RawBlock[] = []
  for (let i = 0; i < marks.length; i += 4) {
    const [header, body, receipts, after] = [marks[i], marks[i + 1], marks[i + 2], marks[i + 3]]
    const block: RawBlock = { header: part(header, body), body: part(body, receipts) }
    if (after >= 0) block.receipts = part(receipts, after)
    out.push(block)
  }
  return out
}

let shared: RlpBackWriter | undefined
/** Above this the shared writer is not kept between uses (one outsized response must not pin memory). */
const SHARED_KEEP_BYTES = 16 * 1024 * 1024

/**
 * The thread's writer, reused by every rebuild (the rebuild is synchronous, so one per thread is
 * enough); results are always copied out of it.
 */
function sharedWriter(): RlpBackWriter {
  if (shared === undefined || shared.buf.length > SHARED_KEEP_BYTES) shared = new RlpBackWriter(1 << 20)
  return shared
}

function writeOnce(write: (w: RlpBackWriter) => void): Bytes {
  const w = sharedWriter()
  w.reset()
  write(w)
  return w.take()
}

/** Raw header RLP of block (or uncle) object `block` of `tape`. */
export function rebuildHeaderAt(tape: JsonTape, block: number): Bytes {
  return writeOnce((w) => writeHeader(w, tape, block))
}

/** rlp([txs, ommers, withdrawals?]) of full block object `block` of `tape`. */
export function rebuildBodyAt(tape: JsonTape, block: number, opts: BodyRebuildOptions = {}): Bytes {
  return writeOnce((w) => writeBody(w, tape, block, opts))
}

// -- the same on JS objects (tools, tests, cold paths) --------------------------------------------

/** Raw header RLP from a block (or uncle) JSON object: 15 to 21 fields, as the JSON carries them. */
export function rebuildHeader(json: JsonObject): Bytes {
  return rebuildHeaderAt(JsonTape.of(json), 0)
}

/** keccak(rebuilt header) must equal the reported hash; otherwise a typed error naming the block. */
export function checkHeaderHash(json: JsonObject, header: Bytes, what = 'block'): Bytes {
  return checkHeaderHashAt(JsonTape.of(json), 0, header, what)
}

export interface RebuiltTransaction {
  type: number
  /** Trie value and hash preimage: legacy list RLP, or type || rlp(payload). */
  envelope: Bytes
}

/** The exact signed envelope of one transaction (types 0-4) from its JSON. */
export function rebuildTransaction(tx: JsonObject): RebuiltTransaction {
  const tape = JsonTape.of(tx)
  let type = 0
  const envelope = writeOnce((w) => {
    type = writeTransaction(w, tape, 0)
  })
  return { type, envelope }
}

/** rlp([txs, ommers, withdrawals?]) from a full block JSON (eth_getBlockByNumber(n, true)). */
export function rebuildBody(block: JsonObject, opts: BodyRebuildOptions = {}): Bytes {
  return rebuildBodyAt(JsonTape.of(block), 0, opts)
}

export interface ReceiptsRebuildOptions {
  /** The block's hash: every receipt must say it belongs to it (a load balancer may mix blocks). */
  blockHash?: string
  /** Transaction hashes in block order: receipt i must be for transaction i. */
  txHashes?: readonly string[]
}

/** A block's receipts as an eth/69 list: rlp([type, statusOrRoot, cumulativeGasUsed, logs]) each. */
export function rebuildReceipts(receipts: readonly unknown[], opts: ReceiptsRebuildOptions = {}): Bytes {
  // One tape for the receipts and the strings they are checked against.
  const tape = JsonTape.of([receipts, opts.blockHash ?? null, opts.txHashes ?? null])
  const [list, blockHash, txHashes] = tape.elements(0)
  const checks: ReceiptChecks = {
    blockHash: opts.blockHash === undefined ? undefined : blockHash,
    txHashes: opts.txHashes === undefined ? undefined : tape.elements(txHashes),
  }
  return writeOnce((w) => writeReceipts(w, tape, list, checks))
}

export interface ObjectBlockRebuildOptions extends BodyRebuildOptions {
  /** eth_getBlockReceipts result; omitted = no receipts wanted. */
  receipts?: readonly unknown[]
}

/**
 * A whole block: header (hash-checked), body and, when given, receipts. Errors carry the block
 * number in their message and details.
 */
export function rebuildBlock(block: JsonObject, opts: ObjectBlockRebuildOptions = {}): RawBlock {
  const tape = JsonTape.of(opts.receipts === undefined ? [block] : [block, opts.receipts])
  const [json, receipts] = tape.elements(0)
  const batch = new BlockBatchWriter()
  batch.add(tape, json, { ...opts, receipts })
  return batch.finish()[0]
}

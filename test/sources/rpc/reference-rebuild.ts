/**
 * Test oracle: the JSON -> RLP rebuild as it was before the tape rebuild (src/sources/rpc/rebuild.ts):
 * JS objects from JSON.parse, one Buffer per field, `encode` for the lists. Kept verbatim so the
 * property tests can check that the tape rebuild writes the same bytes and fails with the same
 * errors. Not used by the syncer.
 *
 * Rebuilds the raw consensus RLP of a block from JSON-RPC results, so a JSON-RPC endpoint feeds the
 * validator the same bytes a devp2p peer would: header, body rlp([txs, ommers, withdrawals?]) and
 * the block's receipts in eth/69 form (no blooms).
 *
 * JSON is untrusted and lossy (field names vary between nodes), so the rebuild is checked where the
 * JSON carries a commitment: the header must hash to the reported block hash (a mismatch is a typed
 * error naming the block, never accepted), each ommer to its listed hash, and optionally each
 * transaction to its reported hash. The validator then re-checks every root from these bytes.
 */
import { type Bytes, bytesToHex, EMPTY_BYTES, equalBytes } from '../../../src/primitives/bytes.js'
import { keccak256 } from '../../../src/primitives/keccak.js'
import { Encoded, encode, type EncodableInput } from '../../../src/primitives/rlp.js'
import { TxType } from '../../../src/primitives/transaction.js'
import type { RawBlock } from '../../../src/sources/types.js'
import { badResponse, RpcError, RpcErrorCode } from '../../../src/sources/rpc/errors.js'
import { addressOrEmpty, arrayField, dataField, fixedField, numberField, objectField, quantityField } from '../../../src/sources/rpc/hex.js'

export type JsonObject = Record<string, unknown>

/** Header fields after the 15 legacy ones, in RLP order; each fork appends, so presence decides the count. */
const HEADER_TAIL: ReadonlyArray<readonly [key: string, read: (v: unknown, what: string) => Bytes]> = [
  ['baseFeePerGas', (v, w) => quantityField(v, w)], // London
  ['withdrawalsRoot', (v, w) => fixedField(v, 32, w)], // Shanghai
  ['blobGasUsed', (v, w) => quantityField(v, w, 8)], // Cancun
  ['excessBlobGas', (v, w) => quantityField(v, w, 8)], // Cancun
  ['parentBeaconBlockRoot', (v, w) => fixedField(v, 32, w)], // Cancun
  ['requestsHash', (v, w) => fixedField(v, 32, w)], // Prague
]

/** JSON keys of a block that are not header fields (or are the header's own commitments). */
const NON_HEADER_KEYS = new Set(['hash', 'size', 'totalDifficulty', 'uncles', 'transactions', 'withdrawals', 'sealFields', 'author'])
const LEGACY_HEADER_KEYS = [
  'parentHash', 'sha3Uncles', 'miner', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'logsBloom', 'difficulty',
  'number', 'gasLimit', 'gasUsed', 'timestamp', 'extraData', 'mixHash', 'nonce',
]

const present = (v: unknown) => v !== undefined && v !== null

/** The 8-byte PoW nonce; some nodes print it as a quantity ("0x0"), so it is left-padded. */
function headerNonce(value: unknown): Bytes {
  if (typeof value === 'string' && value.length < 18) {
    const q = quantityField(value, 'nonce', 8)
    const out = new Uint8Array(8)
    out.set(q, 8 - q.length)
    return out
  }
  return fixedField(value, 8, 'nonce')
}

/** Raw header RLP from a block (or uncle) JSON object: 15 to 21 fields, as the JSON carries them. */
export function rebuildHeader(json: JsonObject): Bytes {
  const fields: Bytes[] = [
    fixedField(json.parentHash, 32, 'parentHash'),
    fixedField(json.sha3Uncles, 32, 'sha3Uncles'),
    fixedField(json.miner, 20, 'miner'),
    fixedField(json.stateRoot, 32, 'stateRoot'),
    fixedField(json.transactionsRoot, 32, 'transactionsRoot'),
    fixedField(json.receiptsRoot, 32, 'receiptsRoot'),
    fixedField(json.logsBloom, 256, 'logsBloom'),
    quantityField(json.difficulty, 'difficulty'),
    quantityField(json.number, 'number', 8),
    quantityField(json.gasLimit, 'gasLimit', 8),
    quantityField(json.gasUsed, 'gasUsed', 8),
    quantityField(json.timestamp, 'timestamp', 8),
    dataField(json.extraData, 'extraData'),
    fixedField(json.mixHash, 32, 'mixHash'),
    headerNonce(json.nonce),
  ]
  let missing: string | undefined
  for (const [key, read] of HEADER_TAIL) {
    const value = json[key]
    if (!present(value)) {
      missing ??= key
      continue
    }
    if (missing !== undefined) throw badResponse(`header has ${key} but not ${missing}`, { field: key })
    fields.push(read(value, key))
  }
  return encode(fields)
}

/** keccak(rebuilt header) must equal the reported hash; otherwise a typed error naming the block. */
export function checkHeaderHash(json: JsonObject, header: Bytes, what = 'block'): Bytes {
  const reported = fixedField(json.hash, 32, 'hash')
  const computed = keccak256(header)
  if (!equalBytes(reported, computed)) {
    const known = new Set([...LEGACY_HEADER_KEYS, ...HEADER_TAIL.map(([k]) => k), ...NON_HEADER_KEYS])
    throw new RpcError(RpcErrorCode.HeaderHashMismatch, `${what} ${String(json.number)}: rebuilt header hashes to ${bytesToHex(computed)}, endpoint reported ${bytesToHex(reported)}`, {
      fault: 'invalid-data',
      details: {
        number: json.number,
        reportedHash: bytesToHex(reported),
        computedHash: bytesToHex(computed),
        // A new fork's header field would show up here: the usual reason for a mismatch on every endpoint.
        unknownFields: Object.keys(json).filter((k) => !known.has(k)),
      },
    })
  }
  return computed
}

function accessList(value: unknown): EncodableInput[] {
  return arrayField(value, 'accessList', true).map((entry) => {
    const e = objectField(entry, 'accessList entry')
    return [
      fixedField(e.address, 20, 'accessList address'),
      arrayField(e.storageKeys, 'accessList storageKeys', true).map((k) => fixedField(k, 32, 'accessList storage key')),
    ]
  })
}

/** yParity of a typed signature: `yParity`, else `v` (0/1, or 27/28 from some older nodes). */
function yParity(obj: JsonObject, what: string): Bytes {
  const raw = quantityField(present(obj.yParity) ? obj.yParity : obj.v, `${what} yParity`, 1)
  if (raw.length === 1 && (raw[0] === 27 || raw[0] === 28)) return raw[0] === 27 ? EMPTY_BYTES : Uint8Array.of(1)
  if (raw.length > 0 && raw[0] > 1) throw badResponse(`${what} yParity must be 0 or 1`, { field: 'yParity' })
  return raw
}

function authorizationList(value: unknown): EncodableInput[] {
  return arrayField(value, 'authorizationList').map((entry) => {
    const a = objectField(entry, 'authorization')
    return [
      quantityField(a.chainId, 'authorization chainId'),
      fixedField(a.address, 20, 'authorization address'),
      quantityField(a.nonce, 'authorization nonce', 8),
      yParity(a, 'authorization'),
      quantityField(a.r, 'authorization r'),
      quantityField(a.s, 'authorization s'),
    ]
  })
}

export interface RebuiltTransaction {
  type: number
  /** Trie value and hash preimage: legacy list RLP, or type || rlp(payload). */
  envelope: Bytes
}

/** The exact signed envelope of one transaction (types 0-4) from its JSON. */
export function rebuildTransaction(tx: JsonObject): RebuiltTransaction {
  const type = present(tx.type) ? numberField(tx.type, 'type') : TxType.Legacy
  if (type > TxType.SetCode) {
    throw new RpcError(RpcErrorCode.UnsupportedTxType, `transaction type ${type} cannot be rebuilt`, { details: { txType: type } })
  }
  const nonce = quantityField(tx.nonce, 'nonce', 8)
  const gas = quantityField(tx.gas, 'gas', 8)
  const to = addressOrEmpty(tx.to, 'to')
  const value = quantityField(tx.value, 'value')
  // Nodes disagree on the name of the calldata field.
  const data = dataField(present(tx.input) ? tx.input : tx.data, 'input')
  const r = quantityField(tx.r, 'r')
  const s = quantityField(tx.s, 's')
  if (type === TxType.Legacy) {
    // v as sent: 27/28, or chainId * 2 + 35/36 (EIP-155); a `chainId` key on legacy txs is informational.
    return { type, envelope: encode([nonce, quantityField(tx.gasPrice, 'gasPrice'), gas, to, value, data, quantityField(tx.v, 'v'), r, s]) }
  }
  const chainId = quantityField(tx.chainId, 'chainId')
  const y = yParity(tx, 'transaction')
  let fields: EncodableInput[]
  if (type === TxType.AccessList) {
    fields = [chainId, nonce, quantityField(tx.gasPrice, 'gasPrice'), gas, to, value, data, accessList(tx.accessList), y, r, s]
  } else {
    const fees = [quantityField(tx.maxPriorityFeePerGas, 'maxPriorityFeePerGas'), quantityField(tx.maxFeePerGas, 'maxFeePerGas')]
    const head = [chainId, nonce, ...fees, gas, to, value, data, accessList(tx.accessList)]
    if (type === TxType.DynamicFee) fields = [...head, y, r, s]
    else if (type === TxType.Blob) {
      const hashes = arrayField(tx.blobVersionedHashes, 'blobVersionedHashes').map((h) => fixedField(h, 32, 'blob versioned hash'))
      fields = [...head, quantityField(tx.maxFeePerBlobGas, 'maxFeePerBlobGas'), hashes, y, r, s]
    } else fields = [...head, authorizationList(tx.authorizationList), y, r, s]
  }
  const payload = encode(fields)
  const envelope = new Uint8Array(payload.length + 1)
  envelope[0] = type
  envelope.set(payload, 1)
  return { type, envelope }
}

function withdrawal(value: unknown): EncodableInput {
  const w = objectField(value, 'withdrawal')
  return [
    quantityField(w.index, 'withdrawal index', 8),
    quantityField(w.validatorIndex, 'withdrawal validatorIndex', 8),
    fixedField(w.address, 20, 'withdrawal address'),
    quantityField(w.amount, 'withdrawal amount', 8),
  ]
}

export interface BodyRebuildOptions {
  /** Raw ommer headers, in the order of the block's `uncles` list. */
  ommers?: readonly Bytes[]
  /** Check every transaction's keccak against its reported `hash` (names the bad transaction). */
  verifyTxHashes?: boolean
}

/** rlp([txs, ommers, withdrawals?]) from a full block JSON (eth_getBlockByNumber(n, true)). */
export function rebuildBody(block: JsonObject, opts: BodyRebuildOptions = {}): Bytes {
  const txs = arrayField(block.transactions, 'transactions')
  const items: EncodableInput[] = new Array(txs.length)
  for (let i = 0; i < txs.length; i++) {
    if (typeof txs[i] === 'string') throw badResponse('block has transaction hashes, not full transactions', { field: 'transactions' })
    const json = objectField(txs[i], 'transaction')
    let rebuilt: RebuiltTransaction
    try {
      rebuilt = rebuildTransaction(json)
    } catch (err) {
      throw err instanceof RpcError ? err.withContext(`transaction ${i}`, { txIndex: i }) : err
    }
    if (opts.verifyTxHashes) checkTxHash(json, rebuilt.envelope, i)
    items[i] = rebuilt.type === TxType.Legacy ? new Encoded(rebuilt.envelope) : rebuilt.envelope
  }
  const ommers = (opts.ommers ?? []).map((o) => new Encoded(o))
  const uncles = arrayField(block.uncles, 'uncles', true)
  if (ommers.length !== uncles.length) {
    throw badResponse(`block lists ${uncles.length} uncles but ${ommers.length} ommer headers were supplied`, { field: 'uncles' })
  }
  // The header decides the body's shape: withdrawals exist iff the header commits to them.
  if (!present(block.withdrawalsRoot)) return encode([items, ommers])
  return encode([items, ommers, arrayField(block.withdrawals, 'withdrawals').map(withdrawal)])
}

function checkTxHash(json: JsonObject, envelope: Bytes, index: number): void {
  const reported = fixedField(json.hash, 32, 'transaction hash')
  const computed = keccak256(envelope)
  if (!equalBytes(reported, computed)) {
    throw new RpcError(RpcErrorCode.TxHashMismatch, `transaction ${index}: rebuilt envelope hashes to ${bytesToHex(computed)}, endpoint reported ${bytesToHex(reported)}`, {
      fault: 'invalid-data',
      details: { txIndex: index, reportedHash: bytesToHex(reported), computedHash: bytesToHex(computed) },
    })
  }
}

function log(value: unknown): EncodableInput {
  const l = objectField(value, 'log')
  return [
    fixedField(l.address, 20, 'log address'),
    arrayField(l.topics, 'log topics').map((t) => fixedField(t, 32, 'log topic')),
    dataField(l.data, 'log data'),
  ]
}

/** Post-Byzantium status (0x01 or empty), or the pre-Byzantium 32-byte post-state root. */
function statusOrRoot(r: JsonObject): Bytes {
  if (present(r.root) && r.root !== '0x') return fixedField(r.root, 32, 'receipt root')
  const status = quantityField(r.status, 'receipt status', 1)
  if (status.length === 1 && status[0] !== 1) throw badResponse('receipt status must be 0x0 or 0x1', { field: 'status' })
  return status
}

export interface ReceiptsRebuildOptions {
  /** The block's hash: every receipt must say it belongs to it (a load balancer may mix blocks). */
  blockHash?: string
  /** Transaction hashes in block order: receipt i must be for transaction i. */
  txHashes?: readonly string[]
}

/** A block's receipts as an eth/69 list: rlp([type, statusOrRoot, cumulativeGasUsed, logs]) each. */
export function rebuildReceipts(receipts: readonly unknown[], opts: ReceiptsRebuildOptions = {}): Bytes {
  if (opts.txHashes && opts.txHashes.length !== receipts.length) {
    throw inconsistent(`${receipts.length} receipts for ${opts.txHashes.length} transactions`)
  }
  const items: EncodableInput[] = new Array(receipts.length)
  for (let i = 0; i < receipts.length; i++) {
    const r = objectField(receipts[i], 'receipt')
    if (opts.blockHash !== undefined && typeof r.blockHash === 'string' && !sameHex(r.blockHash, opts.blockHash)) {
      throw inconsistent(`receipt ${i} belongs to block ${r.blockHash}, not ${opts.blockHash}`)
    }
    if (opts.txHashes && typeof r.transactionHash === 'string' && !sameHex(r.transactionHash, opts.txHashes[i])) {
      throw inconsistent(`receipt ${i} is for transaction ${r.transactionHash}, not ${opts.txHashes[i]}`)
    }
    const type = present(r.type) ? numberField(r.type, 'receipt type') : TxType.Legacy
    if (type > 0x7f) throw badResponse(`receipt type ${type} is not a typed-receipt byte`, { field: 'type' })
    items[i] = new Encoded(encode([type, statusOrRoot(r), quantityField(r.cumulativeGasUsed, 'cumulativeGasUsed', 8), arrayField(r.logs, 'receipt logs').map(log)]))
  }
  return encode(items)
}

/** Hex strings equal ignoring case (nodes print lowercase; the fast path avoids two allocations). */
function sameHex(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase()
}

function inconsistent(message: string): RpcError {
  return new RpcError(RpcErrorCode.Inconsistent, message, { retryable: true, fault: 'useless' })
}

export interface BlockRebuildOptions extends BodyRebuildOptions {
  /** eth_getBlockReceipts result; omitted = no receipts wanted. */
  receipts?: readonly unknown[]
}

/** The transaction hashes of a block (full transaction objects or bare hashes), for matching receipts. */
export function transactionHashes(block: JsonObject): string[] {
  return arrayField(block.transactions, 'transactions').map((tx) => {
    const hash = typeof tx === 'string' ? tx : (tx as JsonObject | null)?.hash
    if (typeof hash !== 'string') throw badResponse('transaction without hash', { field: 'hash' })
    return hash
  })
}

/**
 * A whole block: header (hash-checked), body and, when given, receipts. Errors carry the block
 * number in their message and details.
 */
export function rebuildBlock(block: JsonObject, opts: BlockRebuildOptions = {}): RawBlock {
  try {
    const header = rebuildHeader(block)
    checkHeaderHash(block, header)
    const body = rebuildBody(block, opts)
    if (opts.receipts === undefined) return { header, body }
    const receipts = rebuildReceipts(opts.receipts, { blockHash: block.hash as string, txHashes: transactionHashes(block) })
    return { header, body, receipts }
  } catch (err) {
    if (err instanceof RpcError && err.code !== RpcErrorCode.HeaderHashMismatch) {
      throw err.withContext(`block ${String(block.number)}`, { number: block.number, blockHash: block.hash })
    }
    throw err
  }
}

/**
 * Transactions as they sit in a block body: a legacy tx is an RLP list, a typed tx (EIP-2718) is an
 * RLP string holding `type || rlp(payload)`. The "envelope" (the list bytes, or type||payload) is
 * what the transactions trie stores and what the tx hash covers, so it is kept as received.
 * Fields are decoded on demand by `decodeTransaction`.
 */
import { DecodeError } from '../errors.js'
import type { Bytes } from './bytes.js'
import { keccak256, keccak256Parts } from './keccak.js'
import { recoverAddress } from './secp256k1.js'
import {
  bigIntOf,
  checkFixed,
  checkUint,
  decodeItem,
  encode,
  fixedOf,
  listItems,
  rawOf,
  stringOf,
  uintBytesOf,
  writePrefix,
  type RlpItem,
} from './rlp.js'

/** rlp(''): the zeros of an EIP-155 signing payload. */
const EMPTY_STRING = Uint8Array.of(0x80)
/** A type byte and the longest list prefix (1 + 8 length bytes). */
const MAX_LIST_HEAD = 10

export const TxType = { Legacy: 0, AccessList: 1, DynamicFee: 2, Blob: 3, SetCode: 4 } as const
export type TxTypeId = (typeof TxType)[keyof typeof TxType]

/** Fields per type, signature included (yParity/v, r, s are always the last three). */
const FIELD_COUNT: Record<number, number> = { 0: 9, 1: 11, 2: 12, 3: 14, 4: 13 }

export interface AccessListStats {
  addresses: number
  storageKeys: number
}

export interface DecodedTransaction {
  type: number
  /** Undefined for legacy transactions without EIP-155 replay protection. */
  chainId: bigint | undefined
  nonce: bigint
  /** Legacy and access-list txs: gasPrice. Others: undefined. */
  gasPrice: bigint | undefined
  maxPriorityFeePerGas: bigint | undefined
  maxFeePerGas: bigint | undefined
  gasLimit: bigint
  /** Undefined for contract creation. */
  to: Bytes | undefined
  value: bigint
  data: Bytes
  accessList: AccessListStats
  /** Raw access list item (for JSON rendering); undefined for legacy txs. */
  accessListItem: RlpItem | undefined
  maxFeePerBlobGas: bigint | undefined
  blobVersionedHashes: Bytes[] | undefined
  /** Raw authorization list item (EIP-7702); undefined for other types. */
  authorizationListItem: RlpItem | undefined
  authorizationCount: number
  /** Legacy: v as sent. Typed: yParity (0 or 1). */
  v: bigint
  /** r and s as canonical big-endian bytes (checked when decoded; never converted on the hot path). */
  rBytes: Bytes
  sBytes: Bytes
  /** The buffer the item positions refer to (the payload list). */
  payload: Bytes
  /** Where in `payload` the fields before the signature lie, as received: what the sender signed, behind a new list prefix. */
  unsignedFieldsStart: number
  unsignedFieldsEnd: number
}

/** A transaction as received: its envelope bytes and type; decoded fields on demand. */
export class Transaction {
  private cachedHash: Bytes | undefined
  private cachedDecoded: DecodedTransaction | undefined
  /** null = recovery was attempted and failed. */
  private cachedSender: Bytes | null | undefined

  constructor(
    readonly type: number,
    /** Trie value and hash preimage: list RLP (legacy) or type || rlp(payload). */
    readonly envelope: Bytes,
  ) {}

  /** From one element of a body's transaction list. */
  static fromBodyItem(buf: Bytes, item: RlpItem): Transaction {
    if (item.list) return new Transaction(TxType.Legacy, rawOf(buf, item))
    const envelope = stringOf(buf, item)
    if (envelope.length === 0) throw new DecodeError('TX_EMPTY', 'empty typed transaction')
    const type = envelope[0]
    if (type >= 0x80) throw new DecodeError('TX_BAD_ENVELOPE', `typed transaction starts with ${type}`)
    return new Transaction(type, envelope)
  }

  /** From network/JSON-RPC "raw transaction" form: list RLP (legacy) or type || rlp(payload). */
  static fromEnvelope(envelope: Bytes): Transaction {
    if (envelope.length === 0) throw new DecodeError('TX_EMPTY', 'empty transaction')
    if (envelope[0] >= 0xc0) return new Transaction(TxType.Legacy, envelope)
    if (envelope[0] >= 0x80) throw new DecodeError('TX_BAD_ENVELOPE', `transaction starts with ${envelope[0]}`)
    return new Transaction(envelope[0], envelope)
  }

  get hash(): Bytes {
    return (this.cachedHash ??= keccak256(this.envelope))
  }

  /** Decodes and shape-checks every field (throws DecodeError). */
  decode(): DecodedTransaction {
    return (this.cachedDecoded ??= decodeTransaction(this.type, this.envelope))
  }

  /** The item as it appears in a block body's tx list (legacy list, or string wrapping the envelope). */
  bodyItem(): Bytes {
    return this.type === TxType.Legacy ? this.envelope : encode(this.envelope)
  }

  /**
   * Hash that the sender signed: keccak(type? || rlp(the fields before the signature)), hashed from
   * the fields as received (nothing is encoded but the list's prefix).
   */
  signingHash(): Bytes {
    const d = this.decode()
    const parts = [d.payload.subarray(d.unsignedFieldsStart, d.unsignedFieldsEnd)]
    // EIP-155: rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])
    if (this.type === TxType.Legacy && d.chainId !== undefined) parts.push(encode(d.chainId), EMPTY_STRING, EMPTY_STRING)
    let payload = 0
    for (const p of parts) payload += p.length
    const head = new Uint8Array(MAX_LIST_HEAD)
    let at = 0
    if (this.type !== TxType.Legacy) head[at++] = this.type
    at = writePrefix(head, at, payload, 0xc0, 0xf7)
    return keccak256Parts([head.subarray(0, at), ...parts])
  }

  /** Recovery id (0/1) from v or yParity; undefined when v is malformed. */
  recoveryId(): number | undefined {
    const d = this.decode()
    if (this.type !== TxType.Legacy) return d.v <= 1n ? Number(d.v) : undefined
    if (d.v === 27n || d.v === 28n) return Number(d.v - 27n)
    if (d.chainId !== undefined) return Number(d.v - 35n - d.chainId * 2n)
    return undefined
  }

  /** Sender address, or undefined if the signature does not recover. */
  recoverSender(): Bytes | undefined {
    const d = this.decode()
    const recId = this.recoveryId()
    if (recId === undefined) return undefined
    return recoverAddress(this.signingHash(), d.rBytes, d.sBytes, recId)
  }

  /** Like `recoverSender`, computed once: validation recovers it, later readers get it for free. */
  sender(): Bytes | undefined {
    if (this.cachedSender === undefined) this.cachedSender = this.recoverSender() ?? null
    return this.cachedSender ?? undefined
  }
}

function accessListStats(buf: Bytes, item: RlpItem): AccessListStats {
  let addresses = 0
  let storageKeys = 0
  for (const entry of listItems(buf, item)) {
    const parts = listItems(buf, entry, 2)
    if (parts.length !== 2) throw new DecodeError('TX_BAD_ACCESS_LIST', 'access list entry must be [address, keys]')
    checkFixed(parts[0], 20, 'access list address')
    const keys = listItems(buf, parts[1])
    for (const key of keys) checkFixed(key, 32, 'access list storage key')
    addresses++
    storageKeys += keys.length
  }
  return { addresses, storageKeys }
}

function authorizationCount(buf: Bytes, item: RlpItem): number {
  const auths = listItems(buf, item)
  for (const a of auths) {
    // [chainId, address, nonce, yParity, r, s]
    const f = listItems(buf, a, 6)
    if (f.length !== 6) throw new DecodeError('TX_BAD_AUTHORIZATION', 'authorization must have 6 fields')
    checkUint(buf, f[0], 'authorization chainId')
    checkFixed(f[1], 20, 'authorization address')
    checkUint(buf, f[2], 'authorization nonce', 8)
    checkUint(buf, f[3], 'authorization yParity', 1)
    checkUint(buf, f[4], 'authorization r')
    checkUint(buf, f[5], 'authorization s')
  }
  return auths.length
}

function decodeTo(buf: Bytes, item: RlpItem, allowCreate: boolean): Bytes | undefined {
  const s = stringOf(buf, item)
  if (s.length === 0) {
    if (!allowCreate) throw new DecodeError('TX_MISSING_TO', 'this transaction type cannot create a contract')
    return undefined
  }
  if (s.length !== 20) throw new DecodeError('RLP_WRONG_SIZE', `to must be 20 bytes, got ${s.length}`)
  return s
}

export function decodeTransaction(type: number, envelope: Bytes): DecodedTransaction {
  const expected = FIELD_COUNT[type]
  if (expected === undefined) throw new DecodeError('TX_TYPE_UNKNOWN', `unknown transaction type ${type}`)
  const payload = type === TxType.Legacy ? envelope : envelope.subarray(1)
  const f = listItems(payload, decodeItem(payload), expected)
  if (f.length !== expected) {
    throw new DecodeError('TX_WRONG_FIELD_COUNT', `type ${type} transaction has ${f.length} fields, expected ${expected}`)
  }
  // The signature is the last three fields of every type.
  const sigAt = expected - 3
  const v = bigIntOf(payload, f[sigAt], 'v')
  const rBytes = uintBytesOf(payload, f[sigAt + 1], 'r')
  const sBytes = uintBytesOf(payload, f[sigAt + 2], 's')
  const unsignedFieldsStart = f[0].offset
  const unsignedFieldsEnd = f[sigAt].offset
  if (type === TxType.Legacy) {
    const chainId = v >= 35n ? (v - 35n) / 2n : undefined
    return {
      type,
      chainId,
      nonce: bigIntOf(payload, f[0], 'nonce', 8),
      gasPrice: bigIntOf(payload, f[1], 'gasPrice'),
      maxPriorityFeePerGas: undefined,
      maxFeePerGas: undefined,
      gasLimit: bigIntOf(payload, f[2], 'gasLimit', 8),
      to: decodeTo(payload, f[3], true),
      value: bigIntOf(payload, f[4], 'value'),
      data: stringOf(payload, f[5]),
      accessList: { addresses: 0, storageKeys: 0 },
      accessListItem: undefined,
      maxFeePerBlobGas: undefined,
      blobVersionedHashes: undefined,
      authorizationListItem: undefined,
      authorizationCount: 0,
      v,
      rBytes,
      sBytes,
      payload,
      unsignedFieldsStart,
      unsignedFieldsEnd,
    }
  }
  const dynamic = type >= TxType.DynamicFee
  const base = dynamic ? 1 : 0 // dynamic-fee types carry two fee fields where type 1 has gasPrice
  return {
    type,
    chainId: bigIntOf(payload, f[0], 'chainId'),
    nonce: bigIntOf(payload, f[1], 'nonce', 8),
    gasPrice: dynamic ? undefined : bigIntOf(payload, f[2], 'gasPrice'),
    maxPriorityFeePerGas: dynamic ? bigIntOf(payload, f[2], 'maxPriorityFeePerGas') : undefined,
    maxFeePerGas: dynamic ? bigIntOf(payload, f[3], 'maxFeePerGas') : undefined,
    gasLimit: bigIntOf(payload, f[3 + base], 'gasLimit', 8),
    to: decodeTo(payload, f[4 + base], type <= TxType.DynamicFee),
    value: bigIntOf(payload, f[5 + base], 'value'),
    data: stringOf(payload, f[6 + base]),
    accessList: accessListStats(payload, f[7 + base]),
    accessListItem: f[7 + base],
    maxFeePerBlobGas: type === TxType.Blob ? bigIntOf(payload, f[9], 'maxFeePerBlobGas') : undefined,
    blobVersionedHashes:
      type === TxType.Blob ? listItems(payload, f[10]).map((h) => fixedOf(payload, h, 32, 'blob versioned hash')) : undefined,
    authorizationListItem: type === TxType.SetCode ? f[9] : undefined,
    authorizationCount: type === TxType.SetCode ? authorizationCount(payload, f[9]) : 0,
    v,
    rBytes,
    sBytes,
    payload,
    unsignedFieldsStart,
    unsignedFieldsEnd,
  }
}

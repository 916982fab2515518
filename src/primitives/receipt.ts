/**
 * Receipts in both wire forms:
 *  - eth/66-68 (consensus form): legacy = rlp([statusOrRoot, cumulativeGas, bloom, logs]); typed =
 *    RLP string holding type || rlp([...same]). The bytes are exactly the receipts-trie value.
 *  - eth/69 (EIP-7642): rlp([txType, statusOrRoot, cumulativeGas, logs]) for every type; no bloom.
 *    The trie value is rebuilt (bloom derived from the logs), the logs are spliced in as received.
 * The store keeps the eth/69 form (compact); blooms are derived on read.
 */
import { DecodeError } from '../errors.js'
import { type Bytes, equalBytes } from './bytes.js'
import { keccak256Into, keccak256PairInto } from './keccak.js'
import {
  bigIntOf,
  decodeItem,
  encode,
  encodedLength,
  encodeListOfEncoded,
  fixedOf,
  listItems,
  rawOf,
  readItem,
  stringOf,
  writeListOfEncoded,
  type RlpItem,
} from './rlp.js'

export const BLOOM_BYTES = 256

export type ReceiptEncoding = 'eth68' | 'eth69'

/** Where the bloom functions read digests (no array per entry): one, or a pair. */
const digests = new Uint8Array(64)

/** The three bloom bit positions (11-bit slices) of the keccak digest at `at` in `h`, packed in one number. */
function bitsOfDigest(h: Bytes, at: number): number {
  return (((h[at] << 8) | h[at + 1]) & 2047) + (((h[at + 2] << 8) | h[at + 3]) & 2047) * 2048 + (((h[at + 4] << 8) | h[at + 5]) & 2047) * 4_194_304
}

/** The three bloom bit positions of one entry (address or topic): 11-bit slices of keccak(entry). */
function bloomBitsOf(entry: Bytes): number {
  keccak256Into(entry, digests)
  return bitsOfDigest(digests, 0)
}

function setBloomBits(bloom: Bytes, packed: number): void {
  // `packed` takes 33 bits, so it is a double: split it once with exact power-of-two arithmetic
  // instead of a floating-point modulo per bit.
  const high = Math.floor(packed * (1 / 4_194_304))
  const low = packed - high * 4_194_304
  setBloomBit(bloom, low & 2047)
  setBloomBit(bloom, low >>> 11)
  setBloomBit(bloom, high)
}

function setBloomBit(bloom: Bytes, bit: number): void {
  bloom[BLOOM_BYTES - 1 - (bit >> 3)] |= 1 << (bit & 7)
}

/** Adds one entry (address or topic) to a 2048-bit bloom: 3 bits from keccak(entry). */
export function bloomAdd(bloom: Bytes, entry: Bytes): void {
  setBloomBits(bloom, bloomBitsOf(entry))
}

/**
 * Adds entries to a bloom two at a time (one SIMD keccak pass per pair: the entries past the first
 * topic, indexed arguments, seldom repeat and are not cached). `flush` adds the one left over.
 */
class PairedBloomAdder {
  private pending: Bytes | undefined

  constructor(private readonly bloom: Bytes) {}

  add(entry: Bytes): void {
    if (this.pending === undefined) {
      this.pending = entry
      return
    }
    keccak256PairInto(this.pending, entry, digests)
    setBloomBits(this.bloom, bitsOfDigest(digests, 0))
    setBloomBits(this.bloom, bitsOfDigest(digests, 32))
    this.pending = undefined
  }

  flush(): Bytes {
    if (this.pending !== undefined) bloomAdd(this.bloom, this.pending)
    this.pending = undefined
    return this.bloom
  }
}

/**
 * Bloom bits of entries already hashed. Logs repeat contract addresses and event signatures (the
 * Transfer topic alone is in most of them), within a block and across blocks, so one cache per
 * thread saves a large share of the keccak calls, which dominate bloom computation. Only those two
 * kinds go through the cache: indexed arguments (topics 1-3) repeat too rarely to pay for a lookup.
 *
 * Keyed by a 32-bit mix of the entry's bytes and confirmed by comparing the entry itself, so an
 * entry crafted to collide only costs a keccak, never a wrong bloom. Entries are copied (a view
 * would keep a whole message buffer alive). Bounded: cleared when full.
 */
export class BloomCache {
  private readonly entries = new Map<number, { entry: Bytes; bits: number }>()

  constructor(private readonly maxEntries = 65_536) {}

  add(bloom: Bytes, entry: Bytes): void {
    setBloomBits(bloom, this.bitsOf(entry))
  }

  private bitsOf(entry: Bytes): number {
    const key = bloomCacheKey(entry)
    const hit = this.entries.get(key)
    if (hit !== undefined && equalBytes(hit.entry, entry)) return hit.bits
    const bits = bloomBitsOf(entry)
    if (hit === undefined) {
      if (this.entries.size >= this.maxEntries) this.entries.clear()
      this.entries.set(key, { entry: entry.slice(), bits })
    }
    return bits
  }
}

/** The bloom cache every receipt check of this thread shares (addresses and event signatures). */
export const sharedBloomCache = new BloomCache()

/**
 * The cache's key: a 32-bit mix of the first 8 bytes and the length. Addresses and topics are hashes
 * or hash-like, so those bytes spread well; entries made to collide only lose the cache (the entry is
 * compared before its bits are used).
 */
export function bloomCacheKey(b: Bytes): number {
  if (b.length < 8) {
    let h = b.length
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x9e3779b1) ^ (h >>> 15)
    return h
  }
  const low = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)
  const high = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)
  return Math.imul(low ^ b.length, 0x9e3779b1) ^ high
}

export function bloomOr(into: Bytes, other: Bytes): void {
  for (let i = 0; i < BLOOM_BYTES; i++) into[i] |= other[i]
}

/** `bloomOr` on 32-bit words, for blooms that start a buffer of their own (aligned views). */
export function bloomOrWords(into: Uint32Array, other: Uint32Array): void {
  for (let i = 0; i < BLOOM_BYTES / 4; i++) into[i] |= other[i]
}

export interface Log {
  address: Bytes
  topics: Bytes[]
  data: Bytes
}

/** Decodes and shape-checks a logs list; returns the logs (zero-copy fields). */
export function decodeLogs(buf: Bytes, logsItem: RlpItem): Log[] {
  return listItems(buf, logsItem).map((logItem) => {
    const f = listItems(buf, logItem, 3)
    if (f.length !== 3) throw new DecodeError('RECEIPT_BAD_LOG', 'log must be [address, topics, data]')
    return {
      address: fixedOf(buf, f[0], 20, 'log address'),
      topics: listItems(buf, f[1]).map((t) => fixedOf(buf, t, 32, 'log topic')),
      data: stringOf(buf, f[2]),
    }
  })
}

export function logsBloom(logs: readonly Log[], cache?: BloomCache): Bytes {
  const bloom = new Uint8Array(BLOOM_BYTES)
  const uncached = new PairedBloomAdder(bloom)
  for (const log of logs) {
    const topics = log.topics
    if (cache) {
      cache.add(bloom, log.address)
      if (topics.length > 0) cache.add(bloom, topics[0])
    } else {
      bloomAdd(bloom, log.address)
      if (topics.length > 0) bloomAdd(bloom, topics[0])
    }
    for (let i = 1; i < topics.length; i++) uncached.add(topics[i])
  }
  return uncached.flush()
}

/** rlp string prefix of a 256-byte bloom. */
const BLOOM_PREFIX = Uint8Array.of(0xb9, 0x01, 0x00)

/**
 * Bloom of a logs list read straight from its RLP, with the checks and error codes of `decodeLogs`
 * (log = [20-byte address, [32-byte topic, ...], data]) but without building Log objects; written
 * into `bloom` (all zero on entry).
 */
function bloomOfLogsItem(buf: Bytes, logsItem: RlpItem, cache: BloomCache | undefined, bloom: Bytes): Bytes {
  const uncached = new PairedBloomAdder(bloom)
  for (let pos = logsItem.start; pos < logsItem.end; ) {
    const logItem = readItem(buf, pos, logsItem.end)
    pos = logItem.end
    const [addressItem, topicsItem, dataItem] = logFields(buf, logItem)
    const address = fixedOf(buf, addressItem, 20, 'log address')
    if (cache) cache.add(bloom, address)
    else bloomAdd(bloom, address)
    if (!topicsItem.list) throw new DecodeError('RLP_EXPECTED_LIST', 'expected a list, found a string')
    for (let at = topicsItem.start, i = 0; at < topicsItem.end; i++) {
      const topicItem = readItem(buf, at, topicsItem.end)
      at = topicItem.end
      const topic = fixedOf(buf, topicItem, 32, 'log topic')
      if (i === 0 && cache) cache.add(bloom, topic)
      else uncached.add(topic)
    }
    if (dataItem.list) throw new DecodeError('RLP_EXPECTED_STRING', 'expected a string, found a list')
  }
  return uncached.flush()
}

/** The three fields of a log item (what `listItems(buf, log, 3)` and a count check give, without the array). */
function logFields(buf: Bytes, log: RlpItem): [RlpItem, RlpItem, RlpItem] {
  if (!log.list) throw new DecodeError('RLP_EXPECTED_LIST', 'expected a list, found a string')
  const fields: RlpItem[] = []
  for (let pos = log.start; pos < log.end; ) {
    if (fields.length >= 3) throw new DecodeError('RLP_TOO_MANY_ITEMS', 'list has more than 3 items')
    const item = readItem(buf, pos, log.end)
    fields.push(item)
    pos = item.end
  }
  if (fields.length !== 3) throw new DecodeError('RECEIPT_BAD_LOG', 'log must be [address, topics, data]')
  return fields as [RlpItem, RlpItem, RlpItem]
}

/** One receipt, from either wire form. Positions refer to `buf`. */
export class Receipt {
  private cachedLogs: Log[] | undefined

  private constructor(
    readonly encoding: ReceiptEncoding,
    readonly type: number,
    /** 1-byte status (empty = 0 = failure) after Byzantium, 32-byte post-state root before. */
    readonly statusOrRoot: Bytes,
    readonly cumulativeGasUsed: bigint,
    /** Bloom as received (eth/68 only). */
    readonly receivedBloom: Bytes | undefined,
    private readonly buf: Bytes,
    private readonly logsItem: RlpItem,
    /** eth/68: the trie value as received. */
    private readonly consensusBytes: Bytes | undefined,
    /** eth/69: the status and cumulative gas fields as received (spliced into the consensus form). */
    private readonly statusAndGasRaw: Bytes | undefined,
  ) {}

  /** Decodes one element of a block's receipt list, either encoding. */
  static fromListItem(buf: Bytes, item: RlpItem): Receipt {
    if (!item.list) {
      // eth/68 typed receipt: string holding type || rlp([status, cumGas, bloom, logs])
      const envelope = stringOf(buf, item)
      if (envelope.length === 0 || envelope[0] >= 0x80) {
        throw new DecodeError('RECEIPT_BAD_ENVELOPE', 'typed receipt must start with its type byte')
      }
      return Receipt.fromConsensus(envelope[0], envelope, envelope.subarray(1))
    }
    const f = listItems(buf, item, 4)
    if (f.length !== 4) throw new DecodeError('RECEIPT_WRONG_FIELD_COUNT', `receipt has ${f.length} fields, expected 4`)
    if (hasBloomField(f)) {
      // eth/68 legacy receipt: [statusOrRoot, cumGas, bloom, logs]
      return Receipt.fromConsensus(0, rawOf(buf, item), rawOf(buf, item))
    }
    // eth/69: [type, statusOrRoot, cumGas, logs]
    const type = Number(bigIntOf(buf, f[0], 'receipt type', 1))
    const statusAndGas = buf.subarray(f[1].offset, f[2].end)
    return new Receipt('eth69', type, statusOf(buf, f[1]), bigIntOf(buf, f[2], 'cumulativeGasUsed', 8), undefined, buf, checkLogsList(f[3]), undefined, statusAndGas)
  }

  /** From the consensus encoding (trie value): legacy list, or type || rlp(list). */
  static fromConsensus(type: number, consensusBytes: Bytes, list: Bytes): Receipt {
    const f = listItems(list, decodeItem(list), 4)
    if (f.length !== 4) throw new DecodeError('RECEIPT_WRONG_FIELD_COUNT', `receipt has ${f.length} fields, expected 4`)
    return new Receipt(
      'eth68',
      type,
      statusOf(list, f[0]),
      bigIntOf(list, f[1], 'cumulativeGasUsed', 8),
      fixedOf(list, f[2], BLOOM_BYTES, 'receipt bloom'),
      list,
      checkLogsList(f[3]),
      consensusBytes,
      undefined,
    )
  }

  logs(): Log[] {
    return (this.cachedLogs ??= decodeLogs(this.buf, this.logsItem))
  }

  /** The raw logs list as received. */
  logsRaw(): Bytes {
    return rawOf(this.buf, this.logsItem)
  }

  /**
   * Bloom computed from the logs (never trusted from the wire); `cache` saves repeated keccaks. Into
   * `out` when given (it is zeroed first: a caller reuses one buffer), else a new array.
   */
  computeBloom(cache?: BloomCache, out?: Bytes): Bytes {
    const bloom = out ? out.fill(0) : new Uint8Array(BLOOM_BYTES)
    return bloomOfLogsItem(this.buf, this.logsItem, cache, bloom)
  }

  /** True for a post-Byzantium status receipt; false for a pre-Byzantium state-root receipt. */
  get hasStatus(): boolean {
    return this.statusOrRoot.length !== 32
  }

  /**
   * Trie value: the received bytes for eth/68; for eth/69, rlp([status, cumulativeGas, bloom, logs])
   * (typed: prefixed by the type byte) built in one copy from the fields as received and the
   * derived bloom.
   */
  consensusEncoding(bloom: Bytes = this.receivedBloom ?? this.computeBloom()): Bytes {
    if (this.consensusBytes !== undefined) return this.consensusBytes
    const out = new Uint8Array(this.builtEncodingSize())
    this.writeConsensusEncoding(out, 0, bloom)
    return out
  }

  /** Bytes the consensus encoding takes when built (eth/69); 0 for eth/68, which keeps the bytes received. */
  builtEncodingSize(): number {
    if (this.consensusBytes !== undefined) return 0
    return (this.type === 0 ? 0 : 1) + encodedLength(this.consensusPayload())
  }

  /**
   * Writes the built consensus encoding (eth/69 only: `builtEncodingSize` > 0) into `out` from `at`,
   * the fields as received around the derived `bloom`; returns the end. Lets a caller put a whole
   * block's encodings in one buffer: each buffer of its own costs a backing-store allocation.
   */
  writeConsensusEncoding(out: Bytes, at: number, bloom: Bytes): number {
    // Every receipt has one of the two: eth/68 keeps its consensus bytes, eth/69 its raw fields.
    if (this.consensusBytes !== undefined) throw new RangeError('an eth/68 receipt keeps its consensus encoding as received')
    const parts = [this.statusAndGasRaw!, BLOOM_PREFIX, bloom, this.logsRaw()]
    return writeListOfEncoded(out, at, parts, this.consensusPayload(), this.type === 0 ? undefined : this.type)
  }

  private consensusPayload(): number {
    return this.statusAndGasRaw!.length + BLOOM_PREFIX.length + BLOOM_BYTES + (this.logsItem.end - this.logsItem.offset)
  }

  /** Compact eth/69 item: rlp([type, statusOrRoot, cumulativeGas, logs]). */
  eth69Encoding(): Bytes {
    return encodeListOfEncoded([encode(this.type), encode(this.statusOrRoot), encode(this.cumulativeGasUsed), this.logsRaw()])
  }
}

/** A 4-field receipt list whose third field is a 256-byte string: eth/68 legacy [status, gas, bloom, logs], not eth/69. */
function hasBloomField(fields: readonly RlpItem[]): boolean {
  return !fields[2].list && fields[2].end - fields[2].start === BLOOM_BYTES
}

function statusOf(buf: Bytes, item: RlpItem): Bytes {
  const s = stringOf(buf, item)
  if (s.length === 32) return s
  if (s.length === 0 || (s.length === 1 && s[0] === 1)) return s
  throw new DecodeError('RECEIPT_BAD_STATUS', `receipt status must be empty, 0x01 or a 32-byte root (got ${s.length} bytes)`)
}

function checkLogsList(item: RlpItem): RlpItem {
  if (!item.list) throw new DecodeError('RLP_EXPECTED_LIST', 'receipt logs must be a list')
  return item
}

/** A block's receipts, decoded from one element of a Receipts message (or a stored value). */
export function decodeBlockReceipts(buf: Bytes, maxItems = Number.MAX_SAFE_INTEGER): Receipt[] {
  return listItems(buf, decodeItem(buf), maxItems).map((item) => Receipt.fromListItem(buf, item))
}

/** Receipts of one block from a list item inside a larger message (no copy). */
export function blockReceiptsAt(buf: Bytes, item: RlpItem, maxItems = Number.MAX_SAFE_INTEGER): Receipt[] {
  return listItems(buf, item, maxItems).map((child) => Receipt.fromListItem(buf, child))
}

/** Whether every receipt of a (well-formed) list is in the eth/69 form; reads only the item shapes. */
export function isEth69ReceiptList(buf: Bytes): boolean {
  for (const item of listItems(buf, decodeItem(buf))) {
    if (!item.list) return false
    const f = listItems(buf, item, 4)
    if (f.length === 4 && hasBloomField(f)) return false
  }
  return true
}

/** The compact (eth/69) encoding of a block's receipts, as the store keeps it. */
export function encodeReceiptsEth69(receipts: readonly Receipt[]): Bytes {
  return encodeListOfEncoded(receipts.map((r) => r.eth69Encoding()))
}

/** The eth/68 encoding of a block's receipts (typed receipts wrapped as strings). */
export function encodeReceiptsEth68(receipts: readonly Receipt[]): Bytes {
  return encodeListOfEncoded(
    receipts.map((r) => {
      const c = r.consensusEncoding()
      return r.type === 0 ? c : encode(c)
    }),
  )
}

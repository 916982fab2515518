/**
 * Zero-copy RLP. Decoding returns positions into the input buffer (no copies, no object trees), so a
 * block keeps the exact bytes it arrived in and a check decodes only the fields it needs. Every
 * decode is bounded by the input: an item can never claim more bytes than the buffer holds, and a
 * list of N children needs at least N bytes, so allocation is linear in the input size.
 *
 * Non-canonical encodings (a single byte below 0x80 wrapped in a string, long forms for short
 * payloads, leading zeros in a length) are rejected: consensus objects have exactly one encoding.
 */
import { DecodeError } from '../errors.js'
import { type Bytes, bytesToNumber, bigIntToBytes, uintAt } from './bytes.js'

export interface RlpItem {
  /** True for a list, false for a byte string. */
  readonly list: boolean
  /** Offset of the item's first byte (its prefix). */
  readonly offset: number
  /** Offset of the payload. */
  readonly start: number
  /** Offset one past the payload (and the item). */
  readonly end: number
}

function fail(code: string, message: string): never {
  throw new DecodeError(code, message)
}

function readLength(buf: Bytes, pos: number, lenOfLen: number, limit: number): number {
  if (pos + lenOfLen > limit) fail('RLP_TRUNCATED', 'length prefix runs past the end of input')
  if (buf[pos] === 0) fail('RLP_NON_CANONICAL', 'length has leading zero bytes')
  if (lenOfLen > 6) fail('RLP_TOO_LONG', 'length exceeds 2^48')
  let len = 0
  for (let i = 0; i < lenOfLen; i++) len = len * 256 + buf[pos + i]
  if (len <= 55) fail('RLP_NON_CANONICAL', 'long form used for a payload of 55 bytes or less')
  return len
}

/** Reads the item starting at `offset`; it must end at or before `limit`. */
export function readItem(buf: Bytes, offset: number, limit: number = buf.length): RlpItem {
  if (offset >= limit) fail('RLP_TRUNCATED', 'unexpected end of input')
  const b = buf[offset]
  let list = false
  let start: number
  let len: number
  if (b < 0x80) {
    return { list: false, offset, start: offset, end: offset + 1 }
  } else if (b <= 0xb7) {
    len = b - 0x80
    start = offset + 1
    if (len === 1) {
      if (start >= limit) fail('RLP_TRUNCATED', 'string runs past the end of input')
      if (buf[start] < 0x80) fail('RLP_NON_CANONICAL', 'single byte below 0x80 must be encoded as itself')
    }
  } else if (b <= 0xbf) {
    const lenOfLen = b - 0xb7
    len = readLength(buf, offset + 1, lenOfLen, limit)
    start = offset + 1 + lenOfLen
  } else if (b <= 0xf7) {
    list = true
    len = b - 0xc0
    start = offset + 1
  } else {
    list = true
    const lenOfLen = b - 0xf7
    len = readLength(buf, offset + 1, lenOfLen, limit)
    start = offset + 1 + lenOfLen
  }
  const end = start + len
  if (end > limit) fail('RLP_TRUNCATED', `item of ${len} bytes runs past the end of input`)
  return { list, offset, start, end }
}

/** The whole buffer must be exactly one item. */
export function decodeItem(buf: Bytes): RlpItem {
  const item = readItem(buf, 0, buf.length)
  if (item.end !== buf.length) fail('RLP_TRAILING_BYTES', `${buf.length - item.end} bytes after the item`)
  return item
}

/** Children of a list item. `maxItems` bounds what an untrusted peer can make us allocate. */
export function listItems(buf: Bytes, item: RlpItem, maxItems: number = Number.MAX_SAFE_INTEGER): RlpItem[] {
  if (!item.list) fail('RLP_EXPECTED_LIST', 'expected a list, found a string')
  const out: RlpItem[] = []
  let pos = item.start
  while (pos < item.end) {
    if (out.length >= maxItems) fail('RLP_TOO_MANY_ITEMS', `list has more than ${maxItems} items`)
    const child = readItem(buf, pos, item.end)
    out.push(child)
    pos = child.end
  }
  return out
}

/** Decodes `buf` as a list and returns its children, checking the count when `expected` is given. */
export function decodeList(buf: Bytes, expected?: { min: number; max: number }): RlpItem[] {
  const items = listItems(buf, decodeItem(buf), expected?.max ?? Number.MAX_SAFE_INTEGER)
  if (expected && items.length < expected.min) {
    fail('RLP_WRONG_ITEM_COUNT', `list has ${items.length} items, expected at least ${expected.min}`)
  }
  return items
}

/** Payload of a string item (zero-copy). */
export function stringOf(buf: Bytes, item: RlpItem): Bytes {
  if (item.list) fail('RLP_EXPECTED_STRING', 'expected a string, found a list')
  return buf.subarray(item.start, item.end)
}

/** The item's full encoding, prefix included (zero-copy). */
export function rawOf(buf: Bytes, item: RlpItem): Bytes {
  return buf.subarray(item.offset, item.end)
}

/** Checks that the item is a string of exactly `size` bytes, without taking it out (nothing allocated). */
export function checkFixed(item: RlpItem, size: number, what: string): void {
  if (item.list) fail('RLP_EXPECTED_STRING', 'expected a string, found a list')
  if (item.end - item.start !== size) fail('RLP_WRONG_SIZE', `${what} must be ${size} bytes, got ${item.end - item.start}`)
}

/** A string of exactly `size` bytes (hashes, addresses, blooms). */
export function fixedOf(buf: Bytes, item: RlpItem, size: number, what: string): Bytes {
  checkFixed(item, size, what)
  return buf.subarray(item.start, item.end)
}

/** Checks that the item is a canonical unsigned integer of at most `maxBytes` bytes (nothing allocated). */
export function checkUint(buf: Bytes, item: RlpItem, what: string, maxBytes = 32): void {
  if (item.list) fail('RLP_EXPECTED_STRING', 'expected a string, found a list')
  const length = item.end - item.start
  if (length > 0 && buf[item.start] === 0) fail('RLP_LEADING_ZERO', `${what} has leading zero bytes`)
  if (length > maxBytes) fail('RLP_INT_OVERFLOW', `${what} exceeds ${maxBytes * 8} bits`)
}

/** The big-endian bytes of a canonical unsigned integer of at most `maxBytes` bytes (zero-copy). */
export function uintBytesOf(buf: Bytes, item: RlpItem, what: string, maxBytes = 32): Bytes {
  checkUint(buf, item, what, maxBytes)
  return buf.subarray(item.start, item.end)
}

/** Unsigned integer of at most `maxBytes` bytes (8 = uint64, 32 = uint256), canonical; read in place. */
export function bigIntOf(buf: Bytes, item: RlpItem, what: string, maxBytes = 32): bigint {
  checkUint(buf, item, what, maxBytes)
  return uintAt(buf, item.start, item.end)
}

/** Unsigned integer that fits a JS number (block numbers, counts). */
export function numberOf(buf: Bytes, item: RlpItem, what: string): number {
  checkUint(buf, item, what, 8)
  if (item.end - item.start > 7) fail('RLP_INT_OVERFLOW', `${what} exceeds 2^53`)
  return bytesToNumber(buf.subarray(item.start, item.end))
}

// ---------------------------------------------------------------------------------------------
// Encoding: used to build what the wire does not carry (signing payloads, eth/69 receipts' trie
// values, headers rebuilt from JSON-RPC). Inputs that are already RLP are passed through as-is.

export type RlpInput = Bytes | bigint | number | readonly RlpInput[]

/** An already-encoded item, spliced in verbatim (e.g. a raw field slice from the wire). */
export class Encoded {
  constructor(readonly bytes: Bytes) {}
}

export type EncodableInput = RlpInput | Encoded | readonly EncodableInput[]

function prefixLength(len: number): number {
  if (len <= 55) return 1
  let n = 0
  for (let l = len; l > 0; l = Math.floor(l / 256)) n++
  return 1 + n
}

function stringSize(s: Bytes): number {
  return s.length === 1 && s[0] < 0x80 ? 1 : prefixLength(s.length) + s.length
}

/** Encoded size of an item (string or list) whose payload is `payloadLength` bytes (strings: not a single byte below 0x80). */
export function encodedLength(payloadLength: number): number {
  return prefixLength(payloadLength) + payloadLength
}

/** Writes the prefix of an item of `len` payload bytes (strings: 0x80 / 0xb7, lists: 0xc0 / 0xf7) at `pos`; returns the end. */
export function writePrefix(out: Bytes, pos: number, len: number, short: number, long: number): number {
  if (len <= 55) {
    out[pos] = short + len
    return pos + 1
  }
  const lenBytes = prefixLength(len) - 1
  out[pos] = long + lenBytes
  for (let i = lenBytes; i >= 1; i--) {
    out[pos + i] = len & 0xff
    len = Math.floor(len / 256)
  }
  return pos + 1 + lenBytes
}

type Plan = { kind: 'str'; data: Bytes; size: number } | { kind: 'raw'; data: Bytes; size: number } | { kind: 'list'; items: Plan[]; payload: number; size: number }

function plan(input: EncodableInput): Plan {
  if (input instanceof Encoded) return { kind: 'raw', data: input.bytes, size: input.bytes.length }
  if (input instanceof Uint8Array) {
    return { kind: 'str', data: input, size: stringSize(input) }
  }
  if (typeof input === 'bigint' || typeof input === 'number') return plan(bigIntToBytes(input))
  const items = (input as readonly EncodableInput[]).map(plan)
  let payload = 0
  for (const it of items) payload += it.size
  return { kind: 'list', items, payload, size: prefixLength(payload) + payload }
}

function write(p: Plan, out: Bytes, pos: number): number {
  switch (p.kind) {
    case 'raw':
      out.set(p.data, pos)
      return pos + p.data.length
    case 'str':
      if (p.size === 1 && p.data.length === 1) {
        out[pos] = p.data[0]
        return pos + 1
      }
      pos = writePrefix(out, pos, p.data.length, 0x80, 0xb7)
      out.set(p.data, pos)
      return pos + p.data.length
    case 'list':
      pos = writePrefix(out, pos, p.payload, 0xc0, 0xf7)
      for (const it of p.items) pos = write(it, out, pos)
      return pos
  }
}

/** Encodes nested byte strings, integers, lists and pre-encoded slices into one buffer. */
export function encode(input: EncodableInput): Bytes {
  const p = plan(input)
  const out = new Uint8Array(p.size)
  write(p, out, 0)
  return out
}

/**
 * Wraps already-encoded items in a list header (one copy, no re-encoding of the items). With
 * `typeByte`, the list is preceded by it: an EIP-2718 envelope `type || rlp(list)`.
 */
export function encodeListOfEncoded(parts: readonly Bytes[], typeByte?: number): Bytes {
  let payload = 0
  for (const p of parts) payload += p.length
  const out = new Uint8Array((typeByte === undefined ? 0 : 1) + encodedLength(payload))
  writeListOfEncoded(out, 0, parts, payload, typeByte)
  return out
}

/** `encodeListOfEncoded` written into `out` from `at` (`payload`: the parts' total length); returns the end. */
export function writeListOfEncoded(out: Bytes, at: number, parts: readonly Bytes[], payload: number, typeByte?: number): number {
  let pos = at
  if (typeByte !== undefined) out[pos++] = typeByte
  pos = writePrefix(out, pos, payload, 0xc0, 0xf7)
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return pos
}

/** rlp(list of byte strings) in one allocation and one copy per string (trie leaves, hot path). */
export function encodeStringList(strings: readonly Bytes[]): Bytes {
  let payload = 0
  for (const s of strings) payload += stringSize(s)
  const out = new Uint8Array(prefixLength(payload) + payload)
  let pos = writePrefix(out, 0, payload, 0xc0, 0xf7)
  for (const s of strings) {
    if (s.length === 1 && s[0] < 0x80) {
      out[pos++] = s[0]
      continue
    }
    pos = writePrefix(out, pos, s.length, 0x80, 0xb7)
    out.set(s, pos)
    pos += s.length
  }
  return out
}

/** Nested decode into byte strings and arrays (zero-copy); for tests, tools and small structures. */
export type RlpTree = Bytes | RlpTree[]

export function decodeTree(buf: Bytes): RlpTree {
  const toTree = (item: RlpItem): RlpTree => (item.list ? listItems(buf, item).map(toTree) : stringOf(buf, item))
  return toTree(decodeItem(buf))
}

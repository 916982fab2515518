/**
 * The field readers of hex.ts, reading from a JSON tape (the response bytes) instead of JS strings:
 * hex digits are decoded straight into an RLP back-writer's buffer, so a field costs no string, no
 * intermediate Buffer and no copy. Same rules and same typed errors as hex.ts (both use its error
 * constructors): `0x`-prefixed strings, exact sizes, quantities with leading zeros stripped and a
 * byte bound, hex validated on every digit.
 */
import type { Bytes } from '../../primitives/bytes.js'
import type { RlpBackWriter } from '../../primitives/rlp-writer.js'
import { emptyQuantity, notArray, notHexString, notObject, notSmallQuantity, notValidHex, notValidQuantity, quantityTooLarge, wrongSize } from './hex.js'
import { JsonKind, type JsonTape } from './json-tape.js'

/** Nibble value per byte; 0x100 marks a byte that is not a hex digit (ORed together, one check per field). */
const NIBBLE = new Uint16Array(256).fill(0x100)
for (let i = 0; i < 10; i++) NIBBLE[0x30 + i] = i
for (let i = 0; i < 6; i++) {
  NIBBLE[0x41 + i] = 10 + i
  NIBBLE[0x61 + i] = 10 + i
}
/** Byte value per pair of hex digits (first digit in the high 8 bits), 0x100 when either is not one: one load per byte. */
const PAIR = new Uint16Array(65536)
for (let hi = 0; hi < 256; hi++) for (let lo = 0; lo < 256; lo++) PAIR[(hi << 8) | lo] = (NIBBLE[hi] | NIBBLE[lo]) & 0x100 ? 0x100 : (NIBBLE[hi] << 4) | NIBBLE[lo]

/** Absent (token -1) and JSON null are both "not there", as for the JSON-RPC fields read from objects. */
export function isPresent(tape: JsonTape, token: number): boolean {
  return token >= 0 && tape.kinds[token] !== JsonKind.Null
}

/** Offset of the first hex digit of the `0x`-prefixed string `token` (the digits end at `tape.ends[token]`). */
export function hexDigits(tape: JsonTape, token: number, what: string): number {
  if (token < 0 || tape.kinds[token] !== JsonKind.String) throw notHexString(what)
  const start = tape.starts[token]
  const b = tape.bytes
  if (tape.ends[token] - start < 2 || b[start] !== 0x30 || (b[start + 1] | 32) !== 0x78) throw notHexString(what)
  return start + 2
}

/** Decodes hex digits `src[from..to)` into `dst` at `at`; an odd count starts with a lone nibble. */
function decodeInto(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number, what: string): void {
  let bad = 0
  let i = from
  if ((to - from) & 1) {
    const v = NIBBLE[src[i++]]
    bad |= v
    dst[at++] = v
  }
  for (; i < to; i += 2) {
    const v = PAIR[(src[i] << 8) | src[i + 1]]
    bad |= v
    dst[at++] = v
  }
  if (bad & 0x100) throw notValidHex(what)
}

/** Unformatted data as an RLP string. */
export function writeData(w: RlpBackWriter, tape: JsonTape, token: number, what: string): void {
  const from = hexDigits(tape, token, what)
  const digits = tape.ends[token] - from
  if (digits & 1) throw notValidHex(what)
  const at = w.reserve(digits >> 1)
  decodeInto(tape.bytes, from, tape.ends[token], w.buf, at, what)
  w.stringPrefix(digits >> 1)
}

function fixedDigits(tape: JsonTape, token: number, size: number, what: string): number {
  const from = hexDigits(tape, token, what)
  const digits = tape.ends[token] - from
  if (digits !== size * 2) throw wrongSize(what, size, digits / 2)
  return from
}

/** Data of exactly `size` bytes as an RLP string. */
export function writeFixed(w: RlpBackWriter, tape: JsonTape, token: number, size: number, what: string): void {
  const from = fixedDigits(tape, token, size, what)
  const at = w.reserve(size)
  decodeInto(tape.bytes, from, tape.ends[token], w.buf, at, what)
  w.stringPrefix(size)
}

/** Data of exactly `size` bytes, as a new array (hashes compared rather than written). */
export function readFixed(tape: JsonTape, token: number, size: number, what: string): Bytes {
  const from = fixedDigits(tape, token, size, what)
  const out = new Uint8Array(size)
  decodeInto(tape.bytes, from, tape.ends[token], out, 0, what)
  return out
}

/** `to` of a transaction: 20 bytes, or the empty string for a contract creation (null / absent / "0x"). */
export function writeAddressOrEmpty(w: RlpBackWriter, tape: JsonTape, token: number, what: string): void {
  if (!isPresent(tape, token) || (tape.kinds[token] === JsonKind.String && tape.textEquals(token, '0x'))) return w.byte(0x80)
  writeFixed(w, tape, token, 20, what)
}

/** First significant digit of a quantity (== end for zero), its length checked against `maxBytes`. */
function quantityDigits(tape: JsonTape, token: number, what: string, maxBytes: number): number {
  const from = hexDigits(tape, token, what)
  const end = tape.ends[token]
  const b = tape.bytes
  let i = from
  while (i < end && b[i] === 0x30) i++
  if (i === end && from === end) throw emptyQuantity(what)
  if ((end - i + 1) >> 1 > maxBytes) throw quantityTooLarge(what, maxBytes)
  return i
}

/** A quantity as an RLP integer (minimal big-endian bytes; leading zeros tolerated and stripped). */
export function writeQuantity(w: RlpBackWriter, tape: JsonTape, token: number, what: string, maxBytes = 32): void {
  const from = quantityDigits(tape, token, what, maxBytes)
  const end = tape.ends[token]
  if (from === end) return w.byte(0x80)
  const size = (end - from + 1) >> 1
  const at = w.reserve(size)
  decodeInto(tape.bytes, from, end, w.buf, at, what)
  w.stringPrefix(size)
}

/** A quantity as a string of exactly `width` bytes, left-padded with zeros (a PoW nonce printed as a quantity). */
export function writePaddedQuantity(w: RlpBackWriter, tape: JsonTape, token: number, what: string, width: number): void {
  const from = quantityDigits(tape, token, what, width)
  const end = tape.ends[token]
  const at = w.reserve(width)
  const size = (end - from + 1) >> 1
  w.buf.fill(0, at, at + width - size)
  decodeInto(tape.bytes, from, end, w.buf, at + width - size, what)
  w.stringPrefix(width)
}

/** A quantity of at most `maxBytes` (<= 6) bytes as a number, with writeQuantity's rules. */
export function readSmallQuantity(tape: JsonTape, token: number, what: string, maxBytes: number): number {
  const from = quantityDigits(tape, token, what, maxBytes)
  let n = 0
  let bad = 0
  for (let i = from; i < tape.ends[token]; i++) {
    const v = NIBBLE[tape.bytes[i]]
    bad |= v
    n = n * 16 + v
  }
  if (bad & 0x100) throw notValidHex(what)
  return n
}

/** A quantity that fits a JS number (block numbers, indexes, types). */
export function readNumber(tape: JsonTape, token: number, what: string): number {
  const from = hexDigits(tape, token, what)
  const end = tape.ends[token]
  if (end === from || end - from > 13) throw notSmallQuantity(what)
  let n = 0
  let bad = 0
  for (let i = from; i < end; i++) {
    const v = NIBBLE[tape.bytes[i]]
    bad |= v
    n = n * 16 + v
  }
  if (bad & 0x100) throw notValidQuantity(what)
  return n
}

/** An array token; absent/null is -1 (empty) where the caller allows it. */
export function arrayToken(tape: JsonTape, token: number, what: string, optional = false): number {
  if (token >= 0 && tape.kinds[token] === JsonKind.Array) return token
  if (optional && !isPresent(tape, token)) return -1
  throw notArray(what)
}

export function objectToken(tape: JsonTape, token: number, what: string): number {
  if (token >= 0 && tape.kinds[token] === JsonKind.Object) return token
  throw notObject(what)
}

/** Two string tokens equal ignoring ASCII case (nodes print lowercase hex; some checksum-case it). */
export function sameText(a: JsonTape, ta: number, b: JsonTape, tb: number): boolean {
  const len = a.ends[ta] - a.starts[ta]
  if (b.ends[tb] - b.starts[tb] !== len) return false
  const x = a.bytes
  const y = b.bytes
  for (let i = a.starts[ta], j = b.starts[tb], end = i + len; i < end; i++, j++) {
    const c = x[i]
    const d = y[j]
    if (c !== d && ((c | 32) !== (d | 32) || (c | 32) < 0x61 || (c | 32) > 0x7a)) return false
  }
  return true
}

/** A string token's text for messages ("undefined" when absent, the JSON text for other kinds). */
export function describe(tape: JsonTape, token: number): string {
  if (token < 0) return 'undefined'
  return tape.kinds[token] === JsonKind.String ? tape.text(token) : String(tape.value(token))
}

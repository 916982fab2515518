/**
 * Readers for the hex strings of JSON-RPC results, straight to the bytes RLP needs. Quantities go
 * from hex to minimal big-endian bytes without a bigint detour; data goes through Node's hex decoder,
 * which stops at the first invalid character, so a length check is the whole validation.
 *
 * Everything here is untrusted input: a malformed value is an `RpcError` (bad response) naming the
 * field, never a silently wrong byte.
 */
import { type Bytes, EMPTY_BYTES } from '../../primitives/bytes.js'
import { badResponse } from './errors.js'

// The errors of malformed fields, shared with the readers that decode straight from response bytes (hex-tape.ts).
export const notHexString = (what: string) => badResponse(`${what} is not a 0x-prefixed hex string`, { field: what })
export const notValidHex = (what: string) => badResponse(`${what} is not valid hex`, { field: what })
export const wrongSize = (what: string, size: number, got: number) => badResponse(`${what} must be ${size} bytes, got ${got}`, { field: what })
export const emptyQuantity = (what: string) => badResponse(`${what} is an empty quantity`, { field: what })
export const quantityTooLarge = (what: string, maxBytes: number) => badResponse(`${what} exceeds ${maxBytes * 8} bits`, { field: what })
export const notSmallQuantity = (what: string) => badResponse(`${what} is not a quantity below 2^52`, { field: what })
export const notValidQuantity = (what: string) => badResponse(`${what} is not a valid quantity`, { field: what })
export const notArray = (what: string) => badResponse(`${what} is not an array`, { field: what })
export const notObject = (what: string) => badResponse(`${what} is not an object`, { field: what })

function hexBody(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length < 2 || value.charCodeAt(0) !== 48 /* 0 */ || (value.charCodeAt(1) | 32) !== 120 /* x */) {
    throw notHexString(what)
  }
  return value.length === 2 ? '' : value.slice(2)
}

function decodeHex(body: string, what: string): Bytes {
  if (body.length === 0) return EMPTY_BYTES
  const buf = Buffer.from(body, 'hex')
  if (buf.length * 2 !== body.length) throw notValidHex(what)
  return buf
}

/** Unformatted data (`0x` + even number of hex digits). */
export function dataField(value: unknown, what: string): Bytes {
  return decodeHex(hexBody(value, what), what)
}

/** Data of exactly `size` bytes (hashes, addresses, blooms, nonces). */
export function fixedField(value: unknown, size: number, what: string): Bytes {
  const body = hexBody(value, what)
  if (body.length !== size * 2) throw wrongSize(what, size, body.length / 2)
  return decodeHex(body, what)
}

/** `to` of a transaction: 20 bytes, or empty for a contract creation (null / absent / "0x"). */
export function addressOrEmpty(value: unknown, what: string): Bytes {
  if (value === null || value === undefined || value === '0x') return EMPTY_BYTES
  return fixedField(value, 20, what)
}

/**
 * A quantity as minimal big-endian bytes (0 -> empty), the RLP integer form. Leading zeros are
 * tolerated and stripped: some nodes pad r/s to 32 bytes, test fixtures pad everything.
 */
export function quantityField(value: unknown, what: string, maxBytes = 32): Bytes {
  let body = hexBody(value, what)
  let i = 0
  while (i < body.length && body.charCodeAt(i) === 48) i++
  if (i > 0) body = body.slice(i)
  if (body.length === 0) {
    if (i === 0) throw emptyQuantity(what)
    return EMPTY_BYTES
  }
  if (body.length & 1) body = '0' + body
  if (body.length > maxBytes * 2) throw quantityTooLarge(what, maxBytes)
  return decodeHex(body, what)
}

/** A quantity that fits a JS number (block numbers, indexes, types). */
export function numberField(value: unknown, what: string): number {
  const body = hexBody(value, what)
  if (body.length === 0 || body.length > 13) throw notSmallQuantity(what)
  const n = Number.parseInt(body, 16)
  if (!Number.isSafeInteger(n) || !/^[0-9a-fA-F]+$/.test(body)) throw notValidQuantity(what)
  return n
}

export function bigintField(value: unknown, what: string): bigint {
  const body = hexBody(value, what)
  if (body.length === 0 || body.length > 64 || !/^[0-9a-fA-F]+$/.test(body)) throw notValidQuantity(what)
  return BigInt('0x' + body)
}

/** A JSON array (absent means empty where the caller allows it). */
export function arrayField(value: unknown, what: string, optional = false): unknown[] {
  if (Array.isArray(value)) return value
  if (optional && (value === undefined || value === null)) return []
  throw notArray(what)
}

export function objectField(value: unknown, what: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  throw notObject(what)
}

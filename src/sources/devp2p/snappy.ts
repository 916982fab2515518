/**
 * Snappy for RLPx v5 message payloads, bounded: the declared uncompressed length is read from the
 * stream's varint header and checked against the limit BEFORE anything is allocated, so a 16 MiB
 * frame cannot expand into hundreds of megabytes.
 *
 * Decompression is this module's own: strict (every literal and copy is checked against both
 * buffers, and the output must come out exactly as long as declared) and fast on eth payloads, whose
 * literals are long (hashes, signatures, calldata): runs are moved with `set` / `copyWithin` rather
 * than byte by byte. On the bench chain's 1.6 MB BlockBodies messages: 1.0-1.6 GB/s warm, against
 * 0.65-0.74 for snappyjs and 0.32-0.42 for @napi-rs/snappy's linux-x64 build (native, but slower
 * here: call and copy overhead); within a sync (mostly cold code) ~1.3x snappyjs.
 *
 * Compression (below) is this module's own too.
 */
import type { Bytes } from '../../primitives/bytes.js'
import { devp2pError, Devp2pErrorCode } from './errors.js'

/** The uncompressed length a snappy block declares (varint, at most 32 bits), or -1 if malformed. */
export function snappyDeclaredLength(data: Bytes): number {
  return readVarint(data).length
}

function readVarint(data: Bytes): { length: number; headerBytes: number } {
  let result = 0
  for (let i = 0, shift = 0; i < data.length && i < 5; i++, shift += 7) {
    const b = data[i]
    result += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return { length: result <= 0xffffffff ? result : -1, headerBytes: i + 1 }
  }
  return { length: -1, headerBytes: 0 }
}

/** Below this many bytes a plain loop beats the call into `set` / `copyWithin`. */
const BULK_COPY_BYTES = 16

function malformed(message: string, details: Record<string, unknown>): never {
  throw devp2pError(Devp2pErrorCode.InvalidMessage, `malformed snappy stream: ${message}`, details)
}

export function snappyDecompress(data: Bytes, maxBytes: number): Bytes {
  const { length: declared, headerBytes } = readVarint(data)
  if (declared < 0) throw devp2pError(Devp2pErrorCode.InvalidMessage, 'malformed snappy length header')
  if (declared > maxBytes) {
    throw devp2pError(Devp2pErrorCode.MessageTooLarge, `message declares ${declared} bytes, limit is ${maxBytes}`, { declared, maxBytes })
  }
  const out = new Uint8Array(declared)
  const end = data.length
  let pos = headerBytes
  let written = 0
  while (pos < end) {
    const tag = data[pos++]
    let len: number
    if ((tag & 3) === 0) {
      // Literal: the length is in the tag, or in the 1-4 bytes after it.
      len = (tag >>> 2) + 1
      if (len > 60) {
        const bytes = len - 60
        if (pos + bytes > end) malformed('truncated literal length', { declared })
        len = 0
        for (let i = bytes - 1; i >= 0; i--) len = len * 256 + data[pos + i]
        len += 1
        pos += bytes
      }
      if (pos + len > end || written + len > declared) malformed('literal runs past the end', { declared, at: written })
      if (len < BULK_COPY_BYTES) for (let i = 0; i < len; i++) out[written + i] = data[pos + i]
      else out.set(data.subarray(pos, pos + len), written)
      pos += len
      written += len
      continue
    }
    // Copy of `len` earlier output bytes from `offset` back.
    let offset: number
    if ((tag & 3) === 1) {
      if (pos >= end) malformed('truncated copy', { declared })
      len = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | data[pos++]
    } else if ((tag & 3) === 2) {
      if (pos + 2 > end) malformed('truncated copy', { declared })
      len = (tag >>> 2) + 1
      offset = data[pos] | (data[pos + 1] << 8)
      pos += 2
    } else {
      if (pos + 4 > end) malformed('truncated copy', { declared })
      len = (tag >>> 2) + 1
      offset = (data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16) | (data[pos + 3] << 24)) >>> 0
      pos += 4
    }
    if (offset === 0 || offset > written || written + len > declared) malformed('copy outside the output', { declared, at: written, offset })
    const from = written - offset
    // A copy that overlaps what it produces repeats a pattern: it must go byte by byte.
    if (offset >= len && len >= BULK_COPY_BYTES) out.copyWithin(written, from, from + len)
    else for (let i = 0; i < len; i++) out[written + i] = out[from + i]
    written += len
  }
  if (written !== declared) malformed(`${written} bytes produced, ${declared} declared`, { declared, produced: written })
  return out
}

/*
 * Compression is snappy's block format as golang/snappy's encoder (geth's) writes it: 64 KiB
 * fragments, a hash table of up to 2^14 positions, literal runs skipped faster the longer no match
 * turns up. snappyjs's encoder (same scheme) was 25 % of the replay peers' CPU: it hashes in floating
 * point, reads and copies byte by byte and copies its output once more. Here a 4-byte load is one
 * DataView read, literals are moved with `set` and matches compared 4 bytes at a time: on the bench
 * chain's 2 MB answers 690 vs 360 MB/s (bodies) and 970 vs 510 MB/s (receipts), output within 1 %.
 */
const FRAGMENT_BYTES = 65536
const MAX_TABLE_BITS = 14
/** Fragments shorter than this are one literal (no room for a 4-byte match plus the end margin). */
const MIN_MATCH_FRAGMENT = 17
/** The search stops this far from a fragment's end, so every 4-byte load stays inside it. */
const INPUT_MARGIN = 15
const table = new Uint16Array(1 << MAX_TABLE_BITS)

/** Snappy's MaxCompressedLength: the output never exceeds this for an input of n bytes. */
export function snappyMaxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6)
}

/** The uncompressed length as a varint, then each 64 KiB fragment compressed on its own. */
export function snappyCompress(data: Bytes): Bytes {
  const out = new Uint8Array(snappyMaxCompressedLength(data.length))
  let op = 0
  let n = data.length
  for (; n >= 0x80; n = Math.floor(n / 128)) out[op++] = (n & 0x7f) | 0x80
  out[op++] = n
  const view = new DataView(data.buffer, data.byteOffset, data.length)
  for (let start = 0; start < data.length; start += FRAGMENT_BYTES) {
    op = compressFragment(data, view, start, Math.min(data.length, start + FRAGMENT_BYTES), out, op)
  }
  return out.subarray(0, op)
}

function hash(u: number, shift: number): number {
  return Math.imul(u, 0x1e35a7bd) >>> shift
}

function compressFragment(src: Bytes, view: DataView, start: number, end: number, out: Bytes, at: number): number {
  let op = at
  let nextEmit = start
  if (end - start >= MIN_MATCH_FRAGMENT) {
    let shift = 32 - 8
    let tableSize = 1 << 8
    while (tableSize < table.length && tableSize < end - start) {
      tableSize <<= 1
      shift--
    }
    table.fill(0, 0, tableSize)
    const sLimit = end - INPUT_MARGIN
    let s = start + 1
    let nextHash = hash(view.getUint32(s, true), shift)
    search: for (;;) {
      // Look for a 4-byte match, stepping further ahead the longer none turns up.
      let skip = 32
      let nextS = s
      let candidate: number
      do {
        s = nextS
        const step = skip >>> 5
        nextS = s + step
        skip += step
        if (nextS > sLimit) break search
        candidate = start + table[nextHash]
        table[nextHash] = s - start
        nextHash = hash(view.getUint32(nextS, true), shift)
      } while (view.getUint32(s, true) !== view.getUint32(candidate, true))
      op = emitLiteral(src, nextEmit, s, out, op)
      // Emit copies while the position right after one starts another match.
      do {
        const base = s
        let from = candidate + 4
        s += 4
        while (s + 4 <= end && view.getUint32(s, true) === view.getUint32(from, true)) {
          s += 4
          from += 4
        }
        while (s < end && src[s] === src[from]) {
          s++
          from++
        }
        op = emitCopy(out, op, base - candidate, s - base)
        nextEmit = s
        if (s >= sLimit) break search
        table[hash(view.getUint32(s - 1, true), shift)] = s - 1 - start
        const h = hash(view.getUint32(s, true), shift)
        candidate = start + table[h]
        table[h] = s - start
      } while (view.getUint32(s, true) === view.getUint32(candidate, true))
      s++
      nextHash = hash(view.getUint32(s, true), shift)
    }
  }
  return nextEmit < end ? emitLiteral(src, nextEmit, end, out, op) : op
}

function emitLiteral(src: Bytes, from: number, to: number, out: Bytes, at: number): number {
  const n = to - from - 1
  let op = at
  if (n < 60) {
    out[op++] = n << 2
  } else if (n < 0x100) {
    out[op++] = 60 << 2
    out[op++] = n
  } else {
    out[op++] = 61 << 2
    out[op++] = n & 0xff
    out[op++] = n >>> 8
  }
  if (n + 1 < BULK_COPY_BYTES) for (let i = from; i < to; i++) out[op++] = src[i]
  else {
    out.set(src.subarray(from, to), op)
    op += n + 1
  }
  return op
}

function emitCopy(out: Bytes, at: number, offset: number, length: number): number {
  let op = at
  let len = length
  // Copies longer than 64 bytes go out in pieces of 64 (and 60, so no piece is shorter than 4).
  while (len >= 68) {
    op = emitCopy2(out, op, offset, 64)
    len -= 64
  }
  if (len > 64) {
    op = emitCopy2(out, op, offset, 60)
    len -= 60
  }
  if (len >= 12 || offset >= 2048) return emitCopy2(out, op, offset, len)
  out[op] = ((offset >>> 8) << 5) | ((len - 4) << 2) | 1
  out[op + 1] = offset & 0xff
  return op + 2
}

function emitCopy2(out: Bytes, op: number, offset: number, len: number): number {
  out[op] = ((len - 1) << 2) | 2
  out[op + 1] = offset & 0xff
  out[op + 2] = offset >>> 8
  return op + 3
}

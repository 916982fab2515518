/**
 * RLP written back to front into one buffer. An item's length prefix depends on its payload, so a
 * forward encoder either sizes everything first or copies each item into its parent; written from
 * the end, a list's children are already in place when its prefix is written, so every byte is
 * written exactly once and nothing is allocated per item. Callers write a list's items in reverse
 * order, then `listPrefix(length - mark)`.
 *
 * Positions handed out are offsets into `buf`, valid until the next call that may grow it; marks
 * (`length`) are distances from the end and survive growth.
 */
import type { Bytes } from './bytes.js'
import { encodedLength } from './rlp.js'

export class RlpBackWriter {
  /** The buffer; bytes written so far are `buf.subarray(pos)`. */
  buf: Uint8Array
  /** Offset of the first written byte. */
  pos: number

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(Math.max(16, capacity))
    this.pos = this.buf.length
  }

  /** Bytes written so far; take it as a mark before writing an item. */
  get length(): number {
    return this.buf.length - this.pos
  }

  /** Moves the write position `n` bytes down (growing the buffer if needed) and returns it. */
  reserve(n: number): number {
    if (n > this.pos) this.grow(n)
    this.pos -= n
    return this.pos
  }

  private grow(n: number): void {
    const used = this.length
    let size = this.buf.length * 2
    while (size - used < n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(this.pos), size - used)
    this.buf = next
    this.pos = size - used
  }

  /** Bytes that are already RLP (or a typed envelope's payload) as they are. */
  raw(bytes: Bytes): void {
    const at = this.reserve(bytes.length) // before reading `buf`: reserving may replace it
    this.buf.set(bytes, at)
  }

  byte(value: number): void {
    const at = this.reserve(1)
    this.buf[at] = value
  }

  /** A byte string item. */
  string(bytes: Bytes): void {
    if (bytes.length === 1 && bytes[0] < 0x80) return this.byte(bytes[0])
    this.raw(bytes)
    this.prefix(bytes.length, 0x80)
  }

  /**
   * The prefix of a string whose `length` payload bytes were just written (at `pos`). A single
   * byte below 0x80 is its own encoding and gets none.
   */
  stringPrefix(length: number): void {
    if (length === 1 && this.buf[this.pos] < 0x80) return
    this.prefix(length, 0x80)
  }

  /** The prefix of a list whose `length` payload bytes (its encoded items) were just written. */
  listPrefix(length: number): void {
    this.prefix(length, 0xc0)
  }

  private prefix(length: number, base: number): void {
    if (length <= 55) return this.byte(base + length)
    const n = encodedLength(length) - length - 1 // bytes of the length itself
    const at = this.reserve(n + 1)
    this.buf[at] = base + 55 + n
    for (let i = n; i >= 1; i--) {
      this.buf[at + i] = length & 0xff
      length = Math.floor(length / 256)
    }
  }

  /** The bytes written between two marks (`from` < `to`), as a view into the buffer. */
  view(from: number, to: number): Bytes {
    return this.buf.subarray(this.buf.length - to, this.buf.length - from)
  }

  /** A copy of everything written (exactly sized), then starts over. */
  take(): Uint8Array {
    const out = this.buf.slice(this.pos)
    this.pos = this.buf.length
    return out
  }

  /** Forgets everything written (the buffer is kept for the next use). */
  reset(): void {
    this.pos = this.buf.length
  }
}

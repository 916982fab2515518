import { describe, expect, it } from 'vitest'
import { bigIntToBytes, bytesToBigInt, bytesToHex, compareUint, equalBytes, zeroByteCount } from '../../src/primitives/bytes.js'

describe('bytesToBigInt', () => {
  it('reads big-endian integers of every length up to 40 bytes, at any offset in a buffer', () => {
    const backing = new Uint8Array(64).map((_, i) => (i * 151 + 7) & 0xff)
    for (let length = 0; length <= 40; length++) {
      for (const offset of [0, 1, 3]) {
        const bytes = backing.subarray(offset, offset + length)
        const expected = length === 0 ? 0n : BigInt(bytesToHex(bytes))
        expect(bytesToBigInt(bytes)).toBe(expected)
      }
    }
  })

  it('reads views that start inside their ArrayBuffer, alternating between buffers (uintAt keeps one DataView)', () => {
    const a = new Uint8Array(new ArrayBuffer(80), 5, 70).map((_, i) => (i * 31 + 1) & 0xff)
    const b = new Uint8Array(new ArrayBuffer(80), 11, 60).map((_, i) => (i * 97 + 3) & 0xff)
    for (let length = 7; length <= 40; length++) {
      for (const bytes of [a.subarray(2, 2 + length), b.subarray(1, 1 + length), a.subarray(9, 9 + length)]) {
        expect(bytesToBigInt(bytes)).toBe(BigInt(bytesToHex(bytes)))
      }
    }
  })

  it('round-trips with bigIntToBytes at the edges of its 64-bit steps', () => {
    for (const v of [0n, 1n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 255n + 12345n, 2n ** 256n - 1n]) {
      expect(bytesToBigInt(bigIntToBytes(v))).toBe(v)
    }
  })

  it('compareUint orders canonical big-endian integers like their values', () => {
    const values = [0n, 1n, 255n, 256n, 2n ** 64n, 2n ** 255n - 1n, 2n ** 255n, 2n ** 256n - 1n]
    for (const a of values) {
      for (const b of values) expect(Math.sign(compareUint(bigIntToBytes(a), bigIntToBytes(b))), `${a} vs ${b}`).toBe(a < b ? -1 : a > b ? 1 : 0)
    }
  })

  it('equalBytes compares by content at every length, short (loop) and long (native), views included', () => {
    for (const n of [0, 1, 20, 32, 64, 65, 1000]) {
      const a = Uint8Array.from({ length: n + 3 }, (_, i) => (i * 7) & 0xff).subarray(3)
      const b = a.slice()
      expect(equalBytes(a, b), `${n} bytes`).toBe(true)
      if (n === 0) continue
      b[n - 1] ^= 1
      expect(equalBytes(a, b), `${n} bytes, last differs`).toBe(false)
      expect(equalBytes(a, b.subarray(1)), `${n} vs ${n - 1} bytes`).toBe(false)
    }
  })
})

describe('zeroByteCount', () => {
  const naive = (b: Uint8Array) => b.reduce((n, x) => n + (x === 0 ? 1 : 0), 0)

  it('counts the zero bytes of views at every offset and length, whatever the other bytes are', () => {
    // Bytes that test each lane's carry rules: 0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, mixed.
    const backing = new Uint8Array(new ArrayBuffer(300), 3, 290).map((_, i) => [0, 0x01, 0x7f, 0x80, 0x81, 0xff, 0, 0, (i * 37) & 0xff][(i * 7) % 9])
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 40; length++) {
        const view = backing.subarray(offset, offset + length)
        expect(zeroByteCount(view), `offset ${offset} length ${length}`).toBe(naive(view))
      }
    }
  })

  it('counts all-zero, no-zero and long calldata-like inputs', () => {
    expect(zeroByteCount(new Uint8Array(1001))).toBe(1001)
    expect(zeroByteCount(new Uint8Array(1001).fill(0x80))).toBe(0)
    // ABI-like: a selector, then 32-byte words of left-padded values.
    const abi = new Uint8Array(4 + 32 * 20)
    abi.set([0xa9, 0x05, 0x9c, 0xbb])
    for (let w = 0; w < 20; w++) abi.set(bigIntToBytes(BigInt(w) * 0x1234567n + 1n), 4 + 32 * w + 28)
    expect(zeroByteCount(abi)).toBe(naive(abi))
  })
})

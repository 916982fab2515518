import { describe, expect, it } from 'vitest'
import { bigIntToBytes, bytesToBigInt, bytesToHex, compareUint, equalBytes } from '../../src/primitives/bytes.js'

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

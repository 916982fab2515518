import { createKeccak } from 'hash-wasm'
import { describe, expect, it } from 'vitest'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { EMPTY_LIST_HASH, EMPTY_TRIE_ROOT, keccak256, keccak256Batch, keccak256Into, keccak256PairInto, keccak256Parts } from '../../src/primitives/keccak.js'

// An independent implementation (hash-wasm's C build) as the reference.
const reference = await createKeccak(256)
function expected(data: Uint8Array): string {
  reference.init()
  reference.update(data)
  return reference.digest('hex')
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff
  return out
}

describe('keccak256 (generated WebAssembly)', () => {
  it('matches the published vectors', () => {
    expect(bytesToHex(keccak256(new Uint8Array()))).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    expect(bytesToHex(keccak256(new TextEncoder().encode('abc')))).toBe('0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
    expect(bytesToHex(EMPTY_TRIE_ROOT)).toBe('0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421')
    expect(bytesToHex(EMPTY_LIST_HASH)).toBe('0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347')
  })

  it('agrees with the reference at every length around the 136-byte block boundaries', () => {
    for (let length = 0; length <= 3 * 136 + 2; length++) {
      const data = pattern(length, length)
      expect(bytesToHex(keccak256(data)).slice(2), `length ${length}`).toBe(expected(data))
    }
  })

  it('grows its memory for long inputs and still hashes short ones after', () => {
    for (const length of [70_000, 1_000_003, 5 * 1024 * 1024]) {
      const data = pattern(length, 3)
      expect(bytesToHex(keccak256(data)).slice(2)).toBe(expected(data))
    }
    expect(bytesToHex(keccak256(Uint8Array.of(1, 2, 3))).slice(2)).toBe(expected(Uint8Array.of(1, 2, 3)))
  })

  it('hashes views into larger buffers by their own bytes only', () => {
    const big = pattern(1000, 9)
    const view = big.subarray(100, 300)
    expect(bytesToHex(keccak256(view)).slice(2)).toBe(expected(view.slice()))
  })

  it('returns a fresh digest each call (later calls do not overwrite earlier results)', () => {
    const a = keccak256(Uint8Array.of(1))
    const copy = a.slice()
    keccak256(Uint8Array.of(2))
    expect(a).toEqual(copy)
    expect(a.byteOffset).toBe(0)
    expect(a.buffer.byteLength).toBe(32)
  })

  it('keccak256Into writes the digest at the given offset and nothing else', () => {
    for (const length of [0, 20, 32, 136, 137, 70_000]) {
      const data = pattern(length, 5)
      const out = new Uint8Array(40).fill(0xee)
      keccak256Into(data, out, 5)
      expect(bytesToHex(out.subarray(5, 37)).slice(2)).toBe(expected(data))
      expect([...out.subarray(0, 5), ...out.subarray(37)].every((b) => b === 0xee)).toBe(true)
    }
  })

  it('keccak256Parts equals the hash of the concatenation', () => {
    const parts = [pattern(0, 1), pattern(135, 2), pattern(1, 3), pattern(600, 4), hexToBytes('0xff')]
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let pos = 0
    for (const p of parts) {
      joined.set(p, pos)
      pos += p.length
    }
    expect(bytesToHex(keccak256Parts(parts))).toBe(bytesToHex(keccak256(joined)))
    expect(bytesToHex(keccak256Parts([]))).toBe(bytesToHex(keccak256(new Uint8Array())))
  })

  it('keccak256PairInto hashes two inputs like the reference, in one SIMD pass or one after the other', () => {
    const lengths = [0, 20, 32, 135, 136, 137, 300, 409]
    const out = new Uint8Array(64)
    for (const lengthA of lengths) {
      for (const lengthB of lengths) {
        const a = pattern(lengthA, 1)
        const b = pattern(lengthB, 2)
        keccak256PairInto(a, b, out)
        expect(bytesToHex(out.subarray(0, 32)).slice(2), `${lengthA} beside ${lengthB}`).toBe(expected(a))
        expect(bytesToHex(out.subarray(32)).slice(2), `${lengthB} beside ${lengthA}`).toBe(expected(b))
      }
    }
  })

  it('keccak256Batch hashes each head + body like the reference, paired (SIMD) or alone', () => {
    // Lengths around the block boundaries in a mixed order: some find a partner of the same size, some do not.
    const lengths = [0, 1, 31, 32, 33, 135, 136, 137, 200, 271, 272, 273, 407, 408, 409, 544, 1000, 136, 0, 300, 301, 5]
    const inputs = lengths.map((length, i) => pattern(length, 7 * i + 1))
    const cuts = inputs.map((input, i) => Math.min(input.length, i % 5))
    const out = new Uint8Array(32 * inputs.length + 3).fill(0xee)
    keccak256Batch(
      inputs.map((input, i) => input.subarray(0, cuts[i])),
      inputs.map((input, i) => input.subarray(cuts[i])),
      out,
    )
    inputs.forEach((input, i) => expect(bytesToHex(out.subarray(32 * i, 32 * i + 32)).slice(2), `input ${i} of ${input.length} bytes`).toBe(expected(input)))
    expect([...out.subarray(32 * inputs.length)]).toEqual([0xee, 0xee, 0xee])
  })

  it('keccak256Batch grows its memory and index for large batches; single hashes still work after', () => {
    const inputs = Array.from({ length: 600 }, (_, i) => pattern(100 + ((i * 97) % 3000), i))
    const out = new Uint8Array(32 * inputs.length)
    keccak256Batch(inputs.map(() => new Uint8Array()), inputs, out)
    inputs.forEach((input, i) => expect(bytesToHex(out.subarray(32 * i, 32 * i + 32)).slice(2)).toBe(expected(input)))
    expect(bytesToHex(keccak256(Uint8Array.of(7))).slice(2)).toBe(expected(Uint8Array.of(7)))
  })
})

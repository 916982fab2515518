import { RLP } from '@ethereumjs/rlp'
import { describe, expect, it } from 'vitest'
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../src/primitives/bytes.js'
import { encode, type RlpInput } from '../../src/primitives/rlp.js'
import { RlpBackWriter } from '../../src/primitives/rlp-writer.js'
import { readFixtureJson } from '../fixtures.js'
import { prng } from '../helpers/chain-gen.js'

type Tree = Uint8Array | Tree[]

/** Writes `tree` back to front: a list's items last first, then its prefix. */
function writeTree(w: RlpBackWriter, tree: Tree): void {
  if (tree instanceof Uint8Array) return w.string(tree)
  const mark = w.length
  for (let i = tree.length - 1; i >= 0; i--) writeTree(w, tree[i])
  w.listPrefix(w.length - mark)
}


/** Strings around every prefix boundary (0, 1 byte below/above 0x80, 55/56, 255/256 and 65,536 bytes). */
function randomTree(next: () => number, depth: number): Tree {
  if (depth > 3 || next() < 0.55) {
    const sizes = [0, 1, 1, 2, 20, 32, 55, 56, 57, 255, 256, 1024, 65_536]
    const size = sizes[Math.floor(next() * (depth === 0 ? sizes.length : sizes.length - 1))]
    return Uint8Array.from({ length: size }, () => Math.floor(next() * 256))
  }
  return Array.from({ length: Math.floor(next() * 8) }, () => randomTree(next, depth + 1))
}

describe('RlpBackWriter: RLP written back to front', () => {
  it('writes what encode writes for the ethereum/tests RLP cases', () => {
    type RlpJson = string | number | RlpJson[]
    const toTree = (v: RlpJson): Tree => {
      if (Array.isArray(v)) return v.map(toTree)
      if (typeof v === 'number') return encodeInt(BigInt(v))
      return v.startsWith('#') ? encodeInt(BigInt(v.slice(1))) : utf8ToBytes(v)
    }
    const encodeInt = (n: bigint) => (n === 0n ? new Uint8Array(0) : hexToBytes((n.toString(16).length % 2 ? '0' : '') + n.toString(16)))
    const cases = readFixtureJson<Record<string, { in: RlpJson; out: string }>>('ethereum-tests', 'RLPTests', 'rlptest.json')
    for (const c of Object.values(cases)) {
      const w = new RlpBackWriter(16)
      writeTree(w, toTree(c.in))
      expect(bytesToHex(w.take())).toBe(c.out.toLowerCase())
    }
  })

  it('property: random trees match encode and @ethereumjs/rlp, from a 16-byte start buffer that keeps growing', () => {
    const next = prng(3)
    for (let n = 0; n < 200; n++) {
      const tree = randomTree(next, 0)
      const w = new RlpBackWriter(16)
      writeTree(w, tree)
      const got = w.take()
      expect(bytesToHex(got)).toBe(bytesToHex(encode(tree as RlpInput)))
      expect(bytesToHex(got)).toBe(bytesToHex(RLP.encode(tree as Uint8Array)))
    }
  })

  it('marks are distances from the end: views of earlier items survive growth', () => {
    const w = new RlpBackWriter(16)
    const m0 = w.length
    w.string(Uint8Array.of(1, 2, 3))
    const m1 = w.length
    w.string(new Uint8Array(300).fill(7)) // grows the buffer
    const m2 = w.length
    expect(bytesToHex(w.view(m0, m1))).toBe('0x83010203')
    expect(w.view(m1, m2).length).toBe(303)
    expect(w.view(m1, m2)[0]).toBe(0xb9)
    const all = w.take()
    expect(all.length).toBe(307)
    expect(w.length).toBe(0)
  })

  it('stringPrefix after bytes written in place: a single byte below 0x80 is its own encoding', () => {
    const w = new RlpBackWriter()
    const put = (bytes: number[]) => {
      const at = w.reserve(bytes.length)
      w.buf.set(bytes, at)
      w.stringPrefix(bytes.length)
    }
    put([0x7f])
    expect(bytesToHex(w.take())).toBe('0x7f')
    put([0x80])
    expect(bytesToHex(w.take())).toBe('0x8180')
    put([])
    expect(bytesToHex(w.take())).toBe('0x80')
    w.byte(0x42)
    w.raw(Uint8Array.of(0xc0))
    w.reset()
    expect(w.take().length).toBe(0)
  })
})

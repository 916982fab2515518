import { describe, expect, it } from 'vitest'
import { RLP } from '@ethereumjs/rlp'
import { DecodeError } from '../../src/errors.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../src/primitives/bytes.js'
import { decodeTree, encode, type RlpInput, type RlpTree } from '../../src/primitives/rlp.js'
import { fixturePath, listFiles, readFixtureJson } from '../fixtures.js'

type RlpJson = string | number | RlpJson[]
interface RlpCase { in: RlpJson; out: string }

/** The RLPTests encode strings as UTF-8, integers (also "#bignum" strings) as minimal big-endian. */
function toInput(v: RlpJson): RlpInput {
  if (Array.isArray(v)) return v.map(toInput)
  if (typeof v === 'number') return BigInt(v)
  if (v.startsWith('#')) return BigInt(v.slice(1))
  return utf8ToBytes(v)
}

function treeToHex(t: RlpTree): unknown {
  return t instanceof Uint8Array ? bytesToHex(t) : t.map(treeToHex)
}

describe('RLP against ethereum/tests RLPTests', () => {
  const valid = readFixtureJson<Record<string, RlpCase>>('ethereum-tests', 'RLPTests', 'rlptest.json')
  for (const [name, c] of Object.entries(valid)) {
    it(`encodes and decodes ${name}`, () => {
      const out = hexToBytes(c.out)
      expect(bytesToHex(encode(toInput(c.in)))).toBe(bytesToHex(out))
      expect(treeToHex(decodeTree(out))).toEqual(treeToHex(RLP.decode(out) as RlpTree))
    })
  }

  const invalid = readFixtureJson<Record<string, RlpCase>>('ethereum-tests', 'RLPTests', 'invalidRLPTest.json')
  for (const [name, c] of Object.entries(invalid)) {
    it(`rejects ${name} with a DecodeError`, () => {
      expect(() => decodeTree(hexToBytes(c.out))).toThrow(DecodeError)
    })
  }

  for (const file of listFiles(fixturePath('ethereum-tests', 'RLPTests', 'RandomRLPTests'), '.json')) {
    const cases = readFixtureJson<Record<string, RlpCase>>(file.slice(file.indexOf('ethereum-tests')))
    for (const [name, c] of Object.entries(cases)) {
      it(`round-trips random ${name}`, () => {
        const out = hexToBytes(c.out)
        const tree = decodeTree(out)
        expect(bytesToHex(encode(tree as RlpInput))).toBe(c.out.toLowerCase().startsWith('0x') ? c.out.toLowerCase() : '0x' + c.out.toLowerCase())
      })
    }
  }
})

describe('RLP bounds', () => {
  it('rejects an item that claims more bytes than the input holds', () => {
    expect(() => decodeTree(hexToBytes('0xbb7fffffff'))).toThrow(/RLP|runs past|length/)
  })
  it('rejects trailing bytes', () => {
    expect(() => decodeTree(hexToBytes('0x8000'))).toThrow(DecodeError)
  })
  it('rejects a non-canonical single byte', () => {
    expect(() => decodeTree(hexToBytes('0x8105'))).toThrow(/single byte/)
  })
})

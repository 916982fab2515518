import { describe, expect, it } from 'vitest'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes, utf8ToBytes, type Bytes } from '../../src/primitives/bytes.js'
import { orderedTrieRoot, secureTrieRoot, trieRootSorted } from '../../src/primitives/trie.js'
import { readFixtureJson } from '../fixtures.js'

interface TrieCase { in: Array<[string, string | null]> | Record<string, string | null>; root: string }

function toBytes(s: string): Bytes {
  return s.startsWith('0x') ? hexToBytes(s) : utf8ToBytes(s)
}

/** Applies the test's puts and deletes in order; the final map is what the root commits to. */
function finalEntries(input: TrieCase['in']): Map<string, Bytes> {
  const pairs = Array.isArray(input) ? input : Object.entries(input)
  const m = new Map<string, Bytes>()
  for (const [k, v] of pairs) {
    const key = bytesToHex(toBytes(k))
    if (v === null || v === '') m.delete(key)
    else m.set(key, toBytes(v))
  }
  return m
}

function sortedRoot(m: Map<string, Bytes>, secure: boolean): string {
  const entries = [...m.entries()].map(([k, v]) => [hexToBytes(k), v] as const)
  if (secure) return bytesToHex(secureTrieRoot(entries))
  entries.sort((a, b) => Buffer.compare(a[0], b[0]))
  return bytesToHex(trieRootSorted(entries.map((e) => e[0]), entries.map((e) => e[1])))
}

describe('trie roots against ethereum/tests TrieTests', () => {
  const files: Array<[string, boolean]> = [
    ['trietest.json', false],
    ['trieanyorder.json', false],
    ['trietest_secureTrie.json', true],
    ['trieanyorder_secureTrie.json', true],
    ['hex_encoded_securetrie_test.json', true],
  ]
  for (const [file, secure] of files) {
    const cases = readFixtureJson<Record<string, TrieCase>>('ethereum-tests', 'TrieTests', file)
    for (const [name, c] of Object.entries(cases)) {
      it(`${file} ${name}`, () => {
        expect(sortedRoot(finalEntries(c.in), secure)).toBe(c.root)
      })
    }
  }
})

describe('ordered trie root against @ethereumjs/mpt', () => {
  for (const n of [0, 1, 2, 16, 127, 128, 129, 200, 300, 1000]) {
    it(`${n} items of varied sizes`, async () => {
      // Sizes 1..120 bytes: short values get embedded in their parent node, long ones hashed.
      const values = Array.from({ length: n }, (_, i) => new Uint8Array(1 + ((i * 37) % 120)).fill(i & 255))
      const trie = new MerklePatriciaTrie()
      for (let i = 0; i < n; i++) await trie.put(RLP.encode(i), values[i])
      expect(bytesToHex(orderedTrieRoot(values))).toBe(bytesToHex(trie.root()))
    })
  }

  // Leaves are hashed together, two at a time when they take as many keccak blocks: values up to 700
  // bytes mix sizes, and odd counts leave some without a partner.
  for (const n of [3, 17, 150, 301]) {
    it(`${n} items of 1 to 700 bytes`, async () => {
      const values = Array.from({ length: n }, (_, i) => new Uint8Array(1 + ((i * 211) % 700)).map((_, j) => (i + j) & 255))
      const trie = new MerklePatriciaTrie()
      for (let i = 0; i < n; i++) await trie.put(RLP.encode(i), values[i])
      expect(bytesToHex(orderedTrieRoot(values))).toBe(bytesToHex(trie.root()))
    })
  }
})

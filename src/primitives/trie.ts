/**
 * Merkle-Patricia root from sorted keys, without building a trie in memory: every subtree is a
 * contiguous run of the sorted input, so one recursive pass over the run hashes each node once and
 * keeps only the path being built (depth <= key length in nibbles). This is the same idea as geth's
 * StackTrie and reth's HashBuilder; ~1 ms for 200 transactions versus ~25 ms for a full trie.
 */
import type { Bytes } from './bytes.js'
import { EMPTY_BYTES } from './bytes.js'
import { EMPTY_TRIE_ROOT, keccak256 } from './keccak.js'
import { Encoded, encode, encodeStringList, type EncodableInput } from './rlp.js'

function nibble(key: Bytes, i: number): number {
  const b = key[i >> 1]
  return i & 1 ? b & 0x0f : b >> 4
}

/** Hex-prefix encoding of key nibbles [from, to) with the leaf flag. */
function hexPrefix(key: Bytes, from: number, to: number, leaf: boolean): Bytes {
  const len = to - from
  const odd = len & 1
  const out = new Uint8Array((len >> 1) + 1)
  out[0] = ((leaf ? 2 : 0) + odd) << 4
  let pos = from
  if (odd) out[0] |= nibble(key, pos++)
  for (let i = 1; i < out.length; i++, pos += 2) out[i] = (nibble(key, pos) << 4) | nibble(key, pos + 1)
  return out
}

/** A child reference: nodes shorter than 32 bytes are embedded, others referenced by hash. */
function ref(node: Bytes): EncodableInput {
  return node.length < 32 ? new Encoded(node) : keccak256(node)
}

function commonPrefix(a: Bytes, b: Bytes, from: number): number {
  const max = Math.min(a.length, b.length) * 2
  let i = from
  while (i < max && nibble(a, i) === nibble(b, i)) i++
  return i
}

function buildNode(keys: readonly Bytes[], values: readonly Bytes[], lo: number, hi: number, depth: number): Bytes {
  if (hi - lo === 1) {
    return encodeStringList([hexPrefix(keys[lo], depth, keys[lo].length * 2, true), values[lo]])
  }
  const cp = commonPrefix(keys[lo], keys[hi - 1], depth)
  if (cp > depth) {
    return encode([hexPrefix(keys[lo], depth, cp, false), ref(buildBranch(keys, values, lo, hi, cp))])
  }
  return buildBranch(keys, values, lo, hi, depth)
}

function buildBranch(keys: readonly Bytes[], values: readonly Bytes[], lo: number, hi: number, depth: number): Bytes {
  const slots: EncodableInput[] = new Array(17).fill(EMPTY_BYTES)
  if (keys[lo].length * 2 === depth) {
    // A key that ends here is a prefix of the others; sorted order puts it first.
    slots[16] = values[lo]
    lo++
  }
  let i = lo
  while (i < hi) {
    const n = nibble(keys[i], depth)
    let j = i + 1
    while (j < hi && nibble(keys[j], depth) === n) j++
    slots[n] = ref(buildNode(keys, values, i, j, depth + 1))
    i = j
  }
  return encode(slots)
}

/**
 * Root of the trie holding `keys[i] -> values[i]`. Keys must be sorted ascending (bytewise) and
 * unique; values must be non-empty (an empty value means "absent" in a trie).
 */
export function trieRootSorted(keys: readonly Bytes[], values: readonly Bytes[]): Bytes {
  if (keys.length !== values.length) throw new RangeError('keys and values differ in length')
  if (keys.length === 0) return EMPTY_TRIE_ROOT
  return keccak256(buildNode(keys, values, 0, keys.length, 0))
}

/** rlp(i) for the indices seen so far: the same few hundred keys are needed for every block. */
const indexKeys: Bytes[] = []

function indexKey(i: number): Bytes {
  if (i < 65_536) return (indexKeys[i] ??= encode(i))
  return encode(i)
}

/**
 * Root of the ordered trie used for transactions, receipts and withdrawals: key = rlp(index).
 * Sorted key order is 1..127 (single bytes), then 0 (0x80), then 128.. (0x81xx, 0x82xxxx, ...).
 */
export function orderedTrieRoot(values: readonly Bytes[]): Bytes {
  const n = values.length
  if (n === 0) return EMPTY_TRIE_ROOT
  const keys: Bytes[] = []
  const vals: Bytes[] = []
  const push = (i: number) => {
    keys.push(indexKey(i))
    vals.push(values[i])
  }
  for (let i = 1; i < Math.min(n, 128); i++) push(i)
  push(0)
  for (let i = 128; i < n; i++) push(i)
  return trieRootSorted(keys, vals)
}

/** Root of a secure trie (key = keccak(key)), e.g. a state or storage trie; input in any order. */
export function secureTrieRoot(entries: ReadonlyArray<readonly [Bytes, Bytes]>): Bytes {
  const hashed = entries.map(([k, v]) => [keccak256(k), v] as const)
  hashed.sort((a, b) => Buffer.compare(a[0], b[0]))
  return trieRootSorted(
    hashed.map((e) => e[0]),
    hashed.map((e) => e[1]),
  )
}

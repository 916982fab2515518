/**
 * Structurally valid chains for unit tests of components that only look at structure (linkage,
 * hashes, sizes): headers link by parent hash; bodies and receipts are opaque RLP lists whose roots
 * are NOT consistent with the headers. Never use it where validation runs.
 */
import { type Bytes, EMPTY_BYTES } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { EMPTY_LIST_HASH, keccak256 } from '../../src/primitives/keccak.js'
import { encode } from '../../src/primitives/rlp.js'

export interface SyntheticBlock {
  header: BlockHeader
  body: Bytes
  receipts: Bytes
}

export function syntheticChain(length: number, opts: { fork?: number; bodyBytes?: number; parent?: Bytes } = {}): SyntheticBlock[] {
  const out: SyntheticBlock[] = []
  let parent = opts.parent ?? new Uint8Array(32)
  for (let n = 0; n < length; n++) {
    const salt = Uint8Array.of(n & 255, (n >> 8) & 255, (n >> 16) & 255, opts.fork ?? 0)
    const raw = encode([
      parent,
      EMPTY_LIST_HASH,
      new Uint8Array(20),
      keccak256(salt),
      keccak256(encode([salt, 1])), // non-empty roots: bodies and receipts must be fetched
      keccak256(encode([salt, 2])),
      new Uint8Array(256),
      0n,
      n,
      30_000_000n,
      0n,
      1_700_000_000 + n * 12,
      EMPTY_BYTES,
      new Uint8Array(32),
      new Uint8Array(8),
    ])
    const header = BlockHeader.decode(raw)
    out.push({
      header,
      body: encode([[new Uint8Array(opts.bodyBytes ?? 100).fill(n & 255)], []]),
      receipts: encode([[salt]]),
    })
    parent = header.hash
  }
  return out
}

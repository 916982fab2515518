/**
 * Verified blocks for store tests and the store benchmark:
 *  - geth's devp2p test chain (blocks 1..600, tx types 0-4) with receipts derived once by
 *    fixtures/make-devp2p-receipts.ts and checked against every header;
 *  - real mainnet blocks from portal-spec-tests;
 *  - side branches and long runs built from the validation benchmark's mainnet-like blocks, re-headed
 *    (parent hash, number) so they link; their roots and blooms still match their bodies.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { mainnetLikeBlock } from '../../bench/mainnet-like.js'
import { decodeBlock } from '../../src/primitives/body.js'
import { type Bytes, bigIntToBytes, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { type RlpTree, decodeTree, encode, encodeListOfEncoded, rawOf, readItem } from '../../src/primitives/rlp.js'
import type { FullBlock } from '../../src/store/types.js'
import { REPO_ROOT, fixturePath, readPortalBlock } from '../fixtures.js'

export function verifiedBlock(header: Bytes, body: Bytes, receipts: Bytes): FullBlock {
  const h = BlockHeader.decode(header)
  return { number: h.number, hash: h.hash, parentHash: h.parentHash, header, body, receipts }
}

/** Splits concatenated RLP items. */
function items(buf: Bytes): Bytes[] {
  const out: Bytes[] = []
  for (let pos = 0; pos < buf.length; ) {
    const item = readItem(buf, pos)
    out.push(buf.subarray(item.offset, item.end))
    pos = item.end
  }
  return out
}

let devp2p: FullBlock[] | undefined

/** geth's devp2p test chain, blocks 1..600; block 1's parent is the genesis. */
export function devp2pChain(): FullBlock[] {
  if (devp2p) return devp2p
  const chain = new Uint8Array(readFileSync(fixturePath('go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata', 'chain.rlp')))
  const receipts = items(new Uint8Array(gunzipSync(readFileSync(join(REPO_ROOT, 'test', 'store', 'fixtures', 'devp2p-chain-receipts.rlp.gz')))))
  devp2p = items(chain).map((raw, i) => {
    const { header, body } = decodeBlock(raw)
    const parts = [body.txsItem, body.ommersItem, ...(body.withdrawalsItem ? [body.withdrawalsItem] : [])]
    return verifiedBlock(header.raw, encodeListOfEncoded(parts.map((p) => rawOf(raw, p))), receipts[i])
  })
  return devp2p
}

export function portalBlock(n: number): FullBlock {
  const data = readPortalBlock(n)
  return verifiedBlock(hexToBytes(data.header), hexToBytes(data.body), hexToBytes(data.receipts))
}

/** A header with parent hash and number replaced; every other field (roots, bloom) kept. */
function reheaded(header: Bytes, parentHash: Bytes, number: number, salt: number): Bytes {
  const fields = decodeTree(header) as RlpTree[]
  fields[0] = parentHash
  fields[8] = bigIntToBytes(number)
  fields[12] = new TextEncoder().encode(`branch ${salt}`) // extraData: distinct hashes for distinct branches
  return encode(fields)
}

const templates = new Map<string, ReturnType<typeof mainnetLikeBlock>>()

function template(seed: number, txCount: number, logs: number): ReturnType<typeof mainnetLikeBlock> {
  const key = `${seed}/${txCount}/${logs}`
  let t = templates.get(key)
  if (!t) templates.set(key, (t = mainnetLikeBlock(seed, txCount, logs)))
  return t
}

export interface BranchOptions {
  /** Transactions per block (200 gives ~150 KB mainnet-like bodies). */
  txCount?: number
  logs?: number
  /** Distinct bodies to cycle through (building one costs ~20 ms at 200 txs). */
  distinctBodies?: number
  /** Makes the branch's hashes differ from another branch with the same parent. */
  salt?: number
  /** Receipts in eth/68 form (with blooms) instead of eth/69. */
  eth68?: boolean
}

/** `count` linked blocks on top of `parent`, with bodies and receipts whose roots match their headers. */
export function branch(parent: { number: number; hash: Bytes }, count: number, options: BranchOptions = {}): FullBlock[] {
  const { txCount = 4, logs = 8, distinctBodies = 4, salt = 0, eth68 = false } = options
  const out: FullBlock[] = []
  let prev = parent
  for (let i = 0; i < count; i++) {
    const t = template(i % distinctBodies, txCount, logs)
    const number = prev.number + 1
    const block = verifiedBlock(reheaded(t.header, prev.hash, number, salt), t.body, eth68 ? t.receiptsEth68 : t.receiptsEth69)
    out.push(block)
    prev = block
  }
  return out
}

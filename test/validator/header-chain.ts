/** Real chains from the fixtures, decoded once for the header/segment tests. */
import { readFileSync } from 'node:fs'
import type { Chain } from '../../src/chain/chain.js'
import { loadChain } from '../../src/chain/chains.js'
import { type DecodedBlock, decodeBlock } from '../../src/primitives/body.js'
import type { Bytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { encode, encodeListOfEncoded, type RlpInput, rawOf, readItem } from '../../src/primitives/rlp.js'
import { fixturePath } from '../fixtures.js'

export const GETH_CHAIN = 'go-ethereum/cmd/devp2p/internal/ethtest/testdata'
export const GETH_OLD_CHAIN = 'go-ethereum/at-577be37e0e/cmd/devp2p/internal/ethtest/testdata'

export function loadGethChain(dir: string): { chain: Chain; blocks: DecodedBlock[] } {
  const chain = loadChain(fixturePath(dir, 'genesis.json'), { ethash: { mode: 'off' } })
  const buf = new Uint8Array(readFileSync(fixturePath(dir, 'chain.rlp')))
  const blocks: DecodedBlock[] = []
  for (let pos = 0; pos < buf.length; ) {
    const item = readItem(buf, pos)
    blocks.push(decodeBlock(rawOf(buf, item)))
    pos = item.end
  }
  return { chain, blocks }
}

/** A copy of `header` with some fields (by RLP index) replaced; `null` drops the field and all after it. */
export function mutateHeader(header: BlockHeader, changes: Record<number, RlpInput | null>): BlockHeader {
  const parts: Bytes[] = []
  for (let i = 0; i < header.fieldCount; i++) {
    const change = changes[i]
    if (change === null) break
    parts.push(change === undefined ? rawOf(header.raw, header.fields[i]) : encode(change))
  }
  return BlockHeader.decode(encodeListOfEncoded(parts))
}

export const F = { parentHash: 0, ommersHash: 1, coinbase: 2, difficulty: 7, number: 8, gasLimit: 9, gasUsed: 10, timestamp: 11, extraData: 12, nonce: 14, baseFee: 15, blobGasUsed: 17, excessBlobGas: 18, requestsHash: 20 } as const

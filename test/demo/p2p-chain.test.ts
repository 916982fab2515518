/**
 * The chain `npm run demo:p2p` serves is generated (scripts/demo/p2p-chain.ts): a tiny one must pass
 * the project's own validator (every root, bloom, gas and fee rule, senders recovered) against the
 * genesis.json it comes with, and a real EthereumJS client must import and execute it up to its head.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedP2pChain, DEMO_CHAIN_ID, generateP2pChain, type P2pChain } from '../../scripts/demo/p2p-chain.js'
import { loadChain } from '../../src/chain/chains.js'
import { decodeBlock, type DecodedBlock } from '../../src/primitives/body.js'
import { bytesToHex, hexToBytes, type Bytes } from '../../src/primitives/bytes.js'
import { decodeBlockReceipts, type Receipt } from '../../src/primitives/receipt.js'
import { rawOf, readItem } from '../../src/primitives/rlp.js'
import { validateSegment } from '../../src/validator/segment.js'
import { startEthjsClient } from '../helpers/ethjs-client.js'

const BLOCKS = 12

/** The items of a file of concatenated RLP items (chain.rlp, receipts.rlp). */
function items(file: string): Bytes[] {
  const buf = new Uint8Array(readFileSync(file))
  const out: Bytes[] = []
  for (let pos = 0; pos < buf.length; ) {
    const item = readItem(buf, pos)
    out.push(rawOf(buf, item))
    pos = item.end
  }
  return out
}

describe('demo p2p chain generator', () => {
  let dir: string
  let chain: P2pChain
  let blocks: DecodedBlock[]
  let receipts: Receipt[][]

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evm-syncer-demo-chain-'))
    chain = await generateP2pChain(join(dir, 'chain'), { blocks: BLOCKS, txsPerBlock: [3, 8], seed: 7 })
    blocks = items(chain.chainRlpPath).map((raw) => decodeBlock(raw))
    receipts = items(chain.receiptsRlpPath).map((raw) => decodeBlockReceipts(raw))
  })

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('writes blocks 1..N with transaction types 0, 1, 2 and 4, logs and withdrawals', () => {
    expect(blocks.map((b) => b.header.number)).toEqual(Array.from({ length: BLOCKS }, (_, i) => i + 1))
    expect(receipts).toHaveLength(BLOCKS)
    const types = new Set(blocks.flatMap((b) => b.body.transactions().map((tx) => tx.type)))
    expect([...types].sort()).toEqual([0, 1, 2, 4])
    expect(Object.keys(chain.byType).sort()).toEqual(['0', '1', '2', '4'])
    expect(chain.logs).toBeGreaterThan(0)
    expect(blocks.reduce((n, b) => n + b.body.withdrawals().length, 0)).toBe(chain.withdrawals)
    expect(chain.withdrawals).toBeGreaterThan(0)
    expect(chain.head).toEqual({ number: BLOCKS, hash: bytesToHex(blocks[BLOCKS - 1].header.hash), timestamp: blocks[BLOCKS - 1].header.timestamp })
  })

  it('validates with the project validator against its genesis.json (proof of stake, Prague)', () => {
    const spec = loadChain(chain.genesisPath)
    expect(spec.chainId).toBe(BigInt(DEMO_CHAIN_ID))
    expect(bytesToHex(spec.genesis.hash)).toBe(chain.genesisHash)
    expect(blocks[0].header.parentHash).toEqual(spec.genesis.hash)
    expect(blocks.every((b) => b.header.difficulty === 0n && b.header.requestsHash !== undefined)).toBe(true)
    const segment = blocks.map((b, i) => ({ header: b.header, body: b.body, receipts: receipts[i] }))
    const result = validateSegment(spec, segment, { header: spec.genesisHeader }, { recoverSenders: true })
    expect(result.failure).toBeUndefined()
    expect(result.validCount).toBe(BLOCKS)
  })

  it('is deterministic: the same options give the same bytes (the cache relies on it)', async () => {
    const again = await generateP2pChain(join(dir, 'again'), { blocks: 3, txsPerBlock: [3, 8], seed: 7 })
    expect(items(again.chainRlpPath)).toEqual(items(chain.chainRlpPath).slice(0, 3))
    const cached = await cachedP2pChain(join(dir, 'cache'), { blocks: 3, txsPerBlock: [3, 8], seed: 7 })
    expect(cached.generated).toBe(true)
    const reused = await cachedP2pChain(join(dir, 'cache'), { blocks: 3, txsPerBlock: [3, 8], seed: 7 })
    expect(reused).toEqual({ chain: cached.chain, generated: false })
    expect(cached.chain.head).toEqual(again.head)
  })

  it('is imported and executed by the EthereumJS client up to its last block', async () => {
    // A fresh cache dir: the import itself is under test, not a cached data dir.
    const client = await startEthjsClient(
      { ...chain, genesisHash: hexToBytes(chain.genesisHash), head: { number: chain.head.number, hash: hexToBytes(chain.head.hash) } },
      join(dir, 'ethjs-cache'),
    )
    try {
      const head = (await client.rpc('eth_getBlockByNumber', ['latest', false])) as { number: string; hash: string; stateRoot: string }
      expect(Number(head.number)).toBe(BLOCKS)
      expect(head.hash).toBe(chain.head.hash)
      expect(head.stateRoot).toBe(bytesToHex(blocks[BLOCKS - 1].header.stateRoot))
    } finally {
      await client.stop()
    }
  })
})

/**
 * The JSON-RPC source against a real Anvil serving a generated Prague chain with tx types 0 (incl.
 * pre-EIP-155), 1, 2 and 4, logs, creations and reverts: every rebuilt header hashes to the hash
 * Anvil reports, and the body and receipts validate against it from the rebuilt bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rulesAt } from '../../../src/chain/forks.js'
import { BlockBody } from '../../../src/primitives/body.js'
import { bytesToHex, hexToBytes } from '../../../src/primitives/bytes.js'
import { BlockHeader } from '../../../src/primitives/header.js'
import { decodeBlockReceipts } from '../../../src/primitives/receipt.js'
import { TxType } from '../../../src/primitives/transaction.js'
import { RpcEndpoint } from '../../../src/sources/rpc/endpoint.js'
import { RpcPool } from '../../../src/sources/rpc/pool.js'
import type { RawBlock } from '../../../src/sources/types.js'
import { validateBody } from '../../../src/validator/body.js'
import { validateRawReceipts } from '../../../src/validator/receipts.js'
import { ANVIL_CHAIN_ID, startAnvil, type Anvil } from '../../helpers/anvil.js'
import { generateChain, mineEmpty, prng, type ChainGenSummary } from '../../helpers/chain-gen.js'
import { rebuildBlock, type JsonObject } from '../../../src/sources/rpc/rebuild.js'
import { expectSameOutcome, mutate } from './mutations.js'
import * as reference from './reference-rebuild.js'

const PRAGUE = rulesAt(BigInt(ANVIL_CHAIN_ID), 'prague')

let anvil: Anvil
let chain: ChainGenSummary
let head: number
/** Block hashes as Anvil reports them, fetched with the test's own client. */
let reported: string[]
let pool: RpcPool

beforeAll(async () => {
  anvil = await startAnvil()
  chain = await generateChain(anvil, { blocks: 14, txsPerBlock: [15, 60], seed: 7 })
  await mineEmpty(anvil, 2)
  head = Number(await anvil.rpc<string>('eth_blockNumber'))
  const blocks = await anvil.batch<{ hash: string }>(Array.from({ length: head + 1 }, (_, n) => ({ method: 'eth_getBlockByNumber', params: ['0x' + n.toString(16), false] })))
  reported = blocks.map((b) => b.hash)
  pool = new RpcPool({ urls: [anvil.url], verifyTxHashes: true, batchSize: 6 })
  await pool.start()
})

afterAll(async () => {
  await pool?.stop()
  await anvil?.stop()
})

/** Header hash, then every body and receipt rule of the validator, from the rebuilt bytes. */
function verify(raw: RawBlock, expectedHash: string) {
  const header = BlockHeader.decode(raw.header)
  expect(bytesToHex(header.hash)).toBe(expectedHash)
  const body = BlockBody.decode(raw.body)
  expect(validateBody(header, body, PRAGUE, { recoverSenders: true })).toEqual([])
  const txs = body.transactions()
  expect(validateRawReceipts(header, raw.receipts!, txs.length, { rules: PRAGUE, txTypes: txs.map((t) => t.type) })).toEqual([])
  return { header, body, receipts: decodeBlockReceipts(raw.receipts!) }
}

describe('RpcPool / RpcEndpoint against a real Anvil (Prague, tx types 0/1/2/4)', () => {
  it('reports the chain id, head and a hash-checked genesis header', async () => {
    expect(pool.chainId()).toBe(BigInt(ANVIL_CHAIN_ID))
    expect(pool.head()?.number).toBe(head)
    expect(bytesToHex(pool.head()!.hash)).toBe(reported[head])
    const genesis = BlockHeader.decode(await pool.genesisHeader())
    expect(genesis.number).toBe(0)
    expect(bytesToHex(genesis.hash)).toBe(reported[0])
    expect(genesis.fieldCount).toBe(21) // Prague: requestsHash present from genesis
    const finalized = await pool.finalized()
    expect(finalized === undefined || (finalized >= 0 && finalized <= head)).toBe(true)
  })

  it('every block: rebuilt header hashes to Anvil`s hash; tx root, receipts root, blooms, gasUsed and senders verify', async () => {
    const blocks = await pool.getBlocks(0, head + 1, true)
    expect(blocks.length).toBe(head + 1)
    const types = new Set<number>()
    let pre155 = 0
    let creations = 0
    let failed = 0
    let logs = 0
    let authorizations = 0
    blocks.forEach((raw, n) => {
      const { body, receipts } = verify(raw, reported[n])
      for (const tx of body.transactions()) {
        types.add(tx.type)
        const d = tx.decode()
        if (tx.type === TxType.Legacy && d.chainId === undefined) pre155++
        if (d.to === undefined) creations++
        authorizations += d.authorizationCount
      }
      for (const r of receipts) {
        if (r.hasStatus && r.statusOrRoot.length === 0) failed++
        logs += r.logs().length
      }
    })
    expect([...types].sort()).toEqual([0, 1, 2, 4])
    expect(pre155).toBe(chain.byKind.legacyPre155)
    expect(creations).toBe(chain.byKind.create + chain.byKind.failedCreate)
    expect(failed).toBe(chain.byKind.revert + chain.byKind.failedCreate)
    expect(authorizations).toBe(chain.authorizations)
    expect(logs).toBeGreaterThan(chain.txs / 2)
    expect(blocks.reduce((n, b) => n + BlockBody.decode(b.body).transactions().length, 0)).toBe(chain.txs)
  })

  it('the tape rebuild writes the reference rebuild`s bytes, and agrees with it under random single-field changes', async () => {
    const hex = (n: number) => '0x' + n.toString(16)
    const json = await anvil.batch<unknown>(Array.from({ length: head + 1 }, (_, n) => [
      { method: 'eth_getBlockByNumber', params: [hex(n), true] },
      { method: 'eth_getBlockReceipts', params: [hex(n)] },
    ]).flat())
    const blocks = await pool.getBlocks(0, head + 1, true)
    const parts = (b: RawBlock) => [b.header, b.body, b.receipts!]
    for (let n = 0; n <= head; n++) {
      const want = reference.rebuildBlock(json[2 * n] as JsonObject, { receipts: json[2 * n + 1] as unknown[], verifyTxHashes: true })
      expect(parts(blocks[n]).map(bytesToHex)).toEqual(parts(want).map(bytesToHex))
    }
    const next = prng(5)
    let same = 0
    for (let k = 0; k < 300; k++) {
      const n = 2 + Math.floor(next() * (head - 2))
      const change = mutate([json[2 * n], json[2 * n + 1]], next, ['yParity', 'v', 'input', 'data', 'to', 'status', 'root', 'accessList'])
      const [block, receipts] = change.value as [JsonObject, unknown[]]
      const opts = { receipts, verifyTxHashes: true }
      if (expectSameOutcome(change, () => parts(reference.rebuildBlock(block, opts)), () => parts(rebuildBlock(block, opts)))) same++
    }
    expect(same).toBeGreaterThan(10)
  })

  it('headers: contiguous, with skip and reverse, and starting from a hash', async () => {
    const ep = pool.peers()[0]
    const all = await ep.getHeaders({ start: 0, count: head + 1 })
    expect(all.map((h) => bytesToHex(BlockHeader.decode(h).hash))).toEqual(reported)
    const back = await ep.getHeaders({ start: head, count: 4, skip: 2, reverse: true })
    expect(back.map((h) => BlockHeader.decode(h).number)).toEqual([head, head - 3, head - 6, head - 9])
    const fromHash = await ep.getHeaders({ start: hexToBytes(reported[3]), count: 3 })
    expect(fromHash.map((h) => bytesToHex(BlockHeader.decode(h).hash))).toEqual(reported.slice(3, 6))
    // Walking back past genesis stops at block 0.
    expect((await ep.getHeaders({ start: 2, count: 10, reverse: true })).length).toBe(3)
  })

  it('bodies and receipts by hash match the whole-block path; unknown hashes are skipped', async () => {
    const ep = pool.peers()[0]
    const wanted = [2, 5, 9].map((n) => hexToBytes(reported[n]))
    const unknown = new Uint8Array(32).fill(0xab)
    const blocks = await ep.getBlocks(0, head + 1, true)
    const bodies = await ep.getBodies([wanted[0], unknown, wanted[1], wanted[2]])
    expect(bodies.map(bytesToHex)).toEqual([2, 5, 9].map((n) => bytesToHex(blocks[n].body)))
    const receipts = await ep.getReceipts([unknown, ...wanted])
    expect(receipts.map(bytesToHex)).toEqual([2, 5, 9].map((n) => bytesToHex(blocks[n].receipts!)))
  })

  it('a block beyond the head is "don`t have it": short or empty answers, no fault', async () => {
    const ep = new RpcEndpoint({ url: anvil.url })
    expect(await ep.getBlocks(head + 1, 5, true)).toEqual([])
    const tail = await ep.getBlocks(head - 1, 5, true)
    expect(tail.map((b) => bytesToHex(BlockHeader.decode(b.header).hash))).toEqual(reported.slice(head - 1))
    expect(await ep.getHeaders({ start: head + 10, count: 3 })).toEqual([])
    expect(await ep.getBodies([new Uint8Array(32)])).toEqual([])
    expect(await pool.getBlocks(head + 1, 3, false)).toEqual([])
    const snap = ep.score.snapshot()
    expect(snap.failures).toBe(0)
    expect(snap.requests).toBe(4)
  })

  it('without receipts, and with one block per request, the bytes are the same', async () => {
    const small = new RpcEndpoint({ url: anvil.url, batchSize: 1, maxConcurrency: 2 })
    const a = await small.getBlocks(1, 6, false)
    const b = await pool.getBlocks(1, 6, true)
    expect(a.map((x) => x.receipts)).toEqual(Array(6).fill(undefined))
    expect(a.map((x) => bytesToHex(x.header) + bytesToHex(x.body))).toEqual(b.map((x) => bytesToHex(x.header) + bytesToHex(x.body)))
  })

  it('a block appended after start is seen by getBlocks and raises the endpoint head', async () => {
    await mineEmpty(anvil, 1)
    const next = head + 1
    const [raw] = await pool.getBlocks(next, 1, true)
    const hash = (await anvil.rpc<{ hash: string }>('eth_getBlockByNumber', ['0x' + next.toString(16), false])).hash
    verify(raw, hash)
    expect(pool.head()?.number).toBe(next)
  })
})


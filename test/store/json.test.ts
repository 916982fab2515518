/**
 * `blockJson` against a reference: the EthereumJS client's eth_getBlockByNumber(n, true) and
 * eth_getBlockReceipts answers for devp2p-chain blocks with every transaction type, logs and a
 * contract creation (kept in fixtures/devp2p-chain-rpc-samples.json by make-devp2p-receipts.ts).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { blockJson } from '../../src/store/json.js'
import { REPO_ROOT, readFixtureJson } from '../fixtures.js'
import { devp2pChain, portalBlock } from './chains.js'

type Json = Record<string, unknown>
const samples = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'store', 'fixtures', 'devp2p-chain-rpc-samples.json'), 'utf8')) as Record<
  string,
  { block: Json & { transactions: Json[] }; receipts: Json[] }
>

/** Fields the stored bytes cannot give: total difficulty, and the blob gas price (it needs the chain's blob schedule). */
const NOT_DERIVABLE = new Set(['totalDifficulty', 'blobGasPrice'])

function withoutUnderivable(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !NOT_DERIVABLE.has(k)))
}

/** The reference node leaves out a type-4 transaction's authorizationList (geth prints it; checked below). */
function withoutAuthorizations(block: Json): Json {
  const transactions = (block.transactions as Json[]).map((t) => Object.fromEntries(Object.entries(t).filter(([k]) => k !== 'authorizationList')))
  return { ...block, transactions }
}

/**
 * `blockTimestamp` on transactions, receipts and logs (geth 1.16) is newer than the reference node:
 * checked against the block's timestamp, then removed for the comparison.
 */
function withoutBlockTimestamps(o: Json, timestamp: unknown): Json {
  expect(o.blockTimestamp).toBe(timestamp)
  const out = Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'blockTimestamp'))
  if (Array.isArray(out.logs)) out.logs = (out.logs as Json[]).map((l) => withoutBlockTimestamps(l, timestamp))
  return out
}

describe('blockJson', () => {
  for (const [number, sample] of Object.entries(samples)) {
    it(`block ${number}: equals the reference node's JSON-RPC answers`, () => {
      const stored = devp2pChain()[Number(number) - 1]
      const { block, receipts } = blockJson(stored, { receipts: true })
      const txs = (block.transactions as Json[]).map((t) => withoutBlockTimestamps(t, block.timestamp))
      expect(withoutAuthorizations({ ...block, transactions: txs })).toEqual(withoutUnderivable(sample.block))
      expect(receipts!.map((r) => withoutBlockTimestamps(r, block.timestamp))).toEqual(sample.receipts.map(withoutUnderivable))
    })
  }

  it('covers every transaction type, logs and a contract creation', () => {
    const all = Object.values(samples)
    const types = new Set(all.flatMap((s) => s.block.transactions.map((t) => t.type)))
    expect([...types].sort()).toEqual(['0x0', '0x1', '0x2', '0x3', '0x4'])
    expect(all.some((s) => s.receipts.some((r) => (r.logs as unknown[]).length > 0))).toBe(true)
    expect(all.some((s) => s.receipts.some((r) => r.contractAddress !== null))).toBe(true)
  })

  it('renders a type-4 (EIP-7702) transaction with its authorization list', () => {
    // geth's record of the chain: the 7702 transaction and the address it delegates to.
    const info = readFixtureJson<{ 'tx-eip7702': { proxyAddr: string; authorizeTx: string } }>(
      'go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata', 'txinfo.json',
    )['tx-eip7702']
    const tx = (blockJson(devp2pChain()[11]).block.transactions as Json[]).find((t) => t.hash === info.authorizeTx)!
    expect(tx.type).toBe('0x4')
    const auths = tx.authorizationList as Json[]
    expect(auths).toHaveLength(1)
    expect(auths[0].address).toBe(info.proxyAddr)
    expect(Object.keys(auths[0]).sort()).toEqual(['address', 'chainId', 'nonce', 'r', 's', 'yParity'])
  })

  it('renders a real mainnet block: senders, cumulative gas, log indexes across receipts', () => {
    const stored = portalBlock(22431084)
    const { block, receipts } = blockJson(stored, { receipts: true })
    const txs = block.transactions as Json[]
    expect(txs.length).toBe(receipts!.length)
    expect(txs.every((t) => typeof t.from === 'string')).toBe(true)
    const gasUsed = receipts!.reduce((n, r) => n + BigInt(r.gasUsed as string), 0n)
    expect('0x' + gasUsed.toString(16)).toBe(block.gasUsed)
    const logIndexes = receipts!.flatMap((r) => (r.logs as Json[]).map((l) => Number(l.logIndex)))
    expect(logIndexes).toEqual(logIndexes.map((_, i) => i))
    expect(receipts!.every((r, i) => r.transactionHash === txs[i].hash && r.from === txs[i].from)).toBe(true)
  })
})

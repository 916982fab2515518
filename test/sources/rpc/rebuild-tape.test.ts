/**
 * The tape rebuild (response bytes -> RLP, written back to front) against the reference rebuild it
 * replaced (JSON.parse objects -> one Buffer per field -> encode): same bytes on real mainnet JSON of
 * every fork and on mainnet receipts, and the same outcome under random single-field changes.
 * The same comparison on Anvil's generated chain (the benchmark chain's generator) is in
 * anvil.test.ts, and over the whole cached benchmark chain in bench/stages/rebuild.ts.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BlockBody } from '../../../src/primitives/body.js'
import { bytesToHex, hexToBytes } from '../../../src/primitives/bytes.js'
import { BlockHeader } from '../../../src/primitives/header.js'
import { decodeBlockReceipts } from '../../../src/primitives/receipt.js'
import { JsonTape } from '../../../src/sources/rpc/json-tape.js'
import { BlockBatchWriter, rebuildBlock, rebuildReceipts, type JsonObject } from '../../../src/sources/rpc/rebuild.js'
import { PORTAL_BLOCKS, fixturePath, listFiles, readPortalBlock } from '../../fixtures.js'
import { prng } from '../../helpers/chain-gen.js'
import { receiptToRpc } from './json-fixtures.js'
import { expectSameOutcome, mutate } from './mutations.js'
import * as reference from './reference-rebuild.js'

const NIMBUS = fixturePath('nimbus-eth1', 'nimbus_verified_proxy', 'tests', 'data')
const BLOCK_KEYS = ['withdrawalsRoot', 'baseFeePerGas', 'blobGasUsed', 'requestsHash', 'input', 'data', 'yParity', 'v', 'type', 'to', 'accessList', 'chainId']
const RECEIPT_KEYS = ['root', 'status', 'type', 'logs', 'topics', 'blockHash', 'transactionHash']

const mainnetBlocks = listFiles(NIMBUS, '.json').map((file) => {
  const json = JSON.parse(readFileSync(file, 'utf8')) as JsonObject
  return { fork: basename(file, '.json'), block: (json.result as JsonObject | undefined) ?? json }
})

const parts = (b: { header: Uint8Array; body: Uint8Array; receipts?: Uint8Array }) => [b.header, b.body, ...(b.receipts ? [b.receipts] : [])]

/** Mainnet receipts printed as eth_getBlockReceipts prints them, with their block and tx hashes. */
function portalReceipts(n: number) {
  const data = readPortalBlock(n)
  const blockHash = bytesToHex(BlockHeader.decode(hexToBytes(data.header)).hash)
  const txHashes = BlockBody.decode(hexToBytes(data.body))
    .transactions()
    .map((t) => bytesToHex(t.hash))
  const json = decodeBlockReceipts(hexToBytes(data.receipts)).map((r, i) => receiptToRpc(r, { blockHash, transactionHash: txHashes[i] }))
  return { json, blockHash, txHashes }
}

describe('tape rebuild = reference rebuild', () => {
  it('mainnet JSON of every fork (Frontier..Prague, blob txs, withdrawals): the same header and body bytes', () => {
    expect(mainnetBlocks.length).toBe(11)
    for (const { fork, block } of mainnetBlocks) {
      expect(parts(rebuildBlock(block)).map(bytesToHex), fork).toEqual(parts(reference.rebuildBlock(block)).map(bytesToHex))
    }
  })

  it('straight from the response bytes, pretty-printed or with escapes, the bytes are the same', () => {
    const { block } = mainnetBlocks.find((b) => b.fork === 'Cancun')!
    const want = parts(reference.rebuildBlock(block)).map(bytesToHex)
    const texts = [
      JSON.stringify(block),
      JSON.stringify(block, null, 2),
      JSON.stringify(block).replace('"parentHash"', '"parent\\u0048ash"').replace(/"0x0"/g, '"\\u0030x0"'),
    ]
    for (const text of texts) {
      const tape = JsonTape.parse(Buffer.from(text))
      const batch = new BlockBatchWriter()
      batch.add(tape, 0)
      expect(parts(batch.finish()[0]).map(bytesToHex)).toEqual(want)
    }
  })

  it('matches receipts to the transaction hashes read while writing the body; a transaction without one is a typed error', () => {
    const { block } = mainnetBlocks.find((b) => b.fork === 'Cancun')!
    const txs = block.transactions as JsonObject[]
    expect(txs.length).toBeGreaterThan(1)
    // Hashes present: the receipts list is checked against them (here: too short).
    expect(() => rebuildBlock(block, { receipts: [] })).toThrow(expect.objectContaining({ message: expect.stringMatching(/0 receipts for \d+ transactions/) }))
    const { hash: _dropped, ...withoutHash } = txs[1]
    const noHash = { ...block, transactions: [txs[0], withoutHash, ...txs.slice(2)] }
    expect(() => rebuildBlock(noHash, { receipts: [] })).toThrow(expect.objectContaining({ code: 'RPC_BAD_RESPONSE', message: expect.stringMatching(/transaction without hash/) }))
    expect(parts(rebuildBlock(noHash)).map(bytesToHex)).toEqual(parts(reference.rebuildBlock(block)).map(bytesToHex)) // no receipts: hashes not needed
  })

  it('mainnet receipts (Byzantium..Prague): the same eth/69 bytes, checked against block and tx hashes', () => {
    for (const n of PORTAL_BLOCKS) {
      const { json, blockHash, txHashes } = portalReceipts(n)
      expect(bytesToHex(rebuildReceipts(json, { blockHash, txHashes }))).toBe(bytesToHex(reference.rebuildReceipts(json, { blockHash, txHashes })))
    }
  })

  it('property: a random change of one field of a mainnet block gives the same bytes or the same typed error', () => {
    const next = prng(1)
    let same = 0
    for (const { fork, block } of mainnetBlocks) {
      for (let k = 0; k < 60; k++) {
        const change = mutate(block, next, BLOCK_KEYS)
        const changed = change.value as JsonObject
        if (expectSameOutcome({ ...change, what: `${fork} ${change.what}` }, () => parts(reference.rebuildBlock(changed, { verifyTxHashes: true })), () => parts(rebuildBlock(changed, { verifyTxHashes: true })))) same++
      }
    }
    // Quirks that must not change the bytes (padding, case, 27/28...) happen among the changes.
    expect(same).toBeGreaterThan(20)
  })

  it('property: a random change of one field of mainnet receipts gives the same bytes or the same typed error', () => {
    const next = prng(2)
    let same = 0
    for (const n of PORTAL_BLOCKS) {
      const { json, blockHash, txHashes } = portalReceipts(n)
      for (let k = 0; k < 40; k++) {
        const change = mutate(json, next, RECEIPT_KEYS)
        const changed = change.value as unknown[]
        if (expectSameOutcome({ ...change, what: `${n} ${change.what}` }, () => reference.rebuildReceipts(changed, { blockHash, txHashes }), () => rebuildReceipts(changed, { blockHash, txHashes }))) same++
      }
    }
    expect(same).toBeGreaterThan(20)
  })
})

import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BlockBody } from '../../../src/primitives/body.js'
import { bytesToHex, equalBytes, hexToBytes } from '../../../src/primitives/bytes.js'
import { BlockHeader } from '../../../src/primitives/header.js'
import { keccak256 } from '../../../src/primitives/keccak.js'
import { Receipt, decodeBlockReceipts } from '../../../src/primitives/receipt.js'
import { decodeItem, encodeListOfEncoded, listItems, rawOf } from '../../../src/primitives/rlp.js'
import { orderedTrieRoot } from '../../../src/primitives/trie.js'
import { RpcError, RpcErrorCode } from '../../../src/sources/rpc/errors.js'
import {
  checkHeaderHash,
  rebuildBlock,
  rebuildBody,
  rebuildHeader,
  rebuildReceipts,
  rebuildTransaction,
  type JsonObject,
} from '../../../src/sources/rpc/rebuild.js'
import { PORTAL_BLOCKS, fixturePath, listFiles, readFixtureJson, readPortalBlock } from '../../fixtures.js'
import { blockchainTestBlockToRpc, headerToRpc, receiptToRpc, sszByteLists } from './json-fixtures.js'

const NIMBUS = ['nimbus-eth1', 'nimbus_verified_proxy', 'tests', 'data']
const ETHJS = ['ethereumjs-monorepo', 'packages', 'block', 'test', 'testdata']
const ETHJS_RPC_FILES = [
  'alchemy14151203.json',
  'infura15571241wtxns.json',
  'infura2000004wtxs.json',
  'testdata-from-rpc-goerli.json',
  'infura-goerli-block-10536893.json',
]

function unwrap(json: JsonObject): JsonObject {
  return (json.result as JsonObject | undefined) ?? json
}

/** Every commitment a real JSON-RPC block carries, checked from the rebuilt bytes. */
function checkRealBlock(block: JsonObject) {
  const raw = rebuildBlock(block, { verifyTxHashes: true })
  const header = BlockHeader.decode(raw.header)
  expect(bytesToHex(header.hash)).toBe(block.hash)
  expect(header.number).toBe(Number(block.number))
  const body = BlockBody.decode(raw.body)
  expect(bytesToHex(body.transactionsRoot())).toBe(block.transactionsRoot)
  expect(bytesToHex(body.ommersHash())).toBe(block.sha3Uncles)
  if (block.withdrawalsRoot !== undefined) expect(bytesToHex(body.withdrawalsRoot()!)).toBe(block.withdrawalsRoot)
  else expect(body.hasWithdrawals()).toBe(false)
  const txs = block.transactions as JsonObject[]
  const rebuilt = body.transactions()
  expect(rebuilt.length).toBe(txs.length)
  rebuilt.forEach((tx, i) => {
    expect(bytesToHex(tx.hash)).toBe(txs[i].hash)
    // The signature fields survived the trip: the sender recovers to the reported `from`.
    expect(bytesToHex(tx.recoverSender()!)).toBe((txs[i].from as string).toLowerCase())
  })
  return { header, body }
}

describe('JSON -> RLP rebuild on real mainnet JSON-RPC blocks (nimbus-eth1, Frontier..Prague)', () => {
  const files = listFiles(fixturePath(...NIMBUS), '.json')
  it('covers every fork from Frontier to Prague', () => {
    expect(files.map((f) => basename(f, '.json')).sort()).toEqual(
      ['Berlin', 'Byzantium', 'Cancun', 'Constantinople', 'Frontier', 'Homestead', 'Istanbul', 'London', 'Paris', 'Prague', 'Shanghai'],
    )
  })
  for (const file of files) {
    it(`${basename(file)}: header hashes to the block hash, txs/withdrawals/ommers roots and senders verify`, () => {
      const block = unwrap(JSON.parse(readFileSync(file, 'utf8')) as JsonObject)
      const { header } = checkRealBlock(block)
      const forkFields: Record<string, number> = { London: 16, Paris: 16, Shanghai: 17, Cancun: 20, Prague: 21 }
      expect(header.fieldCount).toBe(forkFields[basename(file, '.json')] ?? 15)
    })
  }
  it('Prague block: blob (type 3) transactions rebuild to their hashes', () => {
    const block = unwrap(readFixtureJson<JsonObject>(...NIMBUS, 'Prague.json'))
    const blobTxs = (block.transactions as JsonObject[]).filter((t) => t.type === '0x3')
    expect(blobTxs.length).toBeGreaterThan(0)
    for (const tx of blobTxs) expect(bytesToHex(keccak256(rebuildTransaction(tx).envelope))).toBe(tx.hash)
  })
})

describe('JSON -> RLP rebuild on ethereumjs JSON-RPC testdata', () => {
  for (const name of ETHJS_RPC_FILES) {
    it(`${name}: header hash, tx root and senders verify`, () => {
      checkRealBlock(unwrap(readFixtureJson<JsonObject>(...ETHJS, name)))
    })
  }

  for (const name of ['blocks_mainnet.json', 'blocks_goerli.json']) {
    it(`${name}: rebuilt headers chain by parentHash`, () => {
      const blocks = readFixtureJson<Array<{ header: JsonObject }>>(...ETHJS, name)
      const hashes = blocks.map((b) => keccak256(rebuildHeader(headerToRpc(b.header))))
      for (let i = 1; i < blocks.length; i++) {
        if (Number(blocks[i].header.number) !== Number(blocks[i - 1].header.number) + 1) continue
        expect(blocks[i].header.parentHash).toBe(bytesToHex(hashes[i - 1]))
      }
      expect(blocks.length).toBeGreaterThan(3)
    })
  }
})

describe('JSON -> RLP rebuild against BlockchainTests block RLP (byte for byte, uncles included)', () => {
  const roots = [
    fixturePath('ethereum-tests', 'BlockchainTests', 'ValidBlocks'),
    fixturePath('ethereum-legacytests', 'Constantinople', 'BlockchainTests', 'ValidBlocks'),
  ]
  for (const root of roots) {
    it(`${root.split('/fixtures/')[1]}: header and body bytes equal the fixture's block RLP`, () => {
      let blocks = 0
      let uncles = 0
      const txTypes = new Set<number>()
      for (const file of listFiles(root, '.json')) {
        const tests = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { blocks: JsonObject[] }>
        for (const test of Object.values(tests)) {
          for (const b of test.blocks) {
            if (!b.blockHeader || Object.keys(b).some((k) => k.startsWith('expectException'))) continue
            const { block, uncles: uncleJson } = blockchainTestBlockToRpc(b)
            const ommers = uncleJson.map((u) => {
              const raw = rebuildHeader(u)
              checkHeaderHash(u, raw, 'uncle')
              return raw
            })
            const rebuilt = rebuildBlock(block, { ommers })
            const expected = hexToBytes(b.rlp as string)
            const parts = listItems(expected, decodeItem(expected))
            expect(bytesToHex(rebuilt.header)).toBe(bytesToHex(rawOf(expected, parts[0])))
            expect(bytesToHex(rebuilt.body)).toBe(bytesToHex(encodeListOfEncoded(parts.slice(1).map((p) => rawOf(expected, p)))))
            for (const tx of BlockBody.decode(rebuilt.body).transactions()) txTypes.add(tx.type)
            blocks++
            uncles += ommers.length
          }
        }
      }
      expect(blocks).toBeGreaterThan(150)
      if (root.includes('legacytests')) expect(uncles).toBeGreaterThan(50)
      else expect([...txTypes].sort()).toEqual([0, 1, 2, 3])
    })
  }
})

describe('receipts rebuild (eth/69 form, consensus form with derived blooms)', () => {
  for (const n of PORTAL_BLOCKS) {
    it(`mainnet block ${n}: receipts printed as JSON rebuild to the header's receiptsRoot`, () => {
      const data = readPortalBlock(n)
      const header = BlockHeader.decode(hexToBytes(data.header))
      const txHashes = BlockBody.decode(hexToBytes(data.body))
        .transactions()
        .map((t) => bytesToHex(t.hash))
      const blockHash = bytesToHex(header.hash)
      const json = decodeBlockReceipts(hexToBytes(data.receipts)).map((r, i) =>
        receiptToRpc(r, { blockHash, transactionHash: txHashes[i], transactionIndex: '0x' + i.toString(16) }),
      )
      const rebuilt = decodeBlockReceipts(rebuildReceipts(json, { blockHash, txHashes }))
      expect(rebuilt.every((r) => r.encoding === 'eth69')).toBe(true)
      expect(bytesToHex(orderedTrieRoot(rebuilt.map((r) => r.consensusEncoding())))).toBe(bytesToHex(header.receiptsRoot))
    })
  }

  it('pre-Byzantium receipts (post-state root, no status) from early mainnet blocks', () => {
    const blocks = readFixtureJson<Record<string, { header: string; receipts: string }>>('nimbus-eth1', 'portal', 'tests', 'blocks', 'mainnet_blocks_selected.json')
    let withRoot = 0
    for (const entry of Object.values(blocks)) {
      const header = BlockHeader.decode(hexToBytes(entry.header))
      const consensus = sszByteLists(hexToBytes(entry.receipts))
      const json = consensus.map((c) => receiptToRpc(Receipt.fromConsensus(0, c, c)))
      withRoot += json.filter((j) => j.root !== undefined).length
      const rebuilt = decodeBlockReceipts(rebuildReceipts(json))
      rebuilt.forEach((r, i) => expect(bytesToHex(r.consensusEncoding())).toBe(bytesToHex(consensus[i])))
      expect(bytesToHex(orderedTrieRoot(rebuilt.map((r) => r.consensusEncoding())))).toBe(bytesToHex(header.receiptsRoot))
    }
    expect(withRoot).toBeGreaterThan(0)
  })
})

describe('rebuild rejects what it cannot vouch for, with typed errors', () => {
  const london = () => structuredClone(unwrap(readFixtureJson<JsonObject>(...NIMBUS, 'London.json')))

  function rpcError(fn: () => unknown): RpcError {
    try {
      fn()
    } catch (err) {
      expect(err).toBeInstanceOf(RpcError)
      return err as RpcError
    }
    throw new Error('expected an RpcError')
  }

  it('a tampered header field is a hash mismatch naming the block, blamed as invalid data', () => {
    const block = london()
    block.gasUsed = '0x1'
    const err = rpcError(() => rebuildBlock(block))
    expect(err.code).toBe(RpcErrorCode.HeaderHashMismatch)
    expect(err.fault).toBe('invalid-data')
    expect(err.retryable).toBe(false)
    expect(err.message).toContain(String(block.number))
    expect(err.details?.reportedHash).toBe(block.hash)
  })

  it('an unknown header field (a fork this build does not know) is listed in the mismatch details', () => {
    const block = london()
    block.hash = bytesToHex(keccak256(hexToBytes('0x01')))
    block.fancyNewRoot = '0x' + '11'.repeat(32)
    expect(rpcError(() => rebuildBlock(block)).details?.unknownFields).toEqual(['fancyNewRoot'])
  })

  it('a tampered transaction is caught by its hash and named by index', () => {
    const block = london()
    const txs = block.transactions as JsonObject[]
    txs[7].value = '0x1234'
    const err = rpcError(() => rebuildBody(block, { verifyTxHashes: true }))
    expect(err.code).toBe(RpcErrorCode.TxHashMismatch)
    expect(err.details?.txIndex).toBe(7)
    // Without the per-tx check the body still rebuilds; the validator's tx root check catches it.
    const body = BlockBody.decode(rebuildBody(block))
    expect(bytesToHex(body.transactionsRoot())).not.toBe(block.transactionsRoot)
  })

  it('an unknown transaction type is unsupported, not blamed on the endpoint', () => {
    const block = london()
    ;(block.transactions as JsonObject[])[0].type = '0x7e'
    const err = rpcError(() => rebuildBlock(block))
    expect(err.code).toBe(RpcErrorCode.UnsupportedTxType)
    expect(err.fault).toBeUndefined()
    expect(err.message).toMatch(/^block 0x[0-9a-f]+: transaction 0: /)
  })

  it('malformed hex and missing fields are bad responses naming the field', () => {
    const block = london()
    block.stateRoot = '0x' + 'zz'.repeat(32)
    const err = rpcError(() => rebuildBlock(block))
    expect(err.code).toBe(RpcErrorCode.BadResponse)
    expect(err.details?.field).toBe('stateRoot')
    expect(err.fault).toBe('protocol-violation')

    const noMix = london()
    delete noMix.mixHash
    expect(rpcError(() => rebuildHeader(noMix)).details?.field).toBe('mixHash')

    const hashesOnly = london()
    hashesOnly.transactions = (hashesOnly.transactions as JsonObject[]).map((t) => t.hash)
    expect(rpcError(() => rebuildBody(hashesOnly)).message).toMatch(/transaction hashes/)
  })

  it('header fields must come in fork order (no Cancun field without Shanghai)', () => {
    const block = london()
    block.blobGasUsed = '0x0'
    expect(rpcError(() => rebuildHeader(block)).message).toMatch(/blobGasUsed but not withdrawalsRoot/)
  })

  it('receipts from another block, or for other transactions, are inconsistent (retryable)', () => {
    const receipt = { type: '0x2', status: '0x1', cumulativeGasUsed: '0x5208', logsBloom: '0x' + '00'.repeat(256), logs: [], blockHash: '0x' + 'aa'.repeat(32), transactionHash: '0x' + 'bb'.repeat(32) }
    const wrongBlock = rpcError(() => rebuildReceipts([receipt], { blockHash: '0x' + 'cc'.repeat(32) }))
    expect(wrongBlock.code).toBe(RpcErrorCode.Inconsistent)
    expect(wrongBlock.retryable).toBe(true)
    expect(rpcError(() => rebuildReceipts([receipt], { txHashes: ['0x' + 'dd'.repeat(32)] })).code).toBe(RpcErrorCode.Inconsistent)
    expect(rpcError(() => rebuildReceipts([receipt], { txHashes: [] })).code).toBe(RpcErrorCode.Inconsistent)
    expect(rpcError(() => rebuildReceipts([{ ...receipt, status: '0x2' }])).code).toBe(RpcErrorCode.BadResponse)
  })

  it('legacy-style quirks are accepted: padded quantities, `data` for `input`, v=27/28 on typed txs, quantity nonce', () => {
    const block = london()
    const tx = (block.transactions as JsonObject[]).find((t) => t.type === '0x1')!
    const expected = rebuildTransaction(tx).envelope
    const quirky = { ...tx, data: tx.input, input: undefined, r: '0x' + (tx.r as string).slice(2).padStart(64, '0'), yParity: undefined, v: tx.v === '0x0' ? '0x1b' : '0x1c' }
    expect(equalBytes(rebuildTransaction(quirky).envelope, expected)).toBe(true)
    const header = rebuildHeader(block)
    const post = { ...unwrap(readFixtureJson<JsonObject>(...NIMBUS, 'Paris.json')) }
    expect(post.nonce).toBe('0x0000000000000000')
    expect(equalBytes(rebuildHeader({ ...post, nonce: '0x0' }), rebuildHeader(post))).toBe(true)
    expect(header.length).toBeGreaterThan(500)
  })
})

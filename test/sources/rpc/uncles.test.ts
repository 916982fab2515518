/**
 * Ommers over JSON-RPC: a small server replays a BlockchainTests chain with uncles (legacytests
 * bcUncleTest/twoUncle, Byzantium) as a node would (eth_getBlockByNumber + eth_getUncleByBlockHashAndIndex).
 * The endpoint must fetch the uncle headers, hash-check them against the block's `uncles` list and
 * rebuild bodies byte-identical to the fixture's block RLP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeBlock } from '../../../src/primitives/body.js'
import { bytesToHex, hexToBytes } from '../../../src/primitives/bytes.js'
import { BlockHeader } from '../../../src/primitives/header.js'
import { decodeItem, encodeListOfEncoded, listItems, rawOf } from '../../../src/primitives/rlp.js'
import { RpcEndpoint } from '../../../src/sources/rpc/endpoint.js'
import { RpcErrorCode } from '../../../src/sources/rpc/errors.js'
import { readFixtureJson } from '../../fixtures.js'
import { blockchainTestBlockToRpc, headerToRpc } from './json-fixtures.js'
import { sendJson, startRpcServer, type TestRpcServer } from './rpc-server.js'

type Json = Record<string, unknown>

const test = readFixtureJson<Record<string, { genesisBlockHeader: Json; blocks: Json[] }>>(
  'ethereum-legacytests', 'Constantinople', 'BlockchainTests', 'ValidBlocks', 'bcUncleTest', 'twoUncle.json',
).twoUncle_Byzantium

/** The chain as a node's JSON: full blocks by number, their uncles by (block hash, index). */
const blocks: Json[] = [{ ...headerToRpc(test.genesisBlockHeader), transactions: [], uncles: [] }]
const uncles = new Map<string, Json[]>()
const expectedRlp: string[] = []
for (const b of test.blocks) {
  const { block, uncles: u } = blockchainTestBlockToRpc(b)
  // Transaction hashes as a node adds them, taken from the fixture's own RLP.
  const txs = decodeBlock(hexToBytes(b.rlp as string)).body.transactions()
  block.transactions = (block.transactions as Json[]).map((tx, i) => ({ ...tx, hash: bytesToHex(txs[i].hash) }))
  blocks.push(block)
  uncles.set(block.hash as string, u)
  expectedRlp.push(b.rlp as string)
}

let swapUncles = false
let server: TestRpcServer

beforeAll(async () => {
  server = await startRpcServer(undefined, (ctx, res) => {
    const replies = ctx.calls.map((c) => {
      let result: unknown = null
      if (c.method === 'eth_chainId') result = '0x1'
      else if (c.method === 'eth_getBlockByNumber') {
        const n = c.params[0] === 'latest' ? blocks.length - 1 : Number(c.params[0])
        const block = blocks[n]
        result = block && (c.params[1] ? block : { ...block, transactions: (block.transactions as Json[]).map((t) => t.hash) })
      } else if (c.method === 'eth_getBlockByHash') {
        result = blocks.find((b) => b.hash === c.params[0]) ?? null
      } else if (c.method === 'eth_getUncleByBlockHashAndIndex') {
        const list = uncles.get(c.params[0] as string) ?? []
        const index = Number(c.params[1])
        result = list[swapUncles ? list.length - 1 - index : index] ?? null
      }
      return { jsonrpc: '2.0', id: c.id, result }
    })
    sendJson(res, ctx.isBatch ? replies : replies[0])
  })
})

afterAll(async () => {
  await server?.close()
})

describe('ommers fetched over JSON-RPC', () => {
  it('blocks with two uncles rebuild byte-identical to the fixture, via getBlocks and getBodies', async () => {
    const ep = new RpcEndpoint({ url: server.url })
    const got = await ep.getBlocks(1, 5, false)
    expect(got.length).toBe(3) // short answer: the chain ends at block 3
    got.forEach((raw, i) => {
      const fixture = hexToBytes(expectedRlp[i])
      const parts = listItems(fixture, decodeItem(fixture))
      expect(bytesToHex(raw.header)).toBe(bytesToHex(rawOf(fixture, parts[0])))
      expect(bytesToHex(raw.body)).toBe(bytesToHex(encodeListOfEncoded(parts.slice(1).map((p) => rawOf(fixture, p)))))
    })
    expect(decodeBlock(hexToBytes(expectedRlp[2])).body.ommerHeadersRaw().length).toBe(2)
    expect(server.hits.get('eth_getUncleByBlockHashAndIndex')).toBe(2)

    const [body] = await ep.getBodies([BlockHeader.decode(got[2].header).hash])
    expect(bytesToHex(body)).toBe(bytesToHex(got[2].body))
  })

  it('uncles served in the wrong order are refused as invalid data', async () => {
    swapUncles = true
    try {
      const ep = new RpcEndpoint({ url: server.url })
      await expect(ep.getBlocks(3, 1, false)).rejects.toMatchObject({ code: RpcErrorCode.Inconsistent, fault: 'invalid-data' })
    } finally {
      swapUncles = false
    }
  })
})

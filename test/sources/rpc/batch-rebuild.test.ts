/**
 * Block batches rebuilt from response bytes, on this thread and on a worker thread: the same blocks
 * as the reference rebuild; everything but the common case declined (and on a worker, the bytes
 * handed back intact) for the endpoint to handle.
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { bytesToHex, toQuantity } from '../../../src/primitives/bytes.js'
import { BlockRebuilder, rebuildBlockBatch, type BlockBatchRequest } from '../../../src/sources/rpc/batch-rebuild.js'
import { RpcError, RpcErrorCode } from '../../../src/sources/rpc/errors.js'
import type { RawResponse } from '../../../src/sources/rpc/transport.js'
import type { JsonObject } from '../../../src/sources/rpc/rebuild.js'
import type { RawBlock } from '../../../src/sources/types.js'
import { fixturePath, listFiles } from '../../fixtures.js'
import * as reference from './reference-rebuild.js'

const NIMBUS = fixturePath('nimbus-eth1', 'nimbus_verified_proxy', 'tests', 'data')
/** Post-merge mainnet blocks (no uncles), as eth_getBlockByNumber(n, true) results. */
const blocks = listFiles(NIMBUS, '.json')
  .map((file) => JSON.parse(readFileSync(file, 'utf8')) as JsonObject)
  .map((json) => (json.result as JsonObject | undefined) ?? json)
  .filter((b) => (b.uncles as unknown[]).length === 0)

/** A batch response as a node sends it: one JSON-RPC answer per call, in any order. */
function response(results: unknown[], opts: { firstId?: number; reverse?: boolean } = {}): RawResponse {
  const firstId = opts.firstId ?? 7
  const calls = results.map((_, i) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(i), true] }))
  const answers = results.map((result, i) => ({ jsonrpc: '2.0', id: firstId + i, result }))
  if (opts.reverse) answers.reverse()
  return { calls, firstId, bytes: Buffer.from(JSON.stringify(answers)) }
}

const request = (numbers: number[]): BlockBatchRequest => ({ numbers, withReceipts: false, verifyTxHashes: true })
const numbersOf = (list: JsonObject[]) => list.map((b) => Number(b.number))
const hex = (list: RawBlock[]) => list.map((b) => [bytesToHex(b.header), bytesToHex(b.body)])
const want = hex(blocks.map((b) => reference.rebuildBlock(b)))

const rebuilders: BlockRebuilder[] = []
afterAll(async () => {
  await Promise.all(rebuilders.map((r) => r.close()))
})

describe('rebuildBlockBatch', () => {
  it('a batch of mainnet blocks (answers in any order) comes out as the reference rebuild wrote them, in one buffer', () => {
    const rebuilt = rebuildBlockBatch(response(blocks, { reverse: true }), request(numbersOf(blocks)))!
    expect(rebuilt.last.number).toBe(numbersOf(blocks).at(-1))
    expect(bytesToHex(rebuilt.last.hash)).toBe(blocks.at(-1)!.hash)
    const total = want.flat().reduce((n, h) => n + (h.length - 2) / 2, 0)
    expect(rebuilt.bytes.length).toBe(total)
  })

  it('header-only answers (transaction hashes, uncles listed): the reference headers, empty bodies; a tampered header is declined', async () => {
    const headerOnly = blocks.map((b) => ({ ...b, transactions: (b.transactions as JsonObject[]).map((t) => t.hash), uncles: ['0x' + '11'.repeat(32)] }))
    const req = { ...request(numbersOf(blocks)), headersOnly: true }
    for (const threads of [0, 1]) {
      const rebuilder = new BlockRebuilder(threads)
      rebuilders.push(rebuilder)
      const got = await rebuilder.rebuild(response(headerOnly), req)
      expect('blocks' in got && got.blocks.map((b) => [bytesToHex(b.header), b.body.length])).toEqual(want.map(([header]) => [header, 0]))
    }
    const tampered = structuredClone(headerOnly)
    ;(tampered[1] as JsonObject).gasUsed = '0x1'
    expect(rebuildBlockBatch(response(tampered), req)).toBeUndefined()
  })

  it('declines what is not the common case, without throwing', () => {
    const numbers = numbersOf(blocks)
    const withNull = response([...blocks.slice(0, 2), null])
    expect(rebuildBlockBatch(withNull, request(numbers.slice(0, 3)))).toBeUndefined()
    const wrongNumber = response(blocks.slice(0, 2))
    expect(rebuildBlockBatch(wrongNumber, request([numbers[0], numbers[0] + 1]))).toBeUndefined()
    const uncle = structuredClone(blocks[0])
    uncle.uncles = ['0x' + '11'.repeat(32)]
    expect(rebuildBlockBatch(response([uncle]), request([numbers[0]]))).toBeUndefined()
    const tampered = structuredClone(blocks[0])
    tampered.gasUsed = '0x1'
    expect(rebuildBlockBatch(response([tampered]), request([numbers[0]]))).toBeUndefined()
    const error = { calls: [{ method: 'eth_getBlockByNumber', params: [] }], firstId: 1, bytes: Buffer.from('{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"boom"}}') }
    expect(rebuildBlockBatch(error, request([numbers[0]]))).toBeUndefined()
    expect(rebuildBlockBatch({ ...error, bytes: Buffer.from('not json') }, request([numbers[0]]))).toBeUndefined()
  })
})

describe('BlockRebuilder', () => {
  for (const threads of [0, 1]) {
    it(`${threads === 0 ? 'on this thread' : 'on a worker thread'}: the same blocks; declined responses come back intact`, async () => {
      const rebuilder = new BlockRebuilder(threads)
      rebuilders.push(rebuilder)
      const raw = response(blocks)
      const got = await rebuilder.rebuild(raw, request(numbersOf(blocks)))
      expect('blocks' in got && hex(got.blocks)).toEqual(want)
      // A batch whose first block is missing: the endpoint gets the response back to judge it.
      const partial = response([null, blocks[1]])
      const text = partial.bytes.toString()
      const declined = await rebuilder.rebuild(partial, request([1, Number(blocks[1].number)]))
      expect('declined' in declined && declined.declined.bytes.toString()).toBe(text)
      // Several batches at once (the pool's endpoints share the rebuilder).
      const many = await Promise.all(blocks.map((b, i) => rebuilder.rebuild(response([b], { firstId: 100 * i }), request([Number(b.number)]))))
      expect(many.map((r) => ('blocks' in r ? hex(r.blocks)[0] : undefined))).toEqual(want)
    })
  }

  it('a body sharing a pooled buffer is copied, not moved, to the worker', async () => {
    const rebuilder = new BlockRebuilder(1)
    rebuilders.push(rebuilder)
    const full = response([blocks[0]])
    const pooled = Buffer.concat([Buffer.from('xx'), full.bytes]).subarray(2)
    const got = await rebuilder.rebuild({ ...full, bytes: pooled }, request([Number(blocks[0].number)]))
    expect('blocks' in got && hex(got.blocks)).toEqual(want.slice(0, 1))
    expect(pooled.toString()).toBe(full.bytes.toString())
  })

  it('after close, batches are rebuilt on the calling thread', async () => {
    const rebuilder = new BlockRebuilder(1)
    await rebuilder.close()
    const got = await rebuilder.rebuild(response([blocks[0]]), request([Number(blocks[0].number)]))
    expect('blocks' in got && hex(got.blocks)).toEqual(want.slice(0, 1))
  })

  it('a small response (a few headers) is rebuilt on the calling thread, no worker started for it', async () => {
    // Workers that cannot start: the small batch succeeds only if it never goes to one.
    const rebuilder = new BlockRebuilder(1, { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } })
    rebuilders.push(rebuilder)
    const genesis = blocks.find((b) => JSON.stringify(b).length < 16 * 1024)!
    const got = await rebuilder.rebuild(response([genesis]), request([Number(genesis.number)]))
    expect('blocks' in got && hex(got.blocks)).toEqual([want[blocks.indexOf(genesis)]])
  })

  it('a worker that dies (here: cannot even start in its heap limit) is our failure: retryable, not blamed on the endpoint', async () => {
    const rebuilder = new BlockRebuilder(1, { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } })
    rebuilders.push(rebuilder)
    const err = await rebuilder.rebuild(response(blocks), request(numbersOf(blocks))).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcError)
    expect(err).toMatchObject({ code: RpcErrorCode.RebuildFailed, retryable: true, fault: undefined })
  })
})

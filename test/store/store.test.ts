/**
 * The Store on both real backends: round trips of real blocks, chain identity, reorg rollback,
 * idempotent re-writes, and the repair of a batch cut off half-way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { bytesToHex, equalBytes } from '../../src/primitives/bytes.js'
import { decodeBlockReceipts, encodeReceiptsEth68 } from '../../src/primitives/receipt.js'
import { BlockStore, storedReceipts, withStoredReceipts } from '../../src/store/block-store.js'
import { type KvBackend, type KvOp, opBytes } from '../../src/store/kv.js'
import { StoreKeys } from '../../src/store/keys.js'
import { openBackend, openStore, parseStoreUrl } from '../../src/store/open.js'
import { verifyStore } from '../../src/store/verify.js'
import type { FullBlock, Store } from '../../src/store/types.js'
import { BACKENDS, type StoreLocation, fields } from './backends.js'
import { around } from './doubles.js'
import { branch, devp2pChain, portalBlock } from './chains.js'

const hex = bytesToHex

async function writeInBatches(store: Store, blocks: readonly FullBlock[], size = 100): Promise<void> {
  for (let i = 0; i < blocks.length; i += size) await store.writeBatch(blocks.slice(i, i + size), fields({ totalSynced: i + size }))
}

async function expectCommitted(store: Store, blocks: readonly FullBlock[]): Promise<void> {
  for (const b of blocks) {
    for (const id of [b.number, b.hash]) {
      const got = await store.block(id)
      expect(got, `block ${b.number}`).toBeDefined()
      expect(got!.number).toBe(b.number)
      expect(hex(got!.hash)).toBe(hex(b.hash))
      expect(hex(got!.header)).toBe(hex(b.header))
      expect(hex(got!.body!)).toBe(hex(b.body))
    }
  }
}

/**
 * A real backend that records its writes (`control.calls`) and can be made to apply only the first
 * `control.limit` operations, then fail: a crash mid-pipeline.
 */
function cutOff(inner: KvBackend): { kv: KvBackend; control: { limit: number; calls: KvOp[][] } } {
  const control = { limit: Infinity, calls: [] as KvOp[][] }
  const kv = around(inner, {
    async apply(ops: readonly KvOp[], epoch?: number): Promise<void> {
      control.calls.push([...ops])
      if (ops.length <= control.limit) {
        control.limit -= ops.length
        return inner.apply(ops, epoch)
      }
      const applied = ops.slice(0, control.limit)
      control.limit = 0
      await inner.apply(applied, epoch)
      throw new StoreError('SIMULATED_CRASH', `cut off after ${applied.length} of ${ops.length} operations`)
    },
  })
  return { kv, control }
}

describe.each(BACKENDS)('store on $name', (backend) => {
  let location: StoreLocation
  beforeAll(async () => {
    location = await backend.start()
  })
  afterAll(async () => {
    await location.cleanup()
  })

  /** A fresh store under its own key prefix: tests share one server but not their keys. */
  let prefixes = 0
  async function fresh(): Promise<Store> {
    return openStore(location.url, { prefix: `t${++prefixes}:` })
  }

  it('keeps a headers-only chain apart from full blocks', async () => {
    const store = await fresh()
    const chain = devp2pChain().slice(0, 20)
    const headersOnly = chain.map(({ number, hash, parentHash, header }) => ({ number, hash, parentHash, header }))
    await store.writeBatch(headersOnly, fields({ headersOnly: true }))
    expect((await store.progress())?.headersOnly).toBe(true)
    const got = await store.block(chain[10].number)
    expect(hex(got!.header)).toBe(hex(chain[10].header))
    expect(got!.body).toBeUndefined()
    expect(got!.receipts).toBeUndefined()
    const report = await verifyStore(store)
    expect(report.problems).toEqual([])
    await expect(store.writeBatch(devp2pChain().slice(20, 21), fields())).rejects.toMatchObject({ code: 'STORE_MODE_MISMATCH' })
    const full = await fresh()
    await expect(full.writeBatch(headersOnly.slice(0, 2), fields())).rejects.toMatchObject({ code: 'STORE_INCOMPLETE_BLOCK' })
    await full.close()
    await store.close()
  })

  it('round-trips the 600 blocks of the devp2p chain (tx types 0-4, a 10 MB receipt list) by number and hash', async () => {
    const store = await fresh()
    const chain = devp2pChain()
    expect(await store.head()).toBeUndefined()
    await writeInBatches(store, chain)
    const head = await store.head()
    expect(head?.number).toBe(600)
    expect(hex(head!.hash)).toBe(hex(chain[599].hash))
    await expectCommitted(store, chain)
    for (const b of chain) expect(hex((await store.block(b.number))!.receipts!)).toBe(hex(b.receipts))
    const hashes = await store.canonicalHashes(0, 601)
    expect(hashes[0]).toBeUndefined() // genesis is below the store's first block
    expect(hashes[601]).toBeUndefined() // above the head
    expect(hashes.slice(1, 601).map((h) => h && hex(h))).toEqual(chain.map((b) => hex(b.hash)))
    const progress = await store.progress()
    expect(progress).toMatchObject({ firstBlock: 1, currentBlock: 600, totalSynced: 600 })
    expect(await store.block(601)).toBeUndefined()
    expect(await store.block(0)).toBeUndefined()
    await store.close()
  })

  it('stores real mainnet blocks with their receipts in eth/69 form, whichever form they arrive in', async () => {
    for (const [first, second] of [
      [17034869, 17034870],
      [19426586, 19426587],
      [22431083, 22431084],
    ]) {
      const store = await fresh()
      const a = portalBlock(first)
      const b = portalBlock(second)
      const eth68 = encodeReceiptsEth68(decodeBlockReceipts(b.receipts))
      await store.writeBatch([a], fields())
      await store.writeBatch([{ ...b, receipts: eth68 }], fields())
      expect(hex((await store.block(first))!.receipts!)).toBe(hex(a.receipts))
      // eth/68 in, the compact eth/69 bytes out: the same bytes the portal fixture holds.
      expect(hex((await store.block(b.hash))!.receipts!)).toBe(hex(b.receipts))
      expect((await store.head())?.number).toBe(second)
      await store.close()
    }
  })

  it('converts receipts to the stored form once: a block marked eth/69 is passed through untouched', () => {
    const b = portalBlock(17034870)
    const eth68 = { ...b, receipts: encodeReceiptsEth68(decodeBlockReceipts(b.receipts)) }
    const converted = withStoredReceipts(eth68)
    expect(hex(converted.receipts)).toBe(hex(b.receipts))
    expect(converted.receiptsEth69).toBe(true)
    expect(withStoredReceipts(converted)).toBe(converted)
    const asReceived = withStoredReceipts(b)
    expect(asReceived.receipts).toBe(b.receipts) // eth/69 in: the same bytes, no copy
    expect(asReceived.receiptsEth69).toBe(true)
  })

  it('records its chain and refuses another one', async () => {
    const store = await fresh()
    const genesisHash = devp2pChain()[0].parentHash
    const chain = { name: 'devp2p', chainId: 3503995874084926n, genesisHash, forkConfig: 'cancun@60,prague@120' }
    await store.claimChain(chain)
    await store.claimChain(chain) // same chain: fine
    await expect(store.claimChain({ ...chain, chainId: 1n })).rejects.toMatchObject({ code: 'STORE_CHAIN_MISMATCH', details: { field: 'chainId' } })
    await expect(store.claimChain({ ...chain, genesisHash: new Uint8Array(32) })).rejects.toMatchObject({
      code: 'STORE_CHAIN_MISMATCH',
      details: { field: 'genesisHash' },
    })
    await expect(store.claimChain({ ...chain, forkConfig: 'other' })).rejects.toMatchObject({ code: 'STORE_CHAIN_MISMATCH', details: { field: 'forkConfig' } })
    await store.claimChain({ ...chain, forkConfig: 'other' }, { acceptForkConfigChange: true })
    expect(await store.chain()).toEqual({ ...chain, forkConfig: 'other' })
    await store.close()

    // The same check when a sync opens the store with its chain.
    const prefix = `t${prefixes}:`
    const same = await openStore(location.url, { prefix, chain: { ...chain, forkConfig: 'other' } })
    await same.close()
    await expect(openStore(location.url, { prefix, chain: { ...chain, chainId: 5n } })).rejects.toMatchObject({ code: 'STORE_CHAIN_MISMATCH' })
  })

  it('keeps every pipeline within the byte bound, the commit record in the last one', async () => {
    const { kv, control } = cutOff(await openBackend(parseStoreUrl(location.url)))
    const store = new BlockStore(kv, new StoreKeys(`t${++prefixes}:`), { maxPipelineBytes: 32 * 1024 })
    const chain = devp2pChain()
    const blocks = chain.slice(0, 40)
    const big = blocks.find((b) => b.receipts.length > 1_000_000)! // the 10 MB receipt list goes alone
    await store.writeBatch(blocks, fields())
    const sizes = control.calls.map((ops) => ops.reduce((n, op) => n + opBytes(op), 0))
    expect(control.calls.length).toBeGreaterThan(3)
    control.calls.forEach((ops, i) => expect(sizes[i] <= 32 * 1024 || ops.length === 1, `pipeline ${i}: ${sizes[i]} bytes`).toBe(true))
    expect(control.calls.some((ops) => ops.length === 1 && ops[0].kind === 'put' && ops[0].value === storedReceipts(big.receipts))).toBe(true)
    const progressKey = new StoreKeys(`t${prefixes}:`).progress
    const commits = control.calls.flatMap((ops, i) => ops.map((op, j) => ({ i, j, op }))).filter(({ op }) => op.key === progressKey)
    // The empty store's start marker first, the commit record as the very last write.
    expect(commits.map(({ i, j }) => [i, j])).toEqual([[0, 0], [control.calls.length - 1, control.calls.at(-1)!.length - 1]])
    expect((await store.head())?.number).toBe(40)
    await store.close()
  })

  it('refuses batches that do not extend the committed head', async () => {
    const store = await fresh()
    const chain = devp2pChain()
    await store.writeBatch(chain.slice(0, 10), fields())
    await expect(store.writeBatch(chain.slice(11, 20), fields())).rejects.toMatchObject({ code: 'STORE_NOT_LINKED' })
    await expect(store.writeBatch(chain.slice(5, 20), fields())).rejects.toMatchObject({ code: 'STORE_NOT_LINKED' })
    await expect(store.writeBatch([chain[10], chain[12]], fields())).rejects.toMatchObject({ code: 'STORE_NOT_LINKED' })
    const fork = branch({ number: 10, hash: chain[8].hash }, 1)
    await expect(store.writeBatch(fork, fields())).rejects.toMatchObject({ code: 'STORE_NOT_LINKED' })
    expect((await store.head())?.number).toBe(10)
    await store.close()
  })

  it('rolls back a reorg: pointers above the ancestor go, the new branch becomes canonical, the old one is unreachable', async () => {
    const store = await fresh()
    const chain = devp2pChain().slice(0, 100)
    await writeInBatches(store, chain, 50)
    const ancestor = chain[89] // block 90
    const head = await store.rewind(90, fields({ reorgCount: 1, lastReorgDepth: 10 }))
    expect(head.number).toBe(90)
    expect(hex(head.hash)).toBe(hex(ancestor.hash))
    expect(await store.tail()).toEqual([])
    expect(await store.block(95)).toBeUndefined()
    expect(await store.block(chain[94].hash)).toBeUndefined()

    const fork = branch(ancestor, 15, { salt: 1 })
    await store.writeBatch(fork, fields({ reorgCount: 1, lastReorgDepth: 10 }))
    expect((await store.progress())?.reorgCount).toBe(1)
    expect(hex((await store.head())!.hash)).toBe(hex(fork[14].hash))
    expect(hex((await store.block(95))!.hash)).toBe(hex(fork[4].hash))
    expect(await store.block(chain[94].hash)).toBeUndefined() // side chain: kept as blobs, not canonical
    await expectCommitted(store, [...chain.slice(0, 90), ...fork])

    // A shorter branch replacing a longer one, down to the first block.
    const head0 = await store.rewind(0, fields({ reorgCount: 2 }))
    expect(hex(head0.hash)).toBe(hex(chain[0].parentHash))
    expect(await store.head()).toBeUndefined()
    const other = branch({ number: 0, hash: chain[0].parentHash }, 3, { salt: 2 })
    await store.writeBatch(other, fields({ reorgCount: 2 }))
    expect((await store.head())?.number).toBe(3)
    expect(await store.canonicalHashes(4, 105)).toEqual(new Array(102).fill(undefined))
    await expect(store.rewind(3, fields())).rejects.toMatchObject({ code: 'STORE_BAD_REWIND' })
    await store.close()
  })

  it('re-writing blocks after a rewind to the same branch gives the same store', async () => {
    const store = await fresh()
    const chain = devp2pChain().slice(0, 60)
    await writeInBatches(store, chain, 30)
    await store.rewind(20, fields())
    await writeInBatches(store, chain.slice(20), 20)
    await expectCommitted(store, chain)
    expect((await store.head())?.number).toBe(60)
    await store.close()
  })

  it('repairs a batch cut off half-way: readers never see it, repairTail drops it, the batch then goes through', async () => {
    const prefix = `t${++prefixes}:`
    const { kv, control } = cutOff(await openBackend(parseStoreUrl(location.url)))
    const store = new BlockStore(kv, new StoreKeys(prefix))
    const chain = devp2pChain().slice(0, 150)
    await store.writeBatch(chain.slice(0, 100), fields())
    // 50 blocks = 200 blob writes + 50 pointers + the commit record; stop after 30 pointers.
    control.limit = 200 + 30
    await expect(store.writeBatch(chain.slice(100), fields())).rejects.toMatchObject({ code: 'SIMULATED_CRASH' })

    const reader = await openStore(location.url, { prefix, readOnly: true })
    expect((await reader.head())?.number).toBe(100)
    expect(await reader.block(101)).toBeUndefined()
    expect(await reader.block(chain[100].hash)).toBeUndefined()
    expect(await reader.tail()).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i))

    control.limit = Infinity
    expect((await store.repairTail()).dropped).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i))
    expect(await reader.tail()).toEqual([])
    await store.writeBatch(chain.slice(100), fields())
    await expectCommitted(reader, chain)
    await reader.close()
    await store.close()
  })

  it('keeps several chains apart by key prefix', async () => {
    const a = await openStore(location.url, { prefix: 'chain-a:' })
    const b = await openStore(location.url, { prefix: 'chain-b:' })
    const chain = devp2pChain()
    await a.writeBatch(chain.slice(0, 5), fields())
    expect(await b.head()).toBeUndefined()
    await b.writeBatch([portalBlock(14764013)], fields())
    expect((await a.head())?.number).toBe(5)
    expect((await b.head())?.number).toBe(14764013)
    expect(equalBytes((await b.block(14764013))!.hash, portalBlock(14764013).hash)).toBe(true)
    await a.close()
    await b.close()
  })
})

/**
 * The Writer against both real backends: batching by count, bytes and time, backpressure, pipelining,
 * flush on close, automatic reorgs and idempotent re-sends, retries and typed errors, tail repair on
 * open. Redis restarts (with and without persistence) live in writer-redis.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { openBackend, openStore, parseStoreUrl } from '../../src/store/open.js'
import type { Head, ProgressFields, Store, VerifiedBlock, WriteOptions } from '../../src/store/types.js'
import { verifyStore } from '../../src/store/verify.js'
import { type BatchEvent, BlockWriter } from '../../src/writer/writer.js'
import { BACKENDS, type StoreLocation, fields } from '../store/backends.js'
import { branch, devp2pChain } from '../store/chains.js'
import { around } from '../store/doubles.js'
import { waitFor } from '../store/wait.js'

const hex = bytesToHex

async function writeAll(writer: BlockWriter, blocks: readonly VerifiedBlock[]): Promise<void> {
  for (const b of blocks) await writer.write(b)
}

/** A real store whose writeBatch waits at a gate and can be made to fail (a unit-test double). */
function gated(inner: Store) {
  const control = {
    gate: Promise.resolve(),
    release: () => undefined as void,
    failures: 0,
    failure: (): Error => new StoreError('STORE_UNAVAILABLE', 'simulated outage', { retryable: true }),
    writeCalls: 0,
    holdWrites() {
      control.gate = new Promise((resolve) => (control.release = resolve))
    },
    releaseWrites() {
      control.release()
      control.gate = Promise.resolve()
    },
  }
  const store = around(inner, {
    async writeBatch(blocks: readonly VerifiedBlock[], progress: ProgressFields, options?: WriteOptions): Promise<Head> {
      control.writeCalls++
      await control.gate
      if (control.failures > 0) {
        control.failures--
        throw control.failure()
      }
      return inner.writeBatch(blocks, progress, options)
    },
  })
  return { store, control }
}

describe.each(BACKENDS)('writer on $name', (backend) => {
  let location: StoreLocation
  let prefixes = 0
  beforeAll(async () => {
    location = await backend.start()
  })
  afterAll(async () => {
    await location.cleanup()
  })
  const fresh = (): Promise<Store> => openStore(location.url, { prefix: `w${++prefixes}:` })

  it('writes the devp2p chain in batches of 100, then verify passes', async () => {
    const store = await fresh()
    const events: BatchEvent[] = []
    const writer = await BlockWriter.open(store, { onBatch: (e) => events.push(e), targetBlock: 600 })
    await writeAll(writer, devp2pChain())
    await writer.close()
    expect(events.map((e) => e.blocks)).toEqual([100, 100, 100, 100, 100, 100])
    expect(events.at(-1)!.head.number).toBe(600)
    const stats = writer.metrics()
    expect(stats).toMatchObject({ blocksWritten: 600, batchesWritten: 6, retries: 0, reorgs: 0, committedHead: 600 })
    expect(stats.bytesWritten).toBeGreaterThan(10_000_000) // the 10 MB receipt list is in there
    const progress = await store.progress()
    expect(progress).toMatchObject({ firstBlock: 1, currentBlock: 600, targetBlock: 600, startBlock: 1, totalSynced: 600, reorgCount: 0 })
    expect(progress!.speed).toBeGreaterThan(0)
    expect((await verifyStore(store)).problems).toEqual([])
    await store.close()
  })

  it('cuts batches at maxBatchBytes', async () => {
    const store = await fresh()
    const events: BatchEvent[] = []
    const writer = await BlockWriter.open(store, { onBatch: (e) => events.push(e), maxBatchBytes: 64 * 1024 })
    const blocks = branch({ number: 0, hash: new Uint8Array(32) }, 12, { txCount: 40, logs: 80 })
    await writeAll(writer, blocks)
    await writer.close()
    expect(events.length).toBeGreaterThan(1)
    for (const e of events) expect(e.blocks === 1 || e.bytes <= 64 * 1024).toBe(true)
    expect(events.reduce((n, e) => n + e.blocks, 0)).toBe(12)
    await store.close()
  })

  it('writes a partial batch when the batch timeout passes', async () => {
    const store = await fresh()
    const events: BatchEvent[] = []
    const writer = await BlockWriter.open(store, { batchTimeoutMs: 50, onBatch: (e) => events.push(e) })
    await writeAll(writer, devp2pChain().slice(0, 3))
    await waitFor(() => events.length === 1)
    expect(events[0].blocks).toBe(3)
    expect((await store.head())?.number).toBe(3)
    await writer.close()
    await store.close()
  })

  it('holds the producer when the buffer is full, and keeps assembling while a batch is written', async () => {
    const inner = await fresh()
    const { store, control } = gated(inner)
    const writer = await BlockWriter.open(store, { batchSize: 2, bufferSize: 3 })
    control.holdWrites()
    const chain = devp2pChain().slice(0, 12)
    let resolved = 0
    const writes = chain.map((b) => writer.write(b).then(() => resolved++))
    // Batch 1 (2 blocks) is at the store's gate, batch 2 (2 blocks) is prepared and waits behind
    // it, 3 more fill the buffer: 7 writes are accepted, the 8th waits.
    await waitFor(() => writer.metrics().queuedBlocks === 3 && control.writeCalls === 1)
    expect(resolved).toBe(7)
    control.releaseWrites()
    await Promise.all(writes)
    await writer.close()
    expect((await inner.head())?.number).toBe(12)
    await inner.close()
  })

  it('flushes everything queued on close', async () => {
    const store = await fresh()
    const writer = await BlockWriter.open(store, { batchSize: 100, batchTimeoutMs: 60_000 })
    await writeAll(writer, devp2pChain().slice(0, 150))
    await waitFor(() => writer.metrics().batchesWritten === 1)
    expect((await store.head())?.number).toBe(100) // the other 50 wait for the batch timeout
    await writer.close()
    expect((await store.head())?.number).toBe(150)
    await expect(writer.write(devp2pChain()[150])).rejects.toMatchObject({ code: 'WRITER_CLOSED' })
    await store.close()
  })

  it('rewinds on a competing branch and back, counting reorgs', async () => {
    const store = await fresh()
    const reorgs: number[] = []
    const writer = await BlockWriter.open(store, { batchSize: 25, onReorg: (e) => reorgs.push(e.depth) })
    const chain = devp2pChain()
    await writeAll(writer, chain.slice(0, 100))
    const fork = branch(chain[89], 15, { salt: 7 })
    await writeAll(writer, fork) // 91' .. 105'
    await writer.flush()
    expect(hex((await store.head())!.hash)).toBe(hex(fork[14].hash))
    await writeAll(writer, chain.slice(90, 120)) // back to the original branch, 91 .. 120
    await writer.close()
    expect(reorgs).toEqual([10, 15])
    expect(writer.metrics()).toMatchObject({ reorgs: 2, blocksUnwound: 25 })
    expect(await store.progress()).toMatchObject({ currentBlock: 120, reorgCount: 2, lastReorgDepth: 15 })
    expect(hex((await store.block(95))!.hash)).toBe(hex(chain[94].hash))
    expect((await verifyStore(store)).problems).toEqual([])
    await store.close()
  })

  it('skips blocks it already holds when a producer re-sends them (idempotent re-writes)', async () => {
    const store = await fresh()
    const chain = devp2pChain()
    const first = await BlockWriter.open(store)
    await writeAll(first, chain.slice(0, 100))
    await first.close()
    const second = await BlockWriter.open(store)
    await writeAll(second, chain.slice(49, 150)) // 50 .. 150
    await second.close()
    expect(second.metrics()).toMatchObject({ duplicatesSkipped: 51, reorgs: 0, blocksWritten: 50 })
    expect(await store.progress()).toMatchObject({ currentBlock: 150, reorgCount: 0, totalSynced: 150 })
    await store.close()
  })

  it('rewinds on request', async () => {
    const store = await fresh()
    const writer = await BlockWriter.open(store)
    await writeAll(writer, devp2pChain().slice(0, 30))
    const head = await writer.rewindTo(20)
    expect(head.number).toBe(20)
    expect(hex(head.hash)).toBe(hex(devp2pChain()[19].hash))
    expect((await writer.rewindTo(20)).number).toBe(20) // already there
    await expect(writer.rewindTo(40)).rejects.toMatchObject({ code: 'STORE_BAD_REWIND' }) // above the head: refused, writer goes on
    await writeAll(writer, devp2pChain().slice(20, 25))
    await writer.close()
    expect(await store.progress()).toMatchObject({ currentBlock: 25, reorgCount: 1, lastReorgDepth: 10 })
    await store.close()
  })

  it('stops with STORE_NOT_LINKED on a gap, and refuses further work', async () => {
    const store = await fresh()
    const writer = await BlockWriter.open(store)
    const chain = devp2pChain()
    await writeAll(writer, chain.slice(0, 10))
    await writer.write(chain[11])
    await expect(writer.flush()).rejects.toMatchObject({ code: 'STORE_NOT_LINKED', details: { number: 12, tip: 10 } })
    await expect(writer.write(chain[12])).rejects.toMatchObject({ code: 'STORE_NOT_LINKED' })
    await expect(writer.close()).rejects.toMatchObject({ code: 'STORE_NOT_LINKED' })
    expect((await store.head())?.number).toBe(10)
    await store.close()
  })

  it('retries retryable write errors, then surfaces a typed error', async () => {
    const inner = await fresh()
    const { store, control } = gated(inner)
    const writer = await BlockWriter.open(store, { batchSize: 10, maxAttempts: 4, retryDelayMs: 1 })
    control.failures = 3
    await writeAll(writer, devp2pChain().slice(0, 10))
    await writer.flush()
    expect(writer.metrics()).toMatchObject({ retries: 3, batchesWritten: 1, committedHead: 10 })

    control.failures = 4
    await writeAll(writer, devp2pChain().slice(10, 20))
    const err = await writer.flush().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(err).toMatchObject({ code: 'STORE_WRITE_FAILED', retryable: false, details: { attempts: 4 } })
    expect((err as StoreError).cause).toMatchObject({ code: 'STORE_UNAVAILABLE' })
    expect((await inner.head())?.number).toBe(10)

    // A non-retryable error is not retried at all.
    const other = await BlockWriter.open(store, { batchSize: 10 })
    control.failures = 1
    control.failure = () => new StoreError('STORE_CORRUPT', 'simulated corruption')
    await writeAll(other, devp2pChain().slice(10, 20))
    await expect(other.close()).rejects.toMatchObject({ code: 'STORE_CORRUPT' })
    expect(other.metrics().retries).toBe(0)
    await inner.close()
  })

  it('stops retrying when its abort signal fires', async () => {
    const inner = await fresh()
    const { store, control } = gated(inner)
    const abort = new AbortController()
    const writer = await BlockWriter.open(store, { batchSize: 5, maxAttempts: 1000, retryDelayMs: 60_000, signal: abort.signal })
    control.failures = Infinity
    for (const b of devp2pChain().slice(0, 5)) await writer.write(b)
    await waitFor(() => writer.metrics().retries === 1)
    abort.abort()
    await expect(writer.close()).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED', details: { attempts: 2 } })
    await inner.close()
  })

  it('drops a half-written batch above the commit record when it opens', async () => {
    const prefix = `w${++prefixes}:`
    const store = await openStore(location.url, { prefix })
    const kv = await openBackend(parseStoreUrl(location.url))
    const chain = devp2pChain()
    await store.writeBatch(chain.slice(0, 20), fields())
    const committedAt20 = (await kv.get(`${prefix}sync:progress`))!
    // A batch whose commit record never landed: blobs and pointers of 21..30, the record still at 20.
    await store.writeBatch(chain.slice(20, 30), fields())
    await kv.apply([{ kind: 'put', key: `${prefix}sync:progress`, value: committedAt20 }])
    expect(await store.tail()).toHaveLength(10)
    const writer = await BlockWriter.open(store)
    expect(writer.metrics().tailBlocksDropped).toBe(10)
    expect(await store.tail()).toEqual([])
    await writeAll(writer, chain.slice(20, 40))
    await writer.close()
    expect((await verifyStore(store)).ok).toBe(true)
    await kv.close()
    await store.close()
  })
})

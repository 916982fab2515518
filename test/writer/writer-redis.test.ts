/**
 * The writer across real redis-server restarts. It reconnects, re-reads the commit record, rewrites
 * whatever the server lost, and nothing is missing at the end. With AOF everysec a SIGKILLed server
 * keeps what it acknowledged (the AOF write precedes the reply; only the fsync is deferred, so only a
 * machine crash drops that second); a server without persistence loses everything, which is what
 * exercises the rewrite from the redo window deterministically.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { openStore } from '../../src/store/open.js'
import type { Store } from '../../src/store/types.js'
import { verifyStore } from '../../src/store/verify.js'
import { BlockWriter, type WriterOptions } from '../../src/writer/writer.js'
import { RedisServer } from '../helpers/redis.js'
import { devp2pChain } from '../store/chains.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(aof: boolean): Promise<{ redis: RedisServer; store: Store }> {
  const redis = await RedisServer.start({ aof })
  cleanups.push(() => redis.close())
  const store = await openStore(redis.url)
  cleanups.push(() => store.close())
  return { redis, store }
}

/** Writes the whole devp2p chain; once `restartAt` blocks are committed, restarts redis (SIGKILL). */
async function writeThroughRestart(redis: RedisServer, store: Store, restartAt: number, options: WriterOptions = {}) {
  let restart: Promise<void> | undefined
  let committedAtRestart = 0
  const writer = await BlockWriter.open(store, {
    batchSize: 20,
    retryDelayMs: 20,
    ...options,
    onBatch: (e) => {
      if (!restart && e.head.number >= restartAt) {
        committedAtRestart = e.head.number
        restart = redis.restart({ kill: true })
      }
    },
  })
  let failure: unknown
  try {
    for (const b of devp2pChain()) await writer.write(b)
    await writer.close()
  } catch (err) {
    failure = err
  }
  await restart
  return { writer, committedAtRestart, failure }
}

async function expectWholeChain(store: Store): Promise<void> {
  const chain = devp2pChain()
  expect((await store.head())?.number).toBe(600)
  const hashes = await store.canonicalHashes(1, 600)
  expect(hashes.map((h) => h && bytesToHex(h))).toEqual(chain.map((b) => bytesToHex(b.hash)))
  const report = await verifyStore(store)
  expect(report.problems).toEqual([])
  expect(report.checked).toBe(600)
}

describe('writer across redis-server restarts', () => {
  it('AOF everysec, server SIGKILLed and restarted mid-sync: the writer reconnects and nothing is lost', async () => {
    const { redis, store } = await setup(true)
    const { writer, committedAtRestart, failure } = await writeThroughRestart(redis, store, 200)
    expect(failure).toBeUndefined()
    expect(committedAtRestart).toBeGreaterThanOrEqual(200)
    expect(store.epoch).toBeGreaterThanOrEqual(2) // it did reconnect to the restarted server
    await expectWholeChain(store)
    expect(writer.metrics().committedHead).toBe(600)
  })

  it('no persistence, server restarted empty mid-sync: the writer rewrites everything from its redo window', async () => {
    const { redis, store } = await setup(false)
    const { writer, committedAtRestart, failure } = await writeThroughRestart(redis, store, 300)
    expect(failure).toBeUndefined()
    expect(writer.metrics().blocksRedone).toBeGreaterThanOrEqual(committedAtRestart)
    await expectWholeChain(store)
  })

  it('a loss deeper than the redo window is a typed STORE_LOST_WRITES error, not a silent gap', async () => {
    const { redis, store } = await setup(false)
    const { failure } = await writeThroughRestart(redis, store, 300, { redoWindowBlocks: 50 })
    expect(failure).toMatchObject({ code: 'STORE_LOST_WRITES', details: { storeHead: undefined } })
    expect(await store.head()).toBeUndefined()
  })

  it('a server that stays down ends in STORE_WRITE_FAILED after the retries', async () => {
    const { redis, store } = await setup(false)
    const writer = await BlockWriter.open(store, { batchSize: 10, maxAttempts: 3, retryDelayMs: 10 })
    await redis.stop()
    for (const b of devp2pChain().slice(0, 10)) await writer.write(b)
    const err = await writer.close().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'STORE_WRITE_FAILED', retryable: false, details: { attempts: 3 } })
    expect((err as Error).cause).toMatchObject({ retryable: true })
    await redis.restart()
  })
})

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { decodeBlockReceipts, encodeReceiptsEth68, encodeReceiptsEth69 } from '../../src/primitives/receipt.js'
import { readItem, rawOf, listItems, decodeItem, encodeListOfEncoded } from '../../src/primitives/rlp.js'
import {
  BlockValidationPool,
  type ForkContext,
  type RawBlock,
  packBlocks,
  BODY_AND_RECEIPTS_VALIDATOR,
  type PackedBlocks,
  VALIDATE_PACKED_BLOCKS,
  unpackBlocks,
  unpackResults,
  validateBodyAndReceipts,
  type BlockCheck,
} from '../../src/validator/pool-blocks.js'
import { WorkerPool, WorkerPoolError, WorkerPoolErrorCode, taskRef } from '../../src/validator/pool.js'
import { PORTAL_BLOCKS, fixturePath, readPortalBlock } from '../fixtures.js'
import { PORTAL_FORK } from './body-fixture-forks.js'
import { loadChain } from '../../src/chain/chains.js'

const TASKS = new URL('./pool-tasks.ts', import.meta.url)
const echo = taskRef<{ value: number }, { value: number; threadId: number }>(TASKS, 'echo')
const exitHard = taskRef<void, never>(TASKS, 'exitHard')
const throwUncaught = taskRef<void, never>(TASKS, 'throwUncaught')
const fail = taskRef<void, never>(TASKS, 'fail')
const waitForFlag = taskRef<{ flag: SharedArrayBuffer }, string>(TASKS, 'waitForFlag')
const markRan = taskRef<{ flag: SharedArrayBuffer }, string>(TASKS, 'markRan')
const loadedAtTime = taskRef<void, number>(new URL('./pool-preload-tasks.ts', import.meta.url), 'loadedAtTime')
const unloadable = taskRef<void, never>(new URL('./pool-broken-entry.ts', import.meta.url), 'never')

/** Real blocks: the portal mainnet blocks with receipts, and the geth test chain (types 0-4, blobs). */
function realBlocks(): RawBlock<ForkContext>[] {
  const blocks: RawBlock<ForkContext>[] = PORTAL_BLOCKS.map((n) => {
    const d = readPortalBlock(n)
    return { header: hexToBytes(d.header), body: hexToBytes(d.body), receipts: hexToBytes(d.receipts), context: { chainId: 1n, fork: PORTAL_FORK[n] } }
  })
  const dir = fixturePath('go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata')
  const spec = loadChain(`${dir}/genesis.json`, { ethash: { mode: 'off' } })
  const chain = readFileSync(`${dir}/chain.rlp`)
  for (let pos = 0; pos < chain.length && blocks.length < 150; ) {
    const item = readItem(chain, pos)
    pos = item.end
    const raw = rawOf(chain, item)
    const parts = listItems(raw, decodeItem(raw))
    const header = rawOf(raw, parts[0])
    const decoded = BlockHeader.decode(header)
    const rules = spec.rulesAt(decoded.number, decoded.timestamp)
    blocks.push({ header, body: encodeListOfEncoded(parts.slice(1).map((p) => rawOf(raw, p))), context: { chainId: rules.chainId, fork: rules.fork, blob: rules.blob } })
  }
  return blocks
}

/** Resolves once waitForFlag has set its started flag (Atomics.waitAsync: Node 16+, ES2024 typings). */
function taskStarted(state: Int32Array): Promise<unknown> {
  const atomics = Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<unknown> | string } }
  return Promise.resolve(atomics.waitAsync(state, 1, 0).value)
}

function comparable(checks: BlockCheck[]) {
  return checks.map((c) => ({ errors: c.errors.map((e) => [e.code, e.message, e.details]), senders: c.senders?.map(bytesToHex), stored: c.storedReceipts && bytesToHex(c.storedReceipts) }))
}

describe('BlockValidationPool', () => {
  let pool: BlockValidationPool
  beforeAll(() => {
    pool = new BlockValidationPool(BODY_AND_RECEIPTS_VALIDATOR, { size: 2 })
  })
  afterAll(async () => {
    await pool.close()
  })

  it('gives the same results as the in-thread validator on real blocks, senders included', async () => {
    const blocks = realBlocks()
    const inThread = blocks.map((b) => validateBodyAndReceipts(b, { recoverSenders: true }))
    expect(inThread.every((c) => c.errors.length === 0)).toBe(true)
    const batches = [blocks.slice(0, 50), blocks.slice(50)]
    const results = (await Promise.all(batches.map((batch) => pool.validate(batch, { recoverSenders: true })))).flat()
    expect(comparable(results)).toEqual(comparable(inThread))
    expect(results.reduce((n, r) => n + (r.senders?.length ?? 0), 0)).toBeGreaterThan(500)
  })

  it('reports invalid blocks with the same typed errors as in-thread', async () => {
    const [a, b] = realBlocks()
    const swapped: RawBlock<ForkContext>[] = [
      { ...a, body: b.body },
      { ...a, receipts: b.receipts },
      { ...a, header: a.header.subarray(1) },
      { ...a, context: { chainId: 5n, fork: 'prague' } },
    ]
    const inThread = swapped.map((blk) => validateBodyAndReceipts(blk, { recoverSenders: false }))
    expect(inThread.every((c) => c.errors.length > 0)).toBe(true)
    expect(comparable(await pool.validate(swapped, { recoverSenders: false }))).toEqual(comparable(inThread))
  })

  it('hands back eth/68 receipts re-encoded in the stored eth/69 form; eth/69 ones are marked as such; invalid blocks get neither', async () => {
    const withReceipts = realBlocks().filter((b) => b.receipts !== undefined)
    expect(withReceipts.length).toBeGreaterThan(1)
    const eth68 = withReceipts.map((b) => ({ ...b, receipts: encodeReceiptsEth68(decodeBlockReceipts(b.receipts!)) }))
    const eth69 = withReceipts.map((b) => ({ ...b, receipts: encodeReceiptsEth69(decodeBlockReceipts(b.receipts!)) }))
    const invalid = { ...eth68[0], receipts: eth68[1].receipts }
    const results = await pool.validate([...eth68, ...eth69, invalid], { recoverSenders: false })
    const want = eth69.map((b) => bytesToHex(b.receipts))
    expect(results.slice(0, eth68.length).map((r) => r.storedReceipts && bytesToHex(r.storedReceipts))).toEqual(want)
    expect(results.slice(eth68.length).map((r) => r.storedReceipts)).toEqual([...eth69.map(() => undefined), undefined])
    expect(results.map((r) => r.receiptsEth69 ?? false)).toEqual([...eth68.map(() => false), ...eth69.map(() => true), false])
    expect(results.at(-1)!.errors.length).toBeGreaterThan(0)
  })

  it('moves the batch to the worker in one buffer', async () => {
    const blocks = realBlocks().slice(0, 3)
    const packed = packBlocks(blocks, BODY_AND_RECEIPTS_VALIDATOR, { recoverSenders: false })
    const total = blocks.reduce((n, b) => n + b.header.length + b.body.length + (b.receipts?.length ?? 0), 0)
    expect(packed.buffer.byteLength).toBe(total)
    const round = unpackBlocks(packed)
    expect(round.map((b) => [bytesToHex(b.header), bytesToHex(b.body), b.receipts && bytesToHex(b.receipts)])).toEqual(
      blocks.map((b) => [bytesToHex(b.header), bytesToHex(b.body), b.receipts && bytesToHex(b.receipts)]),
    )
    const results = await pool.pool.run(VALIDATE_PACKED_BLOCKS, packed as PackedBlocks<unknown>, [packed.buffer])
    expect(packed.buffer.byteLength).toBe(0) // moved, not copied
    expect(unpackResults(results).map((r) => r.errors)).toEqual([[], [], []])
  })
})

describe('WorkerPool', () => {
  it('runs tasks on every worker and reports a throwing task as WORKER_TASK_FAILED', async () => {
    const pool = new WorkerPool({ size: 2 })
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.run(echo, { value: i })))
      expect(results.map((r) => r.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
      const err = await pool.run(fail, undefined).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(WorkerPoolError)
      expect((err as WorkerPoolError).code).toBe(WorkerPoolErrorCode.TaskFailed)
      expect((err as WorkerPoolError).details).toMatchObject({ code: 'TEST_FAILURE', details: { reason: 'test' } })
      expect((await pool.run(echo, { value: 9 })).value).toBe(9)
    } finally {
      await pool.close()
    }
  })

  it('reports a crashed worker as WORKER_CRASHED, replaces it and keeps serving', async () => {
    const pool = new WorkerPool({ size: 2 })
    try {
      const before = new Set((await Promise.all([pool.run(echo, { value: 0 }), pool.run(echo, { value: 1 })])).map((r) => r.threadId))
      for (const task of [exitHard, throwUncaught]) {
        const err = await pool.run(task, undefined).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(WorkerPoolError)
        expect((err as WorkerPoolError).code).toBe(WorkerPoolErrorCode.Crashed)
        expect((err as WorkerPoolError).retryable).toBe(true)
      }
      expect(pool.size).toBe(2)
      const after = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run(echo, { value: i })))
      expect(after.map((r) => r.value)).toEqual([0, 1, 2, 3, 4, 5])
      // Two crashes replaced two threads: at least one serving thread is new.
      expect(after.some((r) => !before.has(r.threadId))).toBe(true)
    } finally {
      await pool.close()
    }
  })

  it('shutdown lets the running task finish, rejects queued ones, terminates every worker', async () => {
    const pool = new WorkerPool({ size: 1 })
    const flag = new SharedArrayBuffer(8)
    const state = new Int32Array(flag)
    const running = pool.run(waitForFlag, { flag })
    const queued = pool.run(echo, { value: 1 }).catch((e: unknown) => e)
    await taskStarted(state)
    const closed = pool.close()
    expect(await queued).toMatchObject({ code: WorkerPoolErrorCode.Closed })
    Atomics.store(state, 0, 1)
    Atomics.notify(state, 0)
    expect(await running).toBe('released')
    await closed
    expect(pool.size).toBe(0)
    await expect(pool.run(echo, { value: 2 })).rejects.toMatchObject({ code: WorkerPoolErrorCode.Closed })
  })

  it('hands a worker its next task ahead of the reply, so a blocked main thread does not idle it', async () => {
    const pool = new WorkerPool({ size: 1 })
    try {
      await pool.run(markRan, { flag: new SharedArrayBuffer(8) }) // the worker has loaded the task module
      const flag = new Int32Array(new SharedArrayBuffer(8))
      const first = pool.run(echo, { value: 1 })
      const second = pool.run(markRan, { flag: flag.buffer as SharedArrayBuffer })
      // The main thread blocks here without reading the first reply: the second task must run anyway.
      // It may even have run before the wait starts ('not-equal'): this thread has not reached its
      // event loop since posting, so either way it was handed over ahead of the first reply.
      expect(['ok', 'not-equal']).toContain(Atomics.wait(flag, 0, 0, 30_000))
      expect(Atomics.load(flag, 0)).toBe(1)
      expect((await first).value).toBe(1)
      expect(await second).toBe('ran')
    } finally {
      await pool.close()
    }
  })

  it('gives the tasks handed to a crashed worker behind the crashing one to its replacement', async () => {
    const pool = new WorkerPool({ size: 1 })
    try {
      const crashed = pool.run(exitHard, undefined).catch((e: unknown) => e)
      const behind = Array.from({ length: 3 }, (_, i) => pool.run(echo, { value: i }))
      expect(await crashed).toMatchObject({ code: WorkerPoolErrorCode.Crashed })
      expect((await Promise.all(behind)).map((r) => r.value)).toEqual([0, 1, 2])
    } finally {
      await pool.close()
    }
  })

  it('bounds its queue', async () => {
    const pool = new WorkerPool({ size: 1, maxQueue: 1 })
    const flag = new SharedArrayBuffer(8)
    const state = new Int32Array(flag)
    try {
      const running = pool.run(waitForFlag, { flag })
      await taskStarted(state)
      const queued = pool.run(echo, { value: 1 })
      await expect(pool.run(echo, { value: 2 })).rejects.toMatchObject({ code: WorkerPoolErrorCode.QueueFull })
      Atomics.store(state, 0, 1)
      Atomics.notify(state, 0)
      expect(await running).toBe('released')
      expect((await queued).value).toBe(1)
    } finally {
      await pool.close()
    }
  })
})

describe('WorkerPool preload', () => {
  /** When the worker loaded the preload-test module, and when the task asking for it was posted. */
  async function loadedVersusAsked(pool: WorkerPool): Promise<{ loadedAt: number; askedAt: number }> {
    try {
      await pool.ready()
      const askedAt = performance.timeOrigin + performance.now()
      return { loadedAt: await pool.run(loadedAtTime, undefined), askedAt }
    } finally {
      await pool.close()
    }
  }

  it('imports the preloaded task modules as a worker starts, before its first task', async () => {
    const preloaded = await loadedVersusAsked(new WorkerPool({ size: 1, preload: [loadedAtTime] }))
    expect(preloaded.loadedAt).toBeLessThan(preloaded.askedAt)
    // Without preload the module loads when the first task for it arrives.
    const lazy = await loadedVersusAsked(new WorkerPool({ size: 1 }))
    expect(lazy.loadedAt).toBeGreaterThan(lazy.askedAt)
  })

  it('treats a preloaded module that fails to load as a start-up failure', async () => {
    const pool = new WorkerPool({ size: 1, preload: [unloadable] })
    try {
      await expect(pool.ready()).rejects.toMatchObject({ code: WorkerPoolErrorCode.Crashed, retryable: false })
      const errors: unknown[] = []
      for (let i = 0; i < 4; i++) errors.push(await pool.run(echo, { value: i }).catch((e: unknown) => e))
      expect(errors.every((e) => e instanceof WorkerPoolError && e.code === WorkerPoolErrorCode.Crashed)).toBe(true)
      expect(pool.size).toBe(0)
      expect(errors.at(-1)).toMatchObject({ retryable: false, message: expect.stringContaining('fail to start') })
    } finally {
      await pool.close()
    }
  })
})

describe('WorkerPool.ready', () => {
  it('resolves once every worker has started, at once when they have, and rejects once the pool closes', async () => {
    const pool = new WorkerPool({ size: 2 })
    try {
      await pool.ready()
      expect(pool.size).toBe(2)
      await pool.ready()
      expect((await pool.run(echo, { value: 1 })).value).toBe(1)
    } finally {
      await pool.close()
    }
    await expect(pool.ready()).rejects.toMatchObject({ code: WorkerPoolErrorCode.Closed })
  })

  it('rejects its waiters when the pool closes before the workers are up', async () => {
    const pool = new WorkerPool({ size: 1, preload: [loadedAtTime] })
    const waiting = expect(pool.ready()).rejects.toMatchObject({ code: WorkerPoolErrorCode.Closed })
    await pool.close()
    await waiting
  })
})

describe('WorkerPool with workers that cannot start', () => {
  it('stops respawning after repeated start-up failures and rejects tasks with WORKER_CRASHED', async () => {
    const pool = new WorkerPool({ size: 1, entry: new URL('./pool-broken-entry.ts', import.meta.url) })
    try {
      const errors: unknown[] = []
      for (let i = 0; i < 5; i++) errors.push(await pool.run(echo, { value: i }).catch((e: unknown) => e))
      expect(errors.every((e) => e instanceof WorkerPoolError && e.code === WorkerPoolErrorCode.Crashed)).toBe(true)
      // After three failed starts the pool stops replacing workers; a retry cannot help.
      expect(pool.size).toBe(0)
      expect(errors.at(-1)).toMatchObject({ retryable: false })
    } finally {
      await pool.close()
    }
  })
})

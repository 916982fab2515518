/**
 * Crash safety under SIGKILL: a child process writes the devp2p chain (re-sending blocks it already
 * wrote, detouring over side branches and back) and is killed again and again at arbitrary points
 * while a reader in this process checks the same store. After every kill: verify passes, and every
 * commit the child reported as acknowledged is still there (unless a later reorg, visible in the
 * commit record, legitimately unwound it). No lock outlives the killed process: the next child
 * opens and writes at once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { openStore } from '../../src/store/open.js'
import type { Store } from '../../src/store/types.js'
import { verifyStore } from '../../src/store/verify.js'
import { REPO_ROOT } from '../fixtures.js'
import { BACKENDS, type StoreLocation } from './backends.js'
import { devp2pChain } from './chains.js'
import { waitFor } from './wait.js'

interface Ack {
  number: number
  hash: string
  reorgCount: number
}

interface Child {
  process: ChildProcess
  acks: Ack[]
  done: boolean
  exited: Promise<number | null>
}

function startWriter(url: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'store', 'kill-writer.ts'), url, '1'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const state: Child = { process: child, acks: [], done: false, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) }
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [word, number, hash, reorgCount] = line.split(' ')
    if (word === 'commit') state.acks.push({ number: Number(number), hash, reorgCount: Number(reorgCount) })
    if (word === 'done') state.done = true
  })
  return state
}

async function expectAcknowledgedCommitsKept(store: Store, acks: readonly Ack[]): Promise<void> {
  const progress = await store.progress()
  for (const ack of acks) {
    if (progress!.reorgCount !== ack.reorgCount) {
      expect(progress!.reorgCount).toBeGreaterThan(ack.reorgCount)
      continue
    }
    expect(progress!.currentBlock).toBeGreaterThanOrEqual(ack.number)
    const [hash] = await store.canonicalHashes(ack.number, ack.number)
    expect(hash && bytesToHex(hash)).toBe(ack.hash)
  }
}

describe.each(BACKENDS)('SIGKILL in a loop on $name', (backend) => {
  let location: StoreLocation
  beforeAll(async () => {
    location = await backend.start({ aof: true })
  })
  afterAll(async () => {
    await location.cleanup()
  })

  it('after every kill verify passes and no acknowledged block is missing', async () => {
    let reader: Store | undefined
    let kills = 0
    // Kill after this many acknowledged batches of the round: early, late, right away.
    const killAfter = [2, 5, 1, 8, 3, 12, 1, 6, 4, 10]
    for (let round = 0; round < 40; round++) {
      const child = startWriter(location.url)
      const target = killAfter[round % killAfter.length]
      await waitFor(() => child.acks.length >= 1 || child.done, { what: 'a first commit', timeoutMs: 60_000 })
      reader ??= await openStore(location.url, { readOnly: true })
      const concurrent = verifyStore(reader) // a reader on the store while the child writes
      await waitFor(() => child.acks.length >= target || child.done, { what: `${target} commits`, timeoutMs: 60_000 })
      if (!child.done) child.process.kill('SIGKILL')
      const code = await child.exited
      expect((await concurrent).problems).toEqual([])
      if (code === 0) {
        expect(child.done).toBe(true)
        break
      }
      expect(code).toBeNull() // killed by the signal
      kills++
      expect((await verifyStore(reader)).problems).toEqual([])
      await expectAcknowledgedCommitsKept(reader, child.acks)
    }
    expect(kills).toBeGreaterThanOrEqual(5)
    const chain = devp2pChain()
    const head = await reader!.head()
    expect(head?.number).toBe(600)
    expect(bytesToHex(head!.hash)).toBe(bytesToHex(chain[599].hash))
    const progress = await reader!.progress()
    expect(progress!.reorgCount).toBeGreaterThanOrEqual(6) // onto each side branch and back
    const hashes = await reader!.canonicalHashes(1, 600)
    expect(hashes.map((h) => h && bytesToHex(h))).toEqual(chain.map((b) => bytesToHex(b.hash)))
    await reader!.close()
  })
})

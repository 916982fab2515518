/**
 * End to end over devp2p: geth's devp2p test chain (600 PoS blocks, tx types 0-4, withdrawals,
 * blobs, requests) served by two real EthereumJS client peers, synced by the built CLI into a real
 * redis-server and into LMDB; then the store verifies and every block hash equals the peers'.
 * Also: resume after SIGKILL at random points, and a graceful SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { openStore } from '../../src/store/open.js'
import type { Store } from '../../src/store/types.js'
import { verifyStore } from '../../src/store/verify.js'
import { ensureBuilt, startCli } from '../helpers/cli.js'
import { type EthjsClient, startEthjsClient } from '../helpers/ethjs-client.js'
import { RedisServer } from '../helpers/redis.js'

let peers: EthjsClient[] = []
let peerHashes: string[] = []
const dirs: string[] = []

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'evm-syncer-e2e-'))
  dirs.push(d)
  return d
}

/** geth's chain has one block whose receipts exceed the eth protocol's 10 MiB message limit. */
function syncArgs(store: string, extra: string[] = []): string[] {
  const genesis = peers[0].fixture.genesisPath
  return ['sync', '--chain', genesis, ...peers.flatMap((p) => ['--peer', p.enode]), '--store', store, '--max-message-size', '16', '--no-metrics', '--no-progress', ...extra]
}

async function expectSameChain(store: Store): Promise<void> {
  const report = await verifyStore(store)
  expect(report.problems).toEqual([])
  expect(report.ok).toBe(true)
  expect(report.head).toBe(peerHashes.length - 1)
  const stored = await store.canonicalHashes(0, peerHashes.length - 1)
  expect(stored.map((h) => h && bytesToHex(h))).toEqual(peerHashes)
}

beforeAll(async () => {
  ensureBuilt()
  peers = await Promise.all([startEthjsClient('hive'), startEthjsClient('hive')])
  const head = peers[0].fixture.head.number
  const blocks = (await Promise.all(
    Array.from({ length: head + 1 }, (_, n) => peers[n % 2].rpc('eth_getBlockByNumber', ['0x' + n.toString(16), false])),
  )) as Array<{ hash: string }>
  peerHashes = blocks.map((b) => b.hash)
}, 240_000)

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('sync over devp2p from two EthereumJS peers', () => {
  it('into redis-server: exit 0, verify passes, every hash equals the peers\'', async () => {
    const redis = await RedisServer.start()
    try {
      const cli = startCli(syncArgs(redis.url))
      const { code } = await cli.exited
      expect(code, cli.lines.slice(-5).join('\n')).toBe(0)
      expect(cli.lines.filter((l) => l.includes('"peer connected"')).length).toBe(2)
      const store = await openStore(redis.url)
      try {
        await expectSameChain(store)
      } finally {
        await store.close()
      }
    } finally {
      await redis.close()
    }
  }, 180_000)

  it('into LMDB with two validation threads: exit 0, verify passes, every hash equals the peers\'', async () => {
    const url = `lmdb:${tempDir()}`
    // Several validation batches finish out of order on two workers; headers must still be judged in order.
    const cli = startCli(syncArgs(url, ['--validation-threads', '2']))
    const { code } = await cli.exited
    expect(code, cli.lines.slice(-5).join('\n')).toBe(0)
    const store = await openStore(url, { readOnly: true })
    try {
      await expectSameChain(store)
    } finally {
      await store.close()
    }
  }, 180_000)

  it('resumes from the saved checkpoint after SIGKILL at random points (10 times)', async () => {
    const url = `lmdb:${tempDir()}`
    // A target beyond the peers' head: a run never ends by itself, so every run is killed.
    const endless = ['--to', '1000000', '--batch-size', '25']
    const resumedAt: number[] = []
    // Kill points are chosen by progress, not by wall time, so neither a slow machine (every run dying
    // before its first commit) nor a fast one (one run committing past the next kill points, so that
    // later runs are killed before they commit) repeats a resume point: each run is killed at a
    // pseudo-random moment (0-150 ms) after it committed a pseudo-random 1-40 blocks past where it
    // resumed, while more batches are downloading and writing.
    let seed = 12345
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let kill = 0; kill < 10; kill++) {
      const committed = await committedHead(url)
      const cli = startCli(syncArgs(url, endless))
      if (committed !== undefined) {
        const line = await cli.waitForLine(/resuming from the saved checkpoint/)
        // The sync continues exactly where the last commit left it: nothing below it is fetched again.
        expect(JSON.parse(line).block, `run ${kill}: ${cli.lines.slice(-5).join('\n')}`).toBe(committed)
        resumedAt.push(committed)
      }
      await waitForCommitted(url, Math.min((committed ?? -1) + 1 + rand(40), 560))
      await new Promise((r) => setTimeout(r, rand(150)))
      cli.kill('SIGKILL')
      // A run that ended by itself (an error) would show here, with its last words.
      expect((await cli.exited).signal, `run ${kill}: ${cli.lines.slice(-5).join('\n')}`).toBe('SIGKILL')
    }
    expect(new Set(resumedAt).size, String(resumedAt)).toBeGreaterThan(3)
    const last = startCli(syncArgs(url))
    expect((await last.exited).code, last.lines.slice(-5).join('\n')).toBe(0)
    const store = await openStore(url, { readOnly: true })
    try {
      await expectSameChain(store)
    } finally {
      await store.close()
    }
  }, 600_000)

  it('stops gracefully on SIGTERM (exit 0) and resumes from the saved checkpoint', async () => {
    const url = `lmdb:${tempDir()}`
    // A target beyond the peers' head keeps the first run going until the signal.
    const cli = startCli(syncArgs(url, ['--batch-size', '20', '--to', '1000000']))
    await waitForCommitted(url, 40)
    cli.kill('SIGTERM')
    const { code } = await cli.exited
    expect(code).toBe(0)
    expect(cli.lines.some((l) => l.includes('shutting down gracefully'))).toBe(true)
    const saved = await committedHead(url)
    expect(saved).toBeGreaterThanOrEqual(40)
    const again = startCli(syncArgs(url))
    const line = await again.waitForLine(/resuming from the saved checkpoint/)
    expect(JSON.parse(line).block).toBe(saved)
    expect((await again.exited).code).toBe(0)
  }, 180_000)
})

async function committedHead(url: string): Promise<number | undefined> {
  const store = await openStore(url, { readOnly: true }).catch(() => undefined)
  if (!store) return undefined
  try {
    return (await store.head())?.number
  } finally {
    await store.close()
  }
}

async function waitForCommitted(url: string, n: number): Promise<void> {
  const deadline = Date.now() + 60_000
  while (((await committedHead(url)) ?? -1) < n) {
    if (Date.now() > deadline) throw new Error(`block ${n} was not committed within 60 s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

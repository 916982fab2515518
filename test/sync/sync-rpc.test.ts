/**
 * End to end over JSON-RPC against a real Anvil: an Anvil chain with mixed transaction types and
 * logs synced by the built CLI and compared block by block with Anvil's own answers; then `--follow`
 * through reorgs of depth 1, 5 and 30 with the reorg metrics counted and `/metrics` scraped.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SPEC_METRIC_NAMES } from '../../src/metrics/metrics.js'
import { BlockBody } from '../../src/primitives/body.js'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { decodeBlockReceipts } from '../../src/primitives/receipt.js'
import { openStore } from '../../src/store/open.js'
import { verifyStore } from '../../src/store/verify.js'
import { type Anvil, startAnvil } from '../helpers/anvil.js'
import { freePort } from '../helpers/net.js'
import { generateChain, mineEmpty } from '../helpers/chain-gen.js'
import { ensureBuilt, runCli, type RunningCli, startCli } from '../helpers/cli.js'

interface JsonBlock {
  number: string
  hash: string
  parentHash: string
  transactions: Array<{ hash: string; from: string; type: string }>
}
interface JsonReceipt {
  status: string
  cumulativeGasUsed: string
  logs: unknown[]
}

const dirs: string[] = []
const running: RunningCli[] = []

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'evm-syncer-e2e-'))
  dirs.push(d)
  return d
}

afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.kill('SIGKILL')
    await cli.exited
  }
})

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function anvilHashes(anvil: Anvil, to: number): Promise<string[]> {
  const blocks = await anvil.batch<JsonBlock>(Array.from({ length: to + 1 }, (_, n) => ({ method: 'eth_getBlockByNumber', params: ['0x' + n.toString(16), false] })))
  return blocks.map((b) => b.hash)
}

async function storedHashes(url: string, to: number): Promise<Array<string | undefined>> {
  // Until the syncer has created the store there is nothing to compare.
  const store = await openStore(url, { readOnly: true }).catch(() => undefined)
  if (!store) return []
  try {
    return (await store.canonicalHashes(0, to)).map((h) => h && bytesToHex(h))
  } finally {
    await store.close()
  }
}

/**
 * Every field both sides print must be equal. Anvil's known deviations from geth are skipped:
 * `size` (one byte short of rlp(block) on Anvil), `totalDifficulty` (dropped by geth after the
 * merge), `blobGasPrice` on non-blob receipts; Anvil prints receipt `blockTimestamp` as a number.
 */
function expectSameFields(ours: unknown, theirs: unknown, path: string): void {
  if (Array.isArray(ours)) {
    expect(Array.isArray(theirs), path).toBe(true)
    expect(ours.length, path).toBe((theirs as unknown[]).length)
    ours.forEach((o, i) => expectSameFields(o, (theirs as unknown[])[i], `${path}[${i}]`))
    return
  }
  if (ours !== null && typeof ours === 'object') {
    for (const [k, v] of Object.entries(ours)) {
      const t = (theirs as Record<string, unknown>)[k]
      if (t === undefined || k === 'size') continue
      expectSameFields(v, typeof t === 'number' ? '0x' + t.toString(16) : t, `${path}.${k}`)
    }
    return
  }
  expect(typeof ours === 'string' ? ours.toLowerCase() : ours, path).toBe(typeof theirs === 'string' ? theirs.toLowerCase() : theirs)
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('sync over JSON-RPC from Anvil', () => {
  let anvil: Anvil
  let head: number

  beforeAll(async () => {
    ensureBuilt()
    anvil = await startAnvil()
    head = (await generateChain(anvil, { blocks: 40, txsPerBlock: [5, 25] })).head
  }, 180_000)

  afterAll(async () => {
    await anvil?.stop()
  })

  it('stores every block exactly as Anvil serves it', async () => {
    const url = `lmdb:${tempDir()}`
    const cli = startCli(['sync', '--rpc', anvil.url, '--store', url, '--no-metrics', '--no-progress'])
    running.push(cli)
    const { code } = await cli.exited
    expect(code, cli.lines.slice(-5).join('\n')).toBe(0)

    const store = await openStore(url, { readOnly: true })
    try {
      const report = await verifyStore(store)
      expect(report.problems).toEqual([])
      expect(report.head).toBe(head)
      const blocks = await anvil.batch<JsonBlock>(Array.from({ length: head + 1 }, (_, n) => ({ method: 'eth_getBlockByNumber', params: ['0x' + n.toString(16), true] })))
      const receipts = await anvil.batch<JsonReceipt[]>(Array.from({ length: head + 1 }, (_, n) => ({ method: 'eth_getBlockReceipts', params: ['0x' + n.toString(16)] })))
      let txs = 0
      for (let n = 0; n <= head; n++) {
        const stored = await store.block(n)
        expect(stored, `block ${n}`).toBeDefined()
        expect(bytesToHex(stored!.hash)).toBe(blocks[n].hash)
        const body = BlockBody.decode(stored!.body!)
        expect(body.transactions().map((t) => bytesToHex(t.hash))).toEqual(blocks[n].transactions.map((t) => t.hash))
        expect(body.transactions().map((t) => bytesToHex(t.recoverSender()!))).toEqual(blocks[n].transactions.map((t) => t.from.toLowerCase()))
        const rs = decodeBlockReceipts(stored!.receipts!)
        expect(rs.map((r) => r.cumulativeGasUsed)).toEqual(receipts[n].map((r) => BigInt(r.cumulativeGasUsed)))
        expect(rs.map((r) => (r.statusOrRoot.length === 1 ? '0x1' : '0x0'))).toEqual(receipts[n].map((r) => r.status))
        expect(rs.map((r) => r.logs().length)).toEqual(receipts[n].map((r) => r.logs.length))
        txs += body.transactions().length
      }
      expect(txs).toBeGreaterThan(200)
      expect(new Set(blocks.flatMap((b) => b.transactions.map((t) => t.type)))).toEqual(new Set(['0x0', '0x1', '0x2', '0x4']))
    } finally {
      await store.close()
    }

    // What users read back: `get block N --receipts` equals Anvil's answers field for field.
    const verify = runCli(['verify', '--store', url])
    expect(verify.status, verify.stdout).toBe(0)
    for (let n = 0; n <= head; n++) {
      const got = runCli(['get', 'block', String(n), '--store', url, '--receipts'])
      expect(got.status).toBe(0)
      const ours = JSON.parse(got.stdout) as { block: Record<string, unknown>; receipts: Array<Record<string, unknown>> }
      const [block, receipts] = await anvil.batch<Record<string, unknown>>([
        { method: 'eth_getBlockByNumber', params: ['0x' + n.toString(16), true] },
        { method: 'eth_getBlockReceipts', params: ['0x' + n.toString(16)] },
      ])
      expectSameFields(ours.block, block, `block ${n}`)
      expectSameFields(ours.receipts, receipts, `receipts ${n}`)
    }
  }, 180_000)

  it('syncs the verified header chain only with --headers-only', async () => {
    const url = `lmdb:${tempDir()}`
    const cli = startCli(['sync', '--rpc', anvil.url, '--store', url, '--headers-only', '--no-metrics', '--no-progress'])
    running.push(cli)
    expect((await cli.exited).code, cli.lines.slice(-5).join('\n')).toBe(0)
    expect(await storedHashes(url, head)).toEqual(await anvilHashes(anvil, head))
    const verify = runCli(['verify', '--store', url, '--json'])
    expect(verify.status, verify.stdout).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, head, checked: head + 1 })
    const got = runCli(['get', 'block', String(head), '--store', url])
    expect(got.status).toBe(0)
    const block = JSON.parse(got.stdout).block as Record<string, unknown>
    expect(block.hash).toBe((await anvilHashes(anvil, head))[head])
    expect(block.transactions).toBeUndefined()
    const receipts = runCli(['get', 'block', String(head), '--store', url, '--receipts'])
    expect(receipts.status).toBe(1)
    expect(receipts.stderr).toMatch(/headers only/)
    // A full sync must not mix into a headers-only store.
    const full = runCli(['sync', '--rpc', anvil.url, '--store', url, '--no-metrics', '--no-progress'])
    expect(full.status).toBe(2)
    expect(full.stderr).toMatch(/STORE_MODE_MISMATCH|holds headers only/)
  }, 120_000)

  it('--from N trusts block N as the anchor; a saved checkpoint inside the range wins over --from', async () => {
    const url = `lmdb:${tempDir()}`
    const first = runCli(['sync', '--rpc', anvil.url, '--store', url, '--from', '10', '--to', '25', '--no-metrics', '--no-progress'])
    expect(first.status, first.stderr.slice(-500)).toBe(0)
    expect(first.stderr).toMatch(/trusting block 10 from the source as the anchor/)
    const hashes = await anvilHashes(anvil, 25)
    const stored = await storedHashes(url, 25)
    expect(stored.slice(0, 10).every((h) => h === undefined)).toBe(true)
    expect(stored.slice(10)).toEqual(hashes.slice(10))
    const status = runCli(['status', '--store', url, '--json'])
    expect(JSON.parse(status.stdout)).toMatchObject({ currentBlock: 25 })
    expect(runCli(['verify', '--store', url]).status).toBe(0)
    // A target the store already passed is reached; an anchor above the store's range would leave a gap.
    const done = runCli(['sync', '--rpc', anvil.url, '--store', url, '--to', '20', '--no-metrics', '--no-progress'])
    expect(done.status).toBe(0)
    expect(done.stderr).toMatch(/already at or past the target/)
    const gap = runCli(['sync', '--rpc', anvil.url, '--store', url, '--from', '30', '--no-metrics', '--no-progress'])
    expect(gap.status).toBe(2)
    expect(gap.stderr).toMatch(/holds blocks 10-25; --from 30 would leave a gap/)
    // The checkpoint (25) lies inside 5..head: the sync resumes there instead of re-anchoring at 5.
    const second = runCli(['sync', '--rpc', anvil.url, '--store', url, '--from', '5', '--no-metrics', '--no-progress'])
    expect(second.status).toBe(0)
    expect(second.stderr).toMatch(/resuming from the saved checkpoint/)
    expect(await storedHashes(url, head)).toEqual([...Array(10).fill(undefined), ...(await anvilHashes(anvil, head)).slice(10)])
  }, 120_000)

  it('follows the head through reorgs of depth 1, 5 and 30 and a same-height one, with metrics', async () => {
    const url = `lmdb:${tempDir()}`
    const port = await freePort()
    const cli = startCli(['sync', '--rpc', anvil.url, '--store', url, '--follow', '--metrics', `127.0.0.1:${port}`, '--no-progress'])
    running.push(cli)
    const tip = async () => Number.parseInt((await anvil.rpc<JsonBlock>('eth_getBlockByNumber', ['latest', false])).number, 16)
    const inSync = async () => {
      const n = await tip()
      const [ours, theirs] = await Promise.all([storedHashes(url, n), anvilHashes(anvil, n)])
      return ours.length === theirs.length && ours.every((h, i) => h === theirs[i])
    }
    await until('initial sync', inSync)

    const metrics = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
      return { text, value }
    }
    const first = await metrics()
    for (const name of SPEC_METRIC_NAMES) expect(first.text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'))
    expect(first.value('syncer_current_block')).toBe(await tip())
    expect(first.value('syncer_target_block')).toBeGreaterThanOrEqual(await tip())
    expect(first.value('syncer_progress_percent')).toBe(100)
    expect(first.value('syncer_written_blocks_total')).toBeGreaterThanOrEqual(head)
    expect(first.value('syncer_validated_blocks_total')).toBeGreaterThanOrEqual(head)
    expect(first.value('syncer_downloaded_headers_total')).toBeGreaterThanOrEqual(head)
    expect(first.value('syncer_write_duration_seconds_count')).toBeGreaterThan(0)
    expect(first.value('syncer_validation_duration_seconds_count')).toBeGreaterThan(0)
    expect(first.value('syncer_download_duration_seconds_count')).toBeGreaterThan(0)
    expect(first.value('syncer_reorgs_total')).toBe(0)
    expect(first.value('process_cpu_user_seconds_total')).toBeGreaterThan(0) // process metrics ride along when served
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ running: true, synced: true })

    let reorgs = 0
    // Depths 1, 5 and 30 with new blocks on top of the new branch; then one at the same height
    // (nothing on top), which only the stored-vs-new hash comparison at our height reveals.
    for (const [depth, mineAfter] of [[1, 2], [5, 2], [30, 2], [2, 0]] as const) {
      const before = await anvilHashes(anvil, await tip())
      await anvil.rpc('anvil_reorg', [depth, []])
      const after = await anvilHashes(anvil, await tip())
      expect(after.slice(-depth).every((h, i) => h !== before[before.length - depth + i])).toBe(true)
      if (mineAfter > 0) await mineEmpty(anvil, mineAfter)
      reorgs++
      await until(`reorg of depth ${depth} handled`, inSync)
      const m = await metrics()
      expect(m.value('syncer_reorgs_total')).toBe(reorgs)
      expect(m.value('syncer_last_reorg_depth')).toBe(depth)
    }
    cli.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
    const store = await openStore(url, { readOnly: true })
    try {
      const report = await verifyStore(store)
      expect(report.problems).toEqual([])
      expect(report.reorgCount).toBe(4)
    } finally {
      await store.close()
    }
  }, 300_000)
})

describe('reorg deeper than the finality window', () => {
  let anvil: Anvil
  beforeAll(async () => {
    ensureBuilt()
    anvil = await startAnvil()
    await mineEmpty(anvil, 90)
  }, 120_000)
  afterAll(async () => {
    await anvil?.stop()
  })

  it('stops the sync with exit code 3 and leaves the stored history untouched', async () => {
    const url = `lmdb:${tempDir()}`
    const cli = startCli(['sync', '--rpc', anvil.url, '--store', url, '--follow', '--no-metrics', '--no-progress'])
    running.push(cli)
    const before = await anvilHashes(anvil, 90)
    await until('initial sync', async () => {
      const ours = await storedHashes(url, 90)
      return ours.length === before.length && ours.every((h, i) => h === before[i])
    })
    const finalized = Number.parseInt((await anvil.rpc<JsonBlock>('eth_getBlockByNumber', ['finalized', false])).number, 16)
    expect(finalized).toBeGreaterThan(0) // Anvil finalizes latest - 64: blocks below it are final
    const depth = 90 - finalized + 5
    await anvil.rpc('anvil_reorg', [depth, []])
    await mineEmpty(anvil, 2)
    const { code } = await cli.exited
    expect(code).toBe(3)
    expect(cli.lines.some((l) => l.includes('REORG_TOO_DEEP'))).toBe(true)
    expect(await storedHashes(url, 90)).toEqual(before)
    expect(runCli(['verify', '--store', url]).status).toBe(0)
  }, 120_000)
})

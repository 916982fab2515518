/**
 * The store commands end to end (get, verify, status) on both backends, run as a user runs them: a
 * separate process on a store a writer filled.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { blockJson } from '../../src/store/json.js'
import { openBackend, openStore, parseStoreUrl } from '../../src/store/open.js'
import { BlockWriter } from '../../src/writer/writer.js'
import { REPO_ROOT } from '../fixtures.js'
import { BACKENDS, type StoreLocation } from '../store/backends.js'
import { devp2pChain } from '../store/chains.js'

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI from source (tsx), so the test needs no build. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: REPO_ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

/** A key of the default (unprefixed) layout for a block's blob. */
const blobKey = (kind: 'body' | 'rcpt', hash: Uint8Array) => `${kind}:${bytesToHex(hash).slice(2)}`

describe.each(BACKENDS)('store commands on $name', (backend) => {
  let location: StoreLocation
  const chain = devp2pChain()
  beforeAll(async () => {
    location = await backend.start()
    const store = await openStore(location.url)
    await store.claimChain({ name: 'devp2p-test', chainId: 3503995874084926n, genesisHash: chain[0].parentHash })
    const writer = await BlockWriter.open(store, { targetBlock: 1000 })
    for (const b of chain) await writer.write(b)
    await writer.close()
    await store.close()
  })
  afterAll(async () => {
    await location.cleanup()
  })

  it('get block prints eth_getBlockByNumber(n, true) and eth_getBlockReceipts JSON, by number, hash or latest', async () => {
    const [byNumber, byHash, latest] = await Promise.all([
      cli('get', 'block', '9', '--store', location.url, '--receipts'),
      cli('get', 'block', bytesToHex(chain[4].hash), '--store', location.url),
      cli('get', 'block', 'latest', '--store', location.url),
    ])
    expect(byNumber.status).toBe(0)
    expect(JSON.parse(byNumber.stdout)).toEqual(JSON.parse(JSON.stringify(blockJson(chain[8], { receipts: true }))))
    expect(JSON.parse(byNumber.stdout).receipts[0].blobGasUsed).toBe('0x20000')
    expect(byHash.status).toBe(0)
    expect(JSON.parse(byHash.stdout)).toEqual({ block: expect.objectContaining({ number: '0x5', hash: bytesToHex(chain[4].hash) }) })
    expect(JSON.parse(latest.stdout).block.number).toBe('0x258')
  })

  it('get block exits 1 for a block the store does not hold and 2 for a malformed id or URL', async () => {
    const [absent, unknownHash, malformed, badUrl] = await Promise.all([
      cli('get', 'block', '601', '--store', location.url),
      cli('get', 'block', '0x' + '11'.repeat(32), '--store', location.url),
      cli('get', 'block', 'twelve', '--store', location.url),
      cli('get', 'block', '1', '--store', 'ftp://nowhere'),
    ])
    expect(absent).toMatchObject({ status: 1, stdout: '' })
    expect(absent.stderr).toContain('not in the store')
    expect(unknownHash.status).toBe(1)
    expect(malformed.status).toBe(2)
    expect(badUrl.status).toBe(2)
    expect(badUrl.stderr).toContain('invalid store URL')
  })

  it('status shows the commit record', async () => {
    const [json, text] = await Promise.all([cli('status', '--store', location.url, '--json'), cli('status', '--store', location.url)])
    expect(json.status).toBe(0)
    const status = JSON.parse(json.stdout)
    expect(status).toMatchObject({
      chain: { name: 'devp2p-test', chainId: '3503995874084926', genesisHash: bytesToHex(chain[0].parentHash) },
      currentBlock: 600,
      targetBlock: 1000,
      firstBlock: 1,
      progressPercent: 60,
      lastHash: bytesToHex(chain[599].hash),
      startBlock: 1,
      reorgCount: 0,
      totalSynced: 600,
      uncommittedTail: 0,
    })
    expect(status.speed).toBeGreaterThan(0)
    expect(status.etaSeconds).toBeGreaterThan(0)
    expect(text.status).toBe(0)
    expect(text.stdout).toContain('600 of 1000 (60%)')
  })

  it('verify passes on the written chain and lists each problem once the bytes are damaged', async () => {
    const clean = await cli('verify', '--store', location.url)
    expect(clean.status).toBe(0)
    expect(clean.stdout).toMatch(/^ok: blocks 1-600 \(600\) checked, head 600 0x/)
    const range = await cli('verify', '--store', location.url, '--from', '100', '--to', '200', '--json')
    expect(JSON.parse(range.stdout)).toMatchObject({ ok: true, from: 100, to: 200, checked: 101, problems: [] })

    // Damage: block 50 gets block 51's body, block 70 loses its receipts.
    const kv = await openBackend(parseStoreUrl(location.url))
    const body51 = (await kv.get(blobKey('body', chain[50].hash)))!
    await kv.apply([
      { kind: 'put', key: blobKey('body', chain[49].hash), value: body51 },
      { kind: 'del', key: blobKey('rcpt', chain[69].hash) },
    ])
    await kv.close()
    const damaged = await cli('verify', '--store', location.url, '--json')
    expect(damaged.status).toBe(1)
    const report = JSON.parse(damaged.stdout) as { ok: boolean; problems: Array<{ block: number; code: string }> }
    expect(report.ok).toBe(false)
    expect(report.problems.map((p) => `${p.block} ${p.code}`)).toEqual(expect.arrayContaining(['50 BODY_TRANSACTIONS_ROOT_MISMATCH', '70 MISSING_RECEIPTS']))
    expect(report.problems.every((p) => p.block === 50 || p.block === 70)).toBe(true)
    const text = await cli('verify', '--store', location.url)
    expect(text.status).toBe(1)
    expect(text.stdout).toContain('block 70: MISSING_RECEIPTS')
  })
})

it('commands on an LMDB directory that does not exist fail with exit 1', async () => {
  const r = await cli('status', '--store', 'lmdb:/nonexistent/evm-syncer-store')
  expect(r.status).toBe(1)
  expect(r.stderr).toContain('no store at')
})

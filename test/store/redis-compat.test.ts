/**
 * Pika/Codis compatibility on a real redis-server: the store and writer run as a Redis ACL user
 * allowed only the Pika-safe commands, so any other command (MULTI, EVAL, SCAN, INFO, HELLO,
 * CLIENT SETINFO, QUIT...) would fail the test with NOPERM. Plus AUTH failures and TLS.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { openBackend, openStore, parseStoreUrl } from '../../src/store/open.js'
import { StoreKeys, textValue } from '../../src/store/keys.js'
import { verifyStore } from '../../src/store/verify.js'
import { BlockWriter } from '../../src/writer/writer.js'
import { RedisServer } from '../helpers/redis.js'
import { branch, devp2pChain } from './chains.js'

const SAFE_USER = ['syncer', 'on', '>s3cret', '~*', '-@all', '+get', '+mget', '+set', '+del', '+ping']

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('Redis / Pika compatibility', () => {
  it('syncs, reorgs, repairs and verifies as a user allowed only GET, MGET, SET, DEL and PING', async () => {
    const redis = await RedisServer.start({ args: ['--user', ...SAFE_USER] })
    cleanups.push(() => redis.close())
    const url = `redis://syncer:s3cret@127.0.0.1:${redis.port}`
    const store = await openStore(url, { prefix: 'mainnet:' })
    cleanups.push(() => store.close())
    const chain = devp2pChain()
    await store.claimChain({ name: 'devp2p-test', chainId: 3503995874084926n, genesisHash: chain[0].parentHash })

    // A half-written batch above the commit record, for the writer to repair on open.
    await store.writeBatch(chain.slice(0, 50), { targetBlock: 0, startBlock: 0, startTime: 0, speed: 0, reorgCount: 0, lastReorgDepth: 0, totalSynced: 0, updatedAt: 0, headersOnly: false })
    const kv = await openBackend(parseStoreUrl(url))
    cleanups.push(() => kv.close())
    const keys = new StoreKeys('mainnet:')
    await kv.apply([{ kind: 'put', key: keys.canonical(51), value: textValue(bytesToHex(chain[50].hash)) }])

    const writer = await BlockWriter.open(store, { batchSize: 30 })
    for (const b of chain.slice(0, 120)) await writer.write(b) // 1..50 again: skipped
    for (const b of branch(chain[99], 10, { salt: 5 })) await writer.write(b) // reorg at 100
    for (const b of chain.slice(100, 200)) await writer.write(b) // and back
    await writer.close()
    expect(writer.metrics()).toMatchObject({ tailBlocksDropped: 1, duplicatesSkipped: 50, reorgs: 2 })
    expect((await store.head())?.number).toBe(200)
    expect((await store.block(chain[150].hash))?.number).toBe(151)
    expect((await verifyStore(store)).problems).toEqual([])

    // The ACL is real: anything outside the subset is refused.
    const raw = new Redis(url, { lazyConnect: true, protocol: 2, disableClientInfo: true, enableReadyCheck: false })
    cleanups.push(() => raw.disconnect())
    await raw.connect()
    await expect(raw.info()).rejects.toThrow(/NOPERM/)
    await expect(raw.scan(0)).rejects.toThrow(/NOPERM/)
  })

  it('a wrong password or an unreachable server is a typed, retryable STORE_UNAVAILABLE error', async () => {
    const redis = await RedisServer.start({ args: ['--user', ...SAFE_USER] })
    cleanups.push(() => redis.close())
    await expect(openStore(`redis://syncer:wrong@127.0.0.1:${redis.port}`)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true })
    await redis.stop()
    await expect(openStore(`redis://127.0.0.1:${redis.port}`, { connectTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
  })

  it('connects over TLS (rediss://) to a server with a private CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-tls-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=evm-syncer test CA')
    ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext')
    const tls = { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') }
    const redis = await RedisServer.start({ tls })
    cleanups.push(() => redis.close())
    expect(redis.url.startsWith('rediss://')).toBe(true)

    const store = await openStore(redis.url, { tls: { ca: readFileSync(tls.caFile) } })
    cleanups.push(() => store.close())
    await store.writeBatch(devp2pChain().slice(0, 20), { targetBlock: 0, startBlock: 0, startTime: 0, speed: 0, reorgCount: 0, lastReorgDepth: 0, totalSynced: 0, updatedAt: 0, headersOnly: false })
    expect((await store.block(20))?.number).toBe(20)
    // Without the CA the server's certificate is not trusted.
    await expect(openStore(redis.url, { connectTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
  })
})

/**
 * Pool behaviour over real RLPx connections on 127.0.0.1: Status checks (network, genesis, fork id),
 * handshake timeout, max peers, inbound connections, discovery v4 with a bootnode, request sizing.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { hexToBytes } from '../../../src/primitives/bytes.js'
import { formatEnode, nodeIdHex } from '../../../src/sources/devp2p/enode.js'
import type { Devp2pPool } from '../../../src/sources/devp2p/pool.js'
import type { Devp2pServer } from '../../../src/sources/devp2p/testing/server.js'
import { generateNodeKey, nodeIdOf } from '../../../src/sources/devp2p/transport.js'
import { freePort } from '../../helpers/net.js'
import { poolFor, waitForPeers, waitUntil } from '../../helpers/devp2p-pool.js'
import { startTestServer, testChain, TEST_STATUS } from '../../helpers/devp2p-server.js'

const started: Array<{ stop(): Promise<void> }> = []

afterEach(async () => {
  for (const s of started.splice(0).reverse()) await s.stop()
})

function track<T extends { stop(): Promise<void> }>(x: T): T {
  started.push(x)
  return x
}


/** Starts a pool against `server` and waits until the server saw a session attempt end. */
async function rejectedBy(server: Devp2pServer, pool: Devp2pPool): Promise<void> {
  await pool.start()
  await waitUntil(() => server.stats().accepted >= 1 && server.stats().connections === 0 && pool.stats().handshaking === 0)
  expect(pool.peers()).toEqual([])
}

describe('Devp2pPool', () => {
  it.each([
    ['network id', { ...TEST_STATUS, networkId: 5n }],
    ['genesis hash', { ...TEST_STATUS, genesisHash: testChain().hiveHeaders[0].hash }],
    ['fork id', { ...TEST_STATUS, forkId: { hash: hexToBytes('0x01020304'), next: 0n } }],
  ])('refuses a peer with another %s (no ban)', async (_what, status) => {
    const server = track(await startTestServer())
    const pool = track(poolFor(status, { staticPeers: [server.enode] }))
    await rejectedBy(server, pool)
    expect(pool.isBanned(nodeIdHex(server.nodeId))).toBe(false)
  })

  it('accepts another fork id when the chain adapter\'s filter does', async () => {
    const server = track(await startTestServer())
    const pool = track(poolFor({ ...TEST_STATUS, forkId: { hash: hexToBytes('0x01020304'), next: 0n } }, { staticPeers: [server.enode], forkFilter: () => undefined }))
    await pool.start()
    const [peer] = await waitForPeers(pool, 1)
    expect(peer.wire.remoteStatus?.forkId.hash).toEqual(TEST_STATUS.forkId.hash)
  })

  it('gives up on a listener that never completes the RLPx handshake, and keeps redialling it', async () => {
    let accepted = 0
    let closed = 0
    const open = new Set<Socket>()
    const silent: Server = createServer((socket) => {
      accepted++
      open.add(socket)
      socket.on('close', () => {
        closed++
        open.delete(socket)
      })
      socket.on('error', () => {})
      socket.resume() // read and drop whatever comes, never answer
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    track({ stop: () => new Promise<void>((resolve) => silent.close(() => resolve())) })
    const port = (silent.address() as { port: number }).port
    const enode = formatEnode({ id: nodeIdOf(generateNodeKey()), host: '127.0.0.1', tcpPort: port, udpPort: port })
    const pool = poolFor(TEST_STATUS, { staticPeers: [enode], handshakeTimeoutMs: 200, redial: { minMs: 20, maxMs: 20 } })
    await pool.start()
    await waitUntil(() => closed >= 1 && accepted >= 2)
    expect(pool.peers()).toEqual([])
    await pool.stop()
    // Every socket the pool opened is closed again.
    await waitUntil(() => open.size === 0)
  })

  it('keeps at most maxPeers connections', async () => {
    const servers = [track(await startTestServer()), track(await startTestServer()), track(await startTestServer())]
    const pool = track(poolFor(TEST_STATUS, { staticPeers: servers.map((s) => s.enode), maxPeers: 2 }))
    await pool.start()
    await waitForPeers(pool, 2)
    await waitUntil(() => servers.reduce((n, s) => n + s.stats().connections, 0) === 2)
    expect(pool.peers()).toHaveLength(2)
  })

  it('accepts inbound connections when listening (pool to pool, both serving empty lists)', async () => {
    const listener = track(poolFor(TEST_STATUS, { listen: { host: '127.0.0.1', port: 0 } }))
    await listener.start()
    const dialer = track(poolFor(TEST_STATUS, { staticPeers: [listener.enode()!] }))
    await dialer.start()
    const [out] = await waitForPeers(dialer, 1)
    const [inbound] = await waitForPeers(listener, 1)
    expect(inbound.conn.inbound).toBe(true)
    expect(inbound.id).toBe(nodeIdHex(dialer.nodeId))
    expect(out.id).toBe(nodeIdHex(listener.nodeId))
    expect(await out.getHeaders({ start: 0, count: 1 })).toEqual([])
  })

  it('finds a peer through discovery v4 from a bootnode (UDP on 127.0.0.1)', async () => {
    const [tcp, udpA, udpB] = [await freePort(), await freePort(), await freePort()]
    const a = track(poolFor(TEST_STATUS, { listen: { host: '127.0.0.1', port: tcp }, discovery: { bootnodes: [], host: '127.0.0.1', udpPort: udpA } }))
    await a.start()
    const b = track(poolFor(TEST_STATUS, { discovery: { bootnodes: [a.enode()!], host: '127.0.0.1', udpPort: udpB } }))
    await b.start()
    const [found] = await waitForPeers(b, 1)
    expect(found.id).toBe(nodeIdHex(a.nodeId))
    expect(a.enode()).toContain(`?discport=${udpA}`)
  })

  it('takes an empty answer ("don\'t have it") at no cost', async () => {
    const server = track(await startTestServer())
    const pool = track(poolFor(TEST_STATUS, { staticPeers: [server.enode] }))
    await pool.start()
    const [peer] = await waitForPeers(pool, 1)
    const unknown = new Uint8Array(32).fill(0xee)
    expect(await peer.getBodies([unknown])).toEqual([])
    expect(await peer.getReceipts([unknown])).toEqual([])
    expect(await peer.getHeaders({ start: 10_000, count: 5 })).toEqual([])
    const stats = peer.stats()
    expect([stats.kinds.bodies.empty, stats.kinds.receipts.empty, stats.kinds.headers.empty]).toEqual([1, 1, 1])
    expect([stats.consecutiveTimeouts, stats.invalidReports]).toEqual([0, 0])
    expect([peer.capacity('headers'), peer.capacity('bodies'), peer.capacity('receipts')]).toEqual([64, 16, 16])
    expect(pool.isBanned(peer.id)).toBe(false)
    expect(pool.peers()).toEqual([peer])
  })

  it('sizes requests from measured throughput within the spec limits and the byte budget', async () => {
    const server = track(await startTestServer())
    const pool = track(poolFor(TEST_STATUS, { staticPeers: [server.enode], rate: { softResponseBytes: 4000 } }))
    await pool.start()
    const [peer] = await waitForPeers(pool, 1)
    // Before any measurement: the initial sizes.
    expect([peer.capacity('headers'), peer.capacity('bodies'), peer.capacity('receipts')]).toEqual([64, 16, 16])
    const first = await peer.getHeaders({ start: 1, count: 500 })
    expect(first).toHaveLength(64)
    // Measured: headers are ~600 bytes, so the 4000-byte budget allows about 6 per request,
    // however fast the peer is.
    const sized = peer.capacity('headers')
    expect(sized).toBeGreaterThanOrEqual(5)
    expect(sized).toBeLessThanOrEqual(7)
    expect(await peer.getHeaders({ start: 65, count: 500 })).toHaveLength(sized)
    const stats = pool.stats()
    expect(stats.peers[0].kinds.headers.requests).toBe(2)
    expect(stats.peers[0].rttMs).toBeGreaterThan(0)
  })
})

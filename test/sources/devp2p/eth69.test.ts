/**
 * eth/69 (EIP-7642) end to end against the project's own server on the same RLPx transport: Status
 * with the served block range, BlockRangeUpdate both ways, receipts without bloom (the real mainnet
 * receipts of portal-spec-tests, which are already in eth/69 form), and version negotiation.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { bytesToHex, equalBytes, hexToBytes } from '../../../src/primitives/bytes.js'
import { decodeBlockReceipts, encodeReceiptsEth68 } from '../../../src/primitives/receipt.js'
import { encode } from '../../../src/primitives/rlp.js'
import { nodeIdHex } from '../../../src/sources/devp2p/enode.js'
import { encodeBlockRangeUpdate, encodeGetBlockHeaders, encodeHashesRequest, EthCode, type EthVersion } from '../../../src/sources/devp2p/messages.js'
import type { Devp2pPool } from '../../../src/sources/devp2p/pool.js'
import type { Devp2pServer } from '../../../src/sources/devp2p/testing/server.js'
import type { HeadInfo, SourcePeer } from '../../../src/sources/types.js'
import { fetchByRoots, fetchHeaders } from '../../helpers/devp2p-fetch.js'
import { poolFor, waitForPeers, waitForRemoval, waitUntil } from '../../helpers/devp2p-pool.js'
import { startTestServer, testChain, TEST_STATUS } from '../../helpers/devp2p-server.js'

const started: Array<Devp2pPool | Devp2pServer> = []

afterEach(async () => {
  for (const s of started.splice(0).reverse()) await s.stop()
})

async function serverAndPool(serverVersions?: readonly EthVersion[], poolVersions?: readonly EthVersion[]) {
  const server = await startTestServer({ versions: serverVersions })
  started.push(server)
  const pool = poolFor(TEST_STATUS, { staticPeers: [server.enode], versions: poolVersions })
  started.push(pool)
  await pool.start()
  return { server, pool }
}

describe('eth/69 against the project server', () => {
  it('negotiates eth/69 and takes the head and served range from Status', async () => {
    const { server, pool } = await serverAndPool()
    const [peer] = await waitForPeers(pool, 1)
    const head = server.chain.head()
    expect(peer.version).toBe(69)
    expect(peer.wire.remoteStatus?.totalDifficulty).toBeUndefined()
    expect(peer.head()?.number).toBe(head.number)
    expect(equalBytes(peer.head()!.hash, head.hash)).toBe(true)
    expect(peer.earliestBlock()).toBe(1)
  })

  it('fetches headers and bodies of the hive chain and portal receipts in eth/69 form, all verified', async () => {
    const { pool } = await serverAndPool()
    await waitForPeers(pool, 1)
    const { hiveHeaders, portal } = testChain()
    const headers = await fetchHeaders(pool, 1, 600)
    expect(bytesToHex(headers[0].parentHash)).toBe(bytesToHex(TEST_STATUS.genesisHash))
    expect(headers.map((h) => bytesToHex(h.hash))).toEqual(hiveHeaders.map((h) => bytesToHex(h.hash)))
    const bodies = await fetchByRoots(pool, 'bodies', headers)
    expect(bodies.size).toBe(600)

    const portalHeaders = portal.map((p) => p.header)
    const receipts = await fetchByRoots(pool, 'receipts', portalHeaders)
    const portalBodies = await fetchByRoots(pool, 'bodies', portalHeaders)
    expect(receipts.size).toBe(portal.length)
    expect(portalBodies.size).toBe(portal.length)
    for (const p of portal) {
      const raw = receipts.get(bytesToHex(p.header.hash))!
      // Bytes as the fixture has them (no bloom), roots checked by fetchByRoots with derived blooms.
      expect(bytesToHex(raw)).toBe(bytesToHex(p.receipts))
      expect(decodeBlockReceipts(raw).every((r) => r.encoding === 'eth69' && r.receivedBloom === undefined)).toBe(true)
    }
  })

  it('serves eth/68 peers receipts with blooms, and the same roots verify', async () => {
    const { pool } = await serverAndPool([68, 67, 66])
    const [peer] = await waitForPeers(pool, 1)
    expect(peer.version).toBe(68)
    // eth/68 Status has no head number: the pool looked the head header up by hash.
    expect(peer.head()?.number).toBe(testChain().chain.head().number)
    const { portal } = testChain()
    const receipts = await fetchByRoots(pool, 'receipts', portal.map((p) => p.header))
    for (const p of portal) {
      const raw = receipts.get(bytesToHex(p.header.hash))!
      expect(bytesToHex(raw)).toBe(bytesToHex(encodeReceiptsEth68(decodeBlockReceipts(p.receipts))))
      expect(decodeBlockReceipts(raw).every((r) => r.encoding === 'eth68' && r.receivedBloom !== undefined)).toBe(true)
    }
  })

  it('picks the highest common version: an eth/66-68 pool talks eth/68 to an eth/69 server', async () => {
    const { pool } = await serverAndPool(undefined, [68, 67, 66])
    const [peer] = await waitForPeers(pool, 1)
    expect(peer.version).toBe(68)
    const oldest = await serverAndPool([66], undefined)
    const [peer66] = await waitForPeers(oldest.pool, 1)
    expect(peer66.version).toBe(66)
    expect(await peer66.getHeaders({ start: 1, count: 3 })).toHaveLength(3)
  })

  it('connects nobody when no version is shared (eth/69-only pool, eth/68-only server)', async () => {
    const { server, pool } = await serverAndPool([68], [69])
    // The library drops the session for lack of shared capabilities (the pool keeps redialling).
    await waitUntil(() => server.stats().accepted >= 1 && server.stats().connections === 0 && pool.stats().handshaking === 0)
    expect(pool.peers()).toEqual([])
    expect(server.sessions.size).toBe(0)
  })

  it('follows BlockRangeUpdate from the server and sends its own when the local head moves', async () => {
    const { server, pool } = await serverAndPool()
    const [peer] = await waitForPeers(pool, 1)
    const { chain, hiveHeaders } = testChain()
    const newHead = { number: chain.head().number + 5, hash: hiveHeaders[0].hash }
    const announced = new Promise<HeadInfo>((resolve) =>
      pool.on('peer:head', (p: SourcePeer, h: HeadInfo) => {
        if (p === peer) resolve(h)
      }),
    )
    const update = encodeBlockRangeUpdate({ earliest: 1, latest: newHead.number, latestHash: newHead.hash })
    for (const wire of server.sessions) wire.sendMessage(EthCode.BlockRangeUpdate, update)
    expect((await announced).number).toBe(newHead.number)
    expect(peer.head()?.number).toBe(newHead.number)

    const [wire] = [...server.sessions]
    const localHead = { number: 7, hash: hiveHeaders[6].hash }
    pool.setLocalHead(localHead)
    await waitUntil(() => wire.range?.latest === 7)
    expect(bytesToHex(wire.range!.latestHash)).toBe(bytesToHex(localHead.hash))
  })

  it('treats NewBlockHashes on an eth/69 session as a protocol violation (dropped, banned)', async () => {
    const { server, pool } = await serverAndPool()
    const [peer] = await waitForPeers(pool, 1)
    const removed = waitForRemoval(pool, peer)
    for (const wire of server.sessions) wire.sendMessage(EthCode.NewBlockHashes, encode([[TEST_STATUS.genesisHash, 0]]))
    expect(await removed).toMatch(/DEVP2P_PROTOCOL_VIOLATION: message NewBlockHashes is not part of eth\/69/)
    expect(pool.isBanned(peer.id)).toBe(true)
  })

  it('answers the peer\'s own requests with empty lists and ignores transaction gossip', async () => {
    const { server, pool } = await serverAndPool()
    const [peer] = await waitForPeers(pool, 1)
    const [wire] = [...server.sessions]
    const headers = await wire.request('headers', (id) => encodeGetBlockHeaders(id, { origin: 0, amount: 5, skip: 0, reverse: false }), 5, 5000)
    const bodies = await wire.request('bodies', (id) => encodeHashesRequest(id, [TEST_STATUS.genesisHash]), 1, 5000)
    const receipts = await wire.request('receipts', (id) => encodeHashesRequest(id, [TEST_STATUS.genesisHash]), 1, 5000)
    expect([headers.items, bodies.items, receipts.items]).toEqual([[], [], []])
    // Transactions (0x02) with a payload that is not even RLP: dropped undecoded.
    wire.sendMessage(EthCode.Transactions, hexToBytes('0xffff'))
    await waitUntil(() => peer.stats().ignoredMessages === 1)
    expect(peer.stats().servedRequests).toBe(3)
    expect(pool.peers()).toEqual([peer])
    expect(nodeIdHex(server.nodeId)).toBe(peer.id)
  })
})


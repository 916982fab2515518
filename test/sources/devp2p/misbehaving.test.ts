/**
 * Misbehaving peers on the same RLPx transport. For each kind of misbehaviour a pool connects to one
 * bad and one honest server; the fetch loop asks the bad peer first, and the test checks that the
 * misbehaviour is detected (typed error or failed root check), that the bad peer is scored down or
 * banned, and that all headers, bodies and receipts still arrive, verified, from the honest peer.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SourceError } from '../../../src/errors.js'
import { bytesToHex } from '../../../src/primitives/bytes.js'
import { nodeIdHex } from '../../../src/sources/devp2p/enode.js'
import { Devp2pErrorCode } from '../../../src/sources/devp2p/errors.js'
import { EthCode, type RequestKind } from '../../../src/sources/devp2p/messages.js'
import type { Devp2pPeer } from '../../../src/sources/devp2p/peer.js'
import type { Devp2pPool } from '../../../src/sources/devp2p/pool.js'
import type { Devp2pServer } from '../../../src/sources/devp2p/testing/server.js'
import { fetchByRoots, fetchHeaders, type FetchEvent } from '../../helpers/devp2p-fetch.js'
import { poolFor, waitForPeers, waitForRemoval } from '../../helpers/devp2p-pool.js'
import { sendToAll, startTestServer, testChain, TEST_STATUS, unsolicitedHeaders, type Misbehavior } from '../../helpers/devp2p-server.js'

const started: Array<Devp2pPool | Devp2pServer> = []

afterEach(async () => {
  for (const s of started.splice(0).reverse()) await s.stop()
})

/** Short request timeouts: the honest peer answers from memory in milliseconds. */
const FAST_TIMEOUTS = { timeoutMs: { min: 1500, max: 1500 } }

async function badAndGood(mode: Misbehavior) {
  const good = await startTestServer()
  const bad = await startTestServer({ mode })
  started.push(good, bad)
  const pool = poolFor(TEST_STATUS, { staticPeers: [bad.enode, good.enode], rate: FAST_TIMEOUTS })
  started.push(pool)
  await pool.start()
  const peers = await waitForPeers(pool, 2)
  const badPeer = peers.find((p) => p.id === nodeIdHex(bad.nodeId))!
  const goodPeer = peers.find((p) => p.id === nodeIdHex(good.nodeId))!
  return { pool, bad, badPeer, goodPeer }
}

/** Asks the bad peer first, until it has failed once; everything else goes to other peers. */
function badFirst(badPeer: Devp2pPeer, events: FetchEvent[]) {
  return (peers: Devp2pPeer[], kind: RequestKind) => {
    const failed = events.some((e) => e.peer === badPeer.id)
    const usable = peers.filter((p) => p.idleSlots(kind) > 0)
    return (!failed && usable.find((p) => p === badPeer)) || usable.find((p) => p !== badPeer)
  }
}

/** All hive headers, hive bodies and portal bodies + receipts, verified; returns what went wrong on the way. */
async function fetchEverything(pool: Devp2pPool, badPeer: Devp2pPeer): Promise<FetchEvent[]> {
  const events: FetchEvent[] = []
  const opts = { events, choose: badFirst(badPeer, events), deadlineMs: 60_000 }
  const { hiveHeaders, portal } = testChain()
  const headers = await fetchHeaders(pool, 1, 600, opts)
  expect(headers.map((h) => bytesToHex(h.hash))).toEqual(hiveHeaders.map((h) => bytesToHex(h.hash)))
  const portalHeaders = portal.map((p) => p.header)
  const bodies = await fetchByRoots(pool, 'bodies', [...portalHeaders, ...headers.slice(0, 50)], opts)
  const receipts = await fetchByRoots(pool, 'receipts', portalHeaders, opts)
  expect(bodies.size).toBe(portalHeaders.length + 50)
  expect(receipts.size).toBe(portalHeaders.length)
  return events
}

const BANNED: Array<[Misbehavior, string, RequestKind]> = [
  ['garbage', Devp2pErrorCode.InvalidMessage, 'headers'],
  ['bad-mac', Devp2pErrorCode.InvalidMessage, 'headers'],
  ['oversized', Devp2pErrorCode.MessageTooLarge, 'headers'],
  ['too-many-items', Devp2pErrorCode.ProtocolViolation, 'headers'],
  ['wrong-bodies', 'invalid', 'bodies'],
  ['wrong-receipts', 'invalid', 'receipts'],
]

describe('misbehaving peers', () => {
  it.each(BANNED)('a peer sending %s is detected (%s on %s), disconnected and banned; the work completes', async (mode, outcome, kind) => {
    const { pool, badPeer } = await badAndGood(mode)
    const removed = waitForRemoval(pool, badPeer)
    const events = await fetchEverything(pool, badPeer)
    expect(events).toContainEqual({ peer: badPeer.id, kind, outcome })
    expect(await removed).toMatch(outcome === 'invalid' ? /disconnected \(SUBPROTOCOL_ERROR\)/ : new RegExp(outcome))
    expect(pool.isBanned(badPeer.id)).toBe(true)
    expect(pool.peers().map((p) => p.id)).not.toContain(badPeer.id)
  })

  it('a silent peer times out (retryable), is scored below the honest one, and the work completes', async () => {
    const { pool, badPeer, goodPeer } = await badAndGood('silent')
    const events = await fetchEverything(pool, badPeer)
    expect(events).toContainEqual({ peer: badPeer.id, kind: 'headers', outcome: Devp2pErrorCode.Timeout })
    expect(badPeer.stats().kinds.headers.timeouts).toBe(1)
    expect(badPeer.score()).toBeLessThan(goodPeer.score())
    expect(pool.peers()[0]).toBe(goodPeer)
    expect(pool.isBanned(badPeer.id)).toBe(false)
  })

  it('a peer that disconnects mid-request fails the request as retryable; the work completes elsewhere', async () => {
    const { pool, badPeer } = await badAndGood('disconnect')
    const removed = waitForRemoval(pool, badPeer)
    const events = await fetchEverything(pool, badPeer)
    expect(events).toContainEqual({ peer: badPeer.id, kind: 'headers', outcome: Devp2pErrorCode.Disconnected })
    expect(await removed).toMatch(/DISCONNECT_REQUESTED/)
    expect(pool.isBanned(badPeer.id)).toBe(false)
  })

  it('stalls: three timeouts in a row drop the peer (no ban); the static peer is redialled', async () => {
    const bad = await startTestServer({ mode: 'silent' })
    started.push(bad)
    const pool = poolFor(TEST_STATUS, { staticPeers: [bad.enode], rate: { timeoutMs: { min: 300, max: 300 } }, redial: { minMs: 50, maxMs: 50 } })
    started.push(pool)
    await pool.start()
    const [peer] = await waitForPeers(pool, 1)
    const removed = waitForRemoval(pool, peer)
    for (let i = 0; i < 3; i++) {
      const err = await peer.getHeaders({ start: 1, count: 10 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SourceError)
      expect(err).toMatchObject({ code: Devp2pErrorCode.Timeout, retryable: true })
    }
    expect(await removed).toMatch(/TIMEOUT/)
    expect(pool.isBanned(peer.id)).toBe(false)
    const [again] = await waitForPeers(pool, 1)
    expect(again.id).toBe(peer.id)
    expect(again).not.toBe(peer)
  })

  it('an unsolicited response is a protocol violation: the peer is dropped and banned', async () => {
    const { pool, bad, badPeer } = await badAndGood('silent')
    const removed = waitForRemoval(pool, badPeer)
    sendToAll(bad, EthCode.BlockHeaders, unsolicitedHeaders())
    expect(await removed).toMatch(/DEVP2P_PROTOCOL_VIOLATION: unsolicited headers response/)
    expect(pool.isBanned(badPeer.id)).toBe(true)
  })

  it('aborting a request and its queued follower frees the peer at once, at no cost to its score', async () => {
    const { pool, badPeer, goodPeer } = await badAndGood('silent')
    const ctl = new AbortController()
    const first = badPeer.getHeaders({ start: 1, count: 5 }, { signal: ctl.signal, timeoutMs: 60_000 })
    const queued = badPeer.getHeaders({ start: 6, count: 5 }, { signal: ctl.signal, timeoutMs: 60_000 })
    expect(badPeer.stats().kinds.headers).toMatchObject({ inFlight: 1, queued: 1 })
    ctl.abort()
    await expect(first).rejects.toMatchObject({ code: Devp2pErrorCode.Aborted })
    await expect(queued).rejects.toMatchObject({ code: Devp2pErrorCode.Aborted })
    expect(badPeer.stats().kinds.headers).toMatchObject({ inFlight: 0, queued: 0, timeouts: 0, failures: 0 })
    // An aborted request costs the peer nothing.
    expect(badPeer.consecutiveTimeouts).toBe(0)
    expect(pool.peers()).toHaveLength(2)
    expect(await goodPeer.getHeaders({ start: 1, count: 5 })).toHaveLength(5)
  })
})

/**
 * A small test-side fetch loop over a Devp2pPool (the real downloader comes later): it asks one peer
 * at a time, verifies what comes back (header linkage; bodies and receipts matched to headers by
 * root), reports invalid data to the pool, and re-routes failed or unanswered work to another peer
 * until everything is fetched or the deadline passes.
 */
import { bytesToHex, type Bytes } from '../../src/primitives/bytes.js'
import type { BlockHeader } from '../../src/primitives/header.js'
import { SourceError } from '../../src/errors.js'
import type { Devp2pPeer } from '../../src/sources/devp2p/peer.js'
import type { Devp2pPool } from '../../src/sources/devp2p/pool.js'
import type { RequestKind } from '../../src/sources/devp2p/messages.js'
import { bodyRootsKey, headerBodyKey, headerReceiptsKey, linkedHeaders, receiptsRootsKey } from './devp2p-verify.js'

export interface FetchEvent {
  peer: string
  kind: RequestKind
  /** Error code for failed requests, 'invalid' for answers that failed verification. */
  outcome: string
}

export interface FetchOptions {
  /** Picks the peer for the next request; default: the pool's best-scored peer with a free slot. */
  choose?: (peers: Devp2pPeer[], kind: RequestKind) => Devp2pPeer | undefined
  deadlineMs?: number
  /** Failed and rejected requests, in order. */
  events?: FetchEvent[]
}

const DEFAULT_DEADLINE_MS = 240_000

function bestIdle(peers: Devp2pPeer[], kind: RequestKind): Devp2pPeer | undefined {
  return peers.find((p) => p.idleSlots(kind) > 0)
}

async function nextPeer(pool: Devp2pPool, kind: RequestKind, opts: FetchOptions, deadline: number): Promise<Devp2pPeer> {
  const choose = opts.choose ?? bestIdle
  for (;;) {
    const peer = choose(pool.peers(), kind)
    if (peer) return peer
    if (Date.now() > deadline) throw new Error(`no usable peer for ${kind} before the deadline`)
    // Wait for a peer to (re)connect or a slot to free up.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        pool.off('peer:added', done)
        resolve()
      }
      const timer = setTimeout(done, 50)
      pool.on('peer:added', done)
    })
  }
}

/** Records a failed request and yields to I/O, so a peer that fails at once cannot starve the event loop. */
async function record(opts: FetchOptions, peer: Devp2pPeer, kind: RequestKind, outcome: string): Promise<void> {
  opts.events?.push({ peer: peer.id, kind, outcome })
  await new Promise((resolve) => setImmediate(resolve))
}

/** Headers from..to (inclusive), linked by hash; `parent` anchors the first one when given. */
export async function fetchHeaders(pool: Devp2pPool, from: number, to: number, opts: FetchOptions = {}, parent?: BlockHeader): Promise<BlockHeader[]> {
  const deadline = Date.now() + (opts.deadlineMs ?? DEFAULT_DEADLINE_MS)
  const out: BlockHeader[] = []
  while (from + out.length <= to) {
    const next = from + out.length
    const peer = await nextPeer(pool, 'headers', opts, deadline)
    let raws: Bytes[]
    try {
      raws = await peer.getHeaders({ start: next, count: to - next + 1 })
    } catch (err) {
      await record(opts, peer, 'headers', err instanceof SourceError ? err.code : String(err))
      continue
    }
    try {
      const headers = linkedHeaders(raws, out.at(-1) ?? parent)
      if (headers.length > 0 && headers[0].number !== next) throw new Error(`asked for ${next}, got ${headers[0].number}`)
      out.push(...headers)
    } catch (err) {
      pool.report(peer, 'invalid-data', String(err))
      await record(opts, peer, 'headers', 'invalid')
    }
  }
  return out
}

/**
 * Bodies or receipts for `headers`, keyed by block hash (hex). An answer item that matches no
 * requested header's roots is invalid data: the peer is reported and the rest is asked elsewhere.
 */
export async function fetchByRoots(pool: Devp2pPool, kind: 'bodies' | 'receipts', headers: readonly BlockHeader[], opts: FetchOptions = {}): Promise<Map<string, Bytes>> {
  const deadline = Date.now() + (opts.deadlineMs ?? DEFAULT_DEADLINE_MS)
  const itemKey = kind === 'bodies' ? bodyRootsKey : receiptsRootsKey
  const headerKey = kind === 'bodies' ? headerBodyKey : headerReceiptsKey
  const pending = new Map(headers.map((h) => [bytesToHex(h.hash), h]))
  const out = new Map<string, Bytes>()
  while (pending.size > 0) {
    const peer = await nextPeer(pool, kind, opts, deadline)
    const batch = [...pending.values()].slice(0, peer.capacity(kind))
    let items: Bytes[]
    try {
      const hashes = batch.map((h) => h.hash)
      items = kind === 'bodies' ? await peer.getBodies(hashes) : await peer.getReceipts(hashes)
    } catch (err) {
      await record(opts, peer, kind, err instanceof SourceError ? err.code : String(err))
      continue
    }
    let invalid = 0
    for (const raw of items) {
      const key = itemKey(raw)
      const header = key === undefined ? undefined : batch.find((h) => pending.has(bytesToHex(h.hash)) && headerKey(h) === key)
      if (header === undefined) {
        invalid++
        continue
      }
      pending.delete(bytesToHex(header.hash))
      out.set(bytesToHex(header.hash), raw)
    }
    if (invalid > 0) {
      pool.report(peer, 'invalid-data', `${invalid} ${kind} item(s) match no requested block`)
      await record(opts, peer, kind, 'invalid')
    }
  }
  return out
}

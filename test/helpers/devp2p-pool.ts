/** Pool setup shared by the devp2p tests: status from a fixture, wait for peers by condition. */
import type { Bytes } from '../../src/primitives/bytes.js'
import type { Devp2pPeer } from '../../src/sources/devp2p/peer.js'
import { Devp2pPool, type Devp2pPoolOptions } from '../../src/sources/devp2p/pool.js'
import type { ForkId } from '../../src/sources/devp2p/messages.js'

export interface ChainStatus {
  networkId: bigint
  genesisHash: Bytes
  forkId: ForkId
}

/** A pool that announces genesis as its head (a syncer starting from scratch). */
export function poolFor(status: ChainStatus, opts: Partial<Devp2pPoolOptions> = {}): Devp2pPool {
  return new Devp2pPool({
    networkId: status.networkId,
    genesisHash: status.genesisHash,
    forkId: status.forkId,
    head: { number: 0, hash: status.genesisHash },
    ...opts,
  })
}

/** Resolves once `count` peers are connected (handshake and head lookup done), or rejects after `timeoutMs`. */
export function waitForPeers(pool: Devp2pPool, count: number, timeoutMs = 60_000): Promise<Devp2pPeer[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const peers = pool.peers()
      if (peers.length < count) return false
      cleanup()
      resolve(peers)
      return true
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`only ${pool.peers().length} of ${count} peers connected within ${timeoutMs} ms`))
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      pool.off('peer:added', check)
    }
    pool.on('peer:added', check)
    check()
  })
}

/** Resolves with the reason when `peer` is removed from the pool. */
export function waitForRemoval(pool: Devp2pPool, peer: Devp2pPeer, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const onRemoved = (p: unknown, reason: string) => {
      if (p !== peer) return
      cleanup()
      resolve(reason)
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`peer not removed within ${timeoutMs} ms`))
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      pool.off('peer:removed', onRemoved)
    }
    if (peer.closed) {
      cleanup()
      resolve('already closed')
      return
    }
    pool.on('peer:removed', onRemoved)
  })
}

/** Polls a condition (state owned by sockets and timers elsewhere) until it holds. */
export async function waitUntil(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * eth/68 against a real EthereumJS client (patched GetReceipts) serving geth's devp2p test chains:
 * every block's header, body and receipts are fetched and verified (hash chain, body roots, receipts
 * root and bloom). The client only speaks eth/66-68, so the pool (offering 69-66) negotiates 68.
 *
 * Block 11 of the hive chain has 10.6 MB of receipts (geth's test block for eth/70 partial receipt
 * lists): no eth/68 or eth/69 message can carry it under the protocol's 10 MiB limit. The full fetch
 * raises the limit to RLPx's 16 MiB frame size; a separate test shows the default limit at work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SourceError } from '../../../src/errors.js'
import { bytesToHex } from '../../../src/primitives/bytes.js'
import { BlockBody } from '../../../src/primitives/body.js'
import { decodeBlockReceipts } from '../../../src/primitives/receipt.js'
import { Devp2pErrorCode } from '../../../src/sources/devp2p/errors.js'
import type { Devp2pPool } from '../../../src/sources/devp2p/pool.js'
import { fetchByRoots, fetchHeaders, type FetchEvent } from '../../helpers/devp2p-fetch.js'
import { poolFor, waitForPeers, waitForRemoval } from '../../helpers/devp2p-pool.js'
import { startEthjsClient, type ChainName, type EthjsClient } from '../../helpers/ethjs-client.js'
import { keccak256 as keccakOf } from '../../../src/primitives/keccak.js'

for (const name of ['hive', 'legacy'] as const satisfies readonly ChainName[]) {
  describe(`EthereumJS client serving the ${name} chain over eth/68`, () => {
    let client: EthjsClient
    let pool: Devp2pPool

    beforeAll(async () => {
      client = await startEthjsClient(name)
      // The client serves ~25 blocks/s and shares two cores with other tests: generous timeouts.
      pool = poolFor(client.fixture, {
        staticPeers: [client.enode],
        maxMessageBytes: 16 * 1024 * 1024,
        rate: { timeoutMs: { min: 30_000, max: 60_000 } },
      })
      await pool.start()
      await waitForPeers(pool, 1)
    }, 300_000)

    afterAll(async () => {
      await pool?.stop()
      await client?.stop()
    })

    it('negotiates eth/68 with the EIP-2124 fork id and learns the head from the Status hash', () => {
      const [peer] = pool.peers()
      expect(peer.version).toBe(68)
      expect(peer.conn.clientName).toMatch(/^EthereumJS\//)
      expect(peer.wire.remoteStatus?.forkId.hash).toEqual(client.fixture.forkId.hash)
      expect(peer.head()?.number).toBe(client.fixture.head.number)
      expect(bytesToHex(peer.head()!.hash)).toBe(bytesToHex(client.fixture.head.hash))
    })

    it('fetches and verifies the header, body and receipts of every block', async () => {
      const f = client.fixture
      const events: FetchEvent[] = []
      const headers = await fetchHeaders(pool, 0, f.head.number, { events })
      expect(headers).toHaveLength(f.head.number + 1)
      expect(bytesToHex(headers[0].hash)).toBe(bytesToHex(f.genesisHash))
      expect(bytesToHex(headers.at(-1)!.hash)).toBe(bytesToHex(f.head.hash))

      const [bodies, receipts] = await Promise.all([fetchByRoots(pool, 'bodies', headers, { events }), fetchByRoots(pool, 'receipts', headers, { events })])
      expect(bodies.size).toBe(headers.length)
      expect(receipts.size).toBe(headers.length)
      expect(events.filter((e) => e.outcome === 'invalid')).toEqual([])

      // The chain content the roots vouch for: tx and receipt counts agree, every tx type shows up.
      const txTypes = new Set<number>()
      let txs = 0
      let ommers = 0
      for (const h of headers) {
        const body = BlockBody.decode(bodies.get(bytesToHex(h.hash))!)
        const blockReceipts = decodeBlockReceipts(receipts.get(bytesToHex(h.hash))!)
        expect(blockReceipts).toHaveLength(body.transactions().length)
        for (const [i, tx] of body.transactions().entries()) {
          txTypes.add(tx.type)
          expect(blockReceipts[i].type).toBe(tx.type)
          expect(blockReceipts[i].encoding).toBe('eth68')
        }
        txs += body.transactions().length
        ommers += body.ommerHeadersRaw().length
      }
      expect(txs).toBeGreaterThan(0)
      if (name === 'hive') expect([...txTypes].sort()).toEqual([0, 1, 2, 3, 4])
      else expect(ommers).toBeGreaterThan(0)

      const stats = pool.stats().peers[0]
      expect(stats.kinds.bodies.items).toBeGreaterThanOrEqual(headers.length)
      expect(stats.kinds.receipts.timeouts).toBe(0)
      console.info(`${name}: ${headers.length} blocks, ${txs} txs; peer stats ${JSON.stringify({ rttMs: stats.rttMs, bytesPerSecond: Math.round(stats.bytesPerSecond), kinds: stats.kinds })}`)
    }, 300_000)

    if (name === 'hive') {
      it('drops and bans a peer whose Receipts message declares more than 10 MiB, before decompressing it', async () => {
        const strict = poolFor(client.fixture, { staticPeers: [client.enode] })
        try {
          await strict.start()
          const [peer] = await waitForPeers(strict, 1)
          const [block11] = await peer.getHeaders({ start: 11, count: 1 })
          const removed = waitForRemoval(strict, peer)
          const err = await peer.getReceipts([keccakOf(block11)]).catch((e: unknown) => e)
          expect(err).toBeInstanceOf(SourceError)
          expect((err as SourceError).code).toBe(Devp2pErrorCode.MessageTooLarge)
          expect((err as SourceError).details).toMatchObject({ maxBytes: 10 * 1024 * 1024 })
          await removed
          expect(strict.isBanned(peer.id)).toBe(true)
          expect(strict.peers()).toEqual([])
        } finally {
          await strict.stop()
        }
      })
    }
  })
}

/**
 * Baseline for devp2p: the replay peers' raw serve rate, measured by a bare request loop on the
 * project's RLPx/eth wire (no validation, no store, no adaptive request sizing): per chunk of
 * `--chunk` blocks, GetBlockHeaders, then GetBlockBodies and GetReceipts for the chunk's hashes,
 * re-asking for the rest when an answer stops at the peer's 2 MiB soft cap. `--lanes` chunks in
 * flight per peer. Header hashes are keccak'd (that is how bodies are asked for); nothing else is
 * decoded. `--headers-only` asks for headers alone (the serve rate a headers-only sync compares to).
 *
 *   tsx bench/baselines/p2p-loop.ts --peers ENODE[,ENODE...] --genesis genesis.json --to N [--chunk 128 --lanes 2 --headers-only]
 */
import { parseArgs } from 'node:util'
import { loadChain } from '../../src/chain/chains.js'
import { keccak256 } from '../../src/primitives/keccak.js'
import type { Bytes } from '../../src/primitives/bytes.js'
import { encodeGetBlockHeaders, encodeHashesRequest, type RequestKind } from '../../src/sources/devp2p/messages.js'
import type { Devp2pPeer } from '../../src/sources/devp2p/peer.js'
import { Devp2pPool } from '../../src/sources/devp2p/pool.js'
import { report } from '../lib/client-args.js'

const { values } = parseArgs({
  options: {
    peers: { type: 'string' },
    genesis: { type: 'string' },
    from: { type: 'string', default: '1' },
    to: { type: 'string' },
    chunk: { type: 'string', default: '128' },
    lanes: { type: 'string', default: '2' },
    'headers-only': { type: 'boolean', default: false },
  },
})
if (!values.peers || !values.genesis || !values.to) throw new Error('--peers, --genesis and --to are required')
const enodes = values.peers.split(',')
const from = Math.max(1, Number(values.from))
const to = Number(values.to)
const chunk = Number(values.chunk)
const lanes = Number(values.lanes)
const TIMEOUT_MS = 30_000
const MAX_HEADERS = 1024

const chain = loadChain(values.genesis)
const pool = new Devp2pPool({
  networkId: chain.networkId,
  genesisHash: chain.genesis.hash,
  forkId: chain.forkId(0, Number(chain.genesisHeader.timestamp)),
  forkFilter: () => undefined,
  head: { number: 0, hash: chain.genesis.hash },
  staticPeers: enodes,
})
await pool.start()
const connected = await new Promise<Devp2pPeer[]>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`only ${pool.peers().length} of ${enodes.length} peers connected`)), 30_000)
  const check = () => {
    if (pool.peers().length < enodes.length) return
    clearTimeout(timer)
    pool.off('peer:added', check)
    resolve(pool.peers() as Devp2pPeer[])
  }
  pool.on('peer:added', check)
  check()
})

/** Every item for `hashes`, re-asking for the rest after a short (soft-capped) answer. */
async function allByHash(peer: Devp2pPeer, kind: RequestKind, hashes: Bytes[]): Promise<number> {
  let done = 0
  while (done < hashes.length) {
    const ask = hashes.slice(done)
    const res = await peer.wire.request(kind, (id) => encodeHashesRequest(id, ask), ask.length, TIMEOUT_MS)
    if (res.items.length === 0) throw new Error(`${peer.id}: empty ${kind} answer`)
    done += res.items.length
  }
  return done
}

let next = from
let blocks = 0
const started = performance.now()
async function lane(peer: Devp2pPeer): Promise<void> {
  while (next <= to) {
    const start = next
    const count = Math.min(chunk, to - start + 1)
    next += count
    const hashes: Bytes[] = []
    while (hashes.length < count) {
      const origin = start + hashes.length
      const amount = Math.min(MAX_HEADERS, count - hashes.length)
      const res = await peer.wire.request('headers', (id) => encodeGetBlockHeaders(id, { origin, amount, skip: 0, reverse: false }), amount, TIMEOUT_MS)
      if (res.items.length === 0) throw new Error(`${peer.id}: no headers from ${origin}`)
      for (const header of res.items) hashes.push(keccak256(header))
    }
    if (!values['headers-only']) await Promise.all([allByHash(peer, 'bodies', hashes), allByHash(peer, 'receipts', hashes)])
    blocks += count
  }
}
await Promise.all(connected.flatMap((peer) => Array.from({ length: lanes }, () => lane(peer))))
const seconds = (performance.now() - started) / 1000
await pool.stop()
report({ client: `p2p loop peers=${connected.length}`, blocks, seconds, settings: { peers: connected.length, chunk, lanes, headersOnly: values['headers-only'] } })

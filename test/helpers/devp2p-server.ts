/**
 * Test peers built on the project's eth server (`src/sources/devp2p/testing`): a chain in memory
 * made of geth's hive test chain (blocks 1-600: headers and bodies) and the eight real mainnet
 * blocks of portal-spec-tests (headers, bodies and eth/69 receipts), served honestly or with one of
 * several kinds of misbehaviour.
 */
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { hexToBytes, type Bytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { decodeItem, encode, Encoded, encodeListOfEncoded, listItems, rawOf } from '../../src/primitives/rlp.js'
import { REQUEST_CODES, type EthVersion, type ForkId, type RequestKind } from '../../src/sources/devp2p/messages.js'
import { MemoryChain } from '../../src/sources/devp2p/testing/memory-chain.js'
import { Devp2pServer } from '../../src/sources/devp2p/testing/server.js'
import { DISCONNECT_REASON } from '../../src/sources/devp2p/transport.js'
import type { EthRequestHandler, ServeContext } from '../../src/sources/devp2p/wire.js'
import { fixturePath, PORTAL_BLOCKS, readPortalBlock } from '../fixtures.js'
import type { ChainStatus } from './devp2p-pool.js'

/** Status of the test chain; the test server accepts any fork id, the pool is given the same one. */
export const TEST_STATUS: ChainStatus = {
  networkId: 1n,
  // hive chain genesis: block 1's parent
  genesisHash: hexToBytes('0xbd6a252af394d80904c5993b859574bd4669642cea00a116970ec7887db67533'),
  forkId: { hash: hexToBytes('0x377aaa78'), next: 0n } satisfies ForkId,
}

export interface TestChain {
  chain: MemoryChain
  /** Hive chain headers 1..600, decoded (for header fetch checks). */
  hiveHeaders: BlockHeader[]
  /** The portal blocks: header decoded, raw receipts in eth/69 form as in the fixture. */
  portal: Array<{ header: BlockHeader; body: Bytes; receipts: Bytes }>
}

let cached: TestChain | undefined

export function testChain(): TestChain {
  if (cached) return cached
  const chain = new MemoryChain()
  const rlp = new Uint8Array(readFileSync(fixturePath('go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata', 'chain.rlp')))
  const hiveHeaders = chain.addBlocksFile(rlp).map((b) => BlockHeader.decode(b.header))
  const portal = PORTAL_BLOCKS.map((n) => {
    const p = readPortalBlock(n)
    const block = chain.add(hexToBytes(p.header), hexToBytes(p.body), hexToBytes(p.receipts))
    return { header: BlockHeader.decode(block.header), body: block.body, receipts: hexToBytes(p.receipts) }
  })
  cached = { chain, hiveHeaders, portal }
  return cached
}

export type Misbehavior = 'silent' | 'garbage' | 'bad-mac' | 'wrong-bodies' | 'wrong-receipts' | 'disconnect' | 'oversized' | 'too-many-items'

/** Truncated RLP: a long list that claims 64 payload bytes and has one. */
const GARBAGE = Uint8Array.of(0xf8, 0x40, 0x01)

/** A snappy stream declaring 11 MiB (above the eth limit) followed by a few bytes. */
function forgedOversizedSnappy(): Bytes {
  let n = 11 * 1024 * 1024
  const varint: number[] = []
  while (n >= 0x80) {
    varint.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  varint.push(n)
  return Uint8Array.from([...varint, 0x00, 0x01, 0x02, 0x03])
}

/** Appends one extra item to the list at `path` inside `raw` (a body's tx list, a receipt list). */
function appendItem(raw: Bytes, extra: Bytes, path: number[] = []): Bytes {
  const items = listItems(raw, decodeItem(raw)).map((it) => rawOf(raw, it))
  if (path.length === 0) return encodeListOfEncoded([...items, extra])
  const [i, ...rest] = path
  items[i] = appendItem(items[i], extra, rest)
  return encodeListOfEncoded(items)
}

/** First item of a list (a transaction of a body's tx list, a receipt of a receipt list). */
function firstItem(raw: Bytes, path: number[]): Bytes {
  let buf = raw
  for (const i of path) buf = rawOf(buf, listItems(buf, decodeItem(buf))[i])
  return rawOf(buf, listItems(buf, decodeItem(buf))[0])
}

function forEveryKind(act: (kind: RequestKind, ctx: ServeContext) => Bytes[] | undefined): Partial<EthRequestHandler> {
  return {
    headers: (_q, ctx) => act('headers', ctx),
    bodies: (_h, ctx) => act('bodies', ctx),
    receipts: (_h, ctx) => act('receipts', ctx),
  }
}

function misbehaving(mode: Misbehavior, chain: MemoryChain): Partial<EthRequestHandler> {
  switch (mode) {
    case 'silent':
      return forEveryKind(() => undefined)
    case 'garbage':
      return forEveryKind((kind, ctx) => {
        ctx.wire.sendMessage(REQUEST_CODES[kind].response, GARBAGE)
        return undefined
      })
    case 'bad-mac':
      // An (empty) answer whose frame body has one bit flipped on the way out: its MAC fails.
      return forEveryKind((_kind, ctx) => {
        const socket = (ctx.wire.conn as unknown as { _socket: Socket })._socket
        const write = socket.write
        let writes = 0
        socket.write = ((chunk: Uint8Array) => {
          // Header, then body: flip the body's first bit.
          if (++writes < 2) return write.call(socket, chunk)
          socket.write = write
          const flipped = Uint8Array.from(chunk)
          flipped[0] ^= 1
          return write.call(socket, flipped)
        }) as typeof socket.write
        return []
      })
    case 'oversized':
      return forEveryKind((kind, ctx) => {
        ctx.wire.sendWireBytes(REQUEST_CODES[kind].response, forgedOversizedSnappy())
        return undefined
      })
    case 'disconnect':
      return forEveryKind((_kind, ctx) => {
        ctx.wire.conn.close(DISCONNECT_REASON.DISCONNECT_REQUESTED)
        return undefined
      })
    case 'too-many-items':
      // Every header it has, whatever was asked.
      return { headers: () => testChain().hiveHeaders.map((h) => h.raw) }
    // Well-formed data that is wrong for every block asked: one transaction / receipt too many.
    case 'wrong-bodies': {
      const extraTx = firstItem(testChain().portal[0].body, [0])
      return { bodies: (hashes) => hashes.flatMap((h) => chain.get(h)?.body ?? []).map((body) => appendItem(body, extraTx, [0])) }
    }
    case 'wrong-receipts':
      return {
        receipts: (hashes, ctx) => {
          const all = hashes.flatMap((h) => {
            const block = chain.get(h)
            return (block && chain.receiptsFor(block, ctx.wire.version)) ?? []
          })
          return all.map((receipts) => appendItem(receipts, firstItem(all[0], [])))
        },
      }
  }
}

export interface ServerOptions {
  versions?: readonly EthVersion[]
  mode?: Misbehavior
  status?: ChainStatus
}

export async function startTestServer(opts: ServerOptions = {}): Promise<Devp2pServer> {
  const { chain } = testChain()
  const status = opts.status ?? TEST_STATUS
  const server = new Devp2pServer({
    chain,
    networkId: status.networkId,
    genesisHash: status.genesisHash,
    forkId: status.forkId,
    versions: opts.versions,
    handler: opts.mode && misbehaving(opts.mode, chain),
    clientId: `test-server/${opts.mode ?? 'honest'}`,
  })
  await server.start()
  return server
}

/** Sends a message the pool never asked for, on every session of the server. */
export function sendToAll(server: Devp2pServer, code: number, payload: Bytes): void {
  for (const wire of server.sessions) wire.sendMessage(code, payload)
}

/** An unsolicited BlockHeaders response (request id nobody issued). */
export function unsolicitedHeaders(): Bytes {
  return encode([0xdeadbeefn, [new Encoded(testChain().hiveHeaders[0].raw)]])
}

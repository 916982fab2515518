/**
 * A small eth/66-69 server on the same RLPx transport, serving a `MemoryChain`: the counterpart for
 * eth/69 end-to-end tests, for misbehaving-peer tests (handlers can be overridden per request kind)
 * and for throughput benchmarks. It serves like geth: at most 1024 items per request and stops
 * filling a response at the 2 MiB soft limit; unknown blocks are skipped.
 */
import type { Server, Socket } from 'node:net'
import type { Bytes } from '../../../primitives/bytes.js'
import { formatEnode } from '../enode.js'
import { ETH_VERSIONS, type EthVersion, type ForkId, type HeadersQuery } from '../messages.js'
import { DISCONNECT_REASON, generateNodeKey, listen, MAX_ETH_MESSAGE_BYTES, nodeIdOf, RlpxConnection, type ConnectionConfig } from '../transport.js'
import type { EthRequestHandler, EthWire, ForkFilter } from '../wire.js'
import type { MemoryChain, StoredBlock } from './memory-chain.js'

export const SERVE_LIMITS = { maxItems: 1024, softResponseBytes: 2 * 1024 * 1024 }

export interface Devp2pServerOptions {
  chain: MemoryChain
  networkId: bigint
  genesisHash: Bytes
  forkId: ForkId
  versions?: readonly EthVersion[]
  host?: string
  port?: number
  privateKey?: Bytes
  /** Default: accept any fork id. */
  forkFilter?: ForkFilter
  /** Replaces the chain-serving handler for some request kinds (misbehaving peers in tests). */
  handler?: Partial<EthRequestHandler>
  clientId?: string
}

export class Devp2pServer {
  readonly nodeId: Bytes
  readonly chain: MemoryChain
  /** Sessions whose Status exchange completed. */
  readonly sessions = new Set<EthWire>()
  private readonly connections = new Set<RlpxConnection>()
  private readonly config: ConnectionConfig
  private server: Server | undefined
  private readonly served = { headers: 0, bodies: 0, receipts: 0, bytes: 0, accepted: 0 }

  constructor(private readonly opts: Devp2pServerOptions) {
    this.chain = opts.chain
    const privateKey = opts.privateKey ?? generateNodeKey()
    this.nodeId = nodeIdOf(privateKey)
    const chain = opts.chain
    const serving: EthRequestHandler = {
      headers: (q) => this.count('headers', this.headers(q)),
      bodies: (hashes) => this.count('bodies', this.collect(hashes, (b) => b.body)),
      receipts: (hashes, ctx) => this.count('receipts', this.collect(hashes, (b) => chain.receiptsFor(b, ctx.wire.version))),
    }
    this.config = {
      privateKey,
      nodeId: this.nodeId,
      clientId: opts.clientId ?? 'evm-syncer/test-server',
      listenPort: opts.port,
      pingTimeoutMs: 20_000,
      handshakeTimeoutMs: 10_000,
      maxMessageBytes: MAX_ETH_MESSAGE_BYTES,
      eth: {
        versions: opts.versions ?? ETH_VERSIONS,
        status: () => {
          const head = chain.head()
          return { networkId: opts.networkId, genesisHash: opts.genesisHash, forkId: opts.forkId, head: { number: head.number, hash: head.hash }, earliestBlock: chain.earliest().number }
        },
        forkFilter: opts.forkFilter ?? (() => undefined),
        handler: { ...serving, ...opts.handler },
        maxServeItems: SERVE_LIMITS.maxItems,
      },
    }
  }

  async start(): Promise<void> {
    this.server = await listen(this.opts.host ?? '127.0.0.1', this.opts.port ?? 0, (socket) => this.accept(socket))
  }

  get port(): number {
    const addr = this.server?.address()
    if (!addr || typeof addr === 'string') throw new RangeError('server not started')
    return addr.port
  }

  get enode(): string {
    return formatEnode({ id: this.nodeId, host: this.opts.host ?? '127.0.0.1', tcpPort: this.port, udpPort: this.port })
  }

  /** Items and bytes served so far (plain object). */
  stats(): { headers: number; bodies: number; receipts: number; bytes: number; accepted: number; connections: number } {
    return { ...this.served, connections: this.connections.size }
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    const closing = [...this.connections].map((c) => {
      c.close(DISCONNECT_REASON.CLIENT_QUITTING)
      return c.closed
    })
    await Promise.all([...closing, server && new Promise<void>((resolve) => server.close(() => resolve()))])
  }

  private accept(socket: Socket): void {
    const conn = new RlpxConnection(this.config, socket, null)
    this.served.accepted++
    this.connections.add(conn)
    conn.ready.then(
      (wire) => this.sessions.add(wire),
      () => {},
    )
    void conn.closed.then(() => {
      this.connections.delete(conn)
      if (conn.wire) this.sessions.delete(conn.wire)
    })
  }

  private count(kind: 'headers' | 'bodies' | 'receipts', items: Bytes[]): Bytes[] {
    this.served[kind] += items.length
    for (const it of items) this.served.bytes += it.length
    return items
  }

  private headers(q: HeadersQuery): Bytes[] {
    const first = typeof q.origin === 'number' ? this.chain.byNumberOf(q.origin) : this.chain.get(q.origin)
    const out: Bytes[] = []
    if (!first) return out
    const step = (q.skip + 1) * (q.reverse ? -1 : 1)
    let bytes = 0
    for (let n = first.number, i = 0; i < Math.min(q.amount, SERVE_LIMITS.maxItems) && n >= 0; i++, n += step) {
      const block = this.chain.byNumberOf(n)
      if (!block || bytes >= SERVE_LIMITS.softResponseBytes) break
      out.push(block.header)
      bytes += block.header.length
    }
    return out
  }

  private collect(hashes: Bytes[], pick: (b: StoredBlock) => Bytes | undefined): Bytes[] {
    const out: Bytes[] = []
    let bytes = 0
    for (const hash of hashes) {
      if (bytes >= SERVE_LIMITS.softResponseBytes) break
      const block = this.chain.get(hash)
      const item = block && pick(block)
      if (item === undefined) continue
      out.push(item)
      bytes += item.length
    }
    return out
  }
}

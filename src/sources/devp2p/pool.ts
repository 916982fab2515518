/**
 * The devp2p peer pool: keeps static peers connected (redial with exponential backoff), optionally
 * finds more through discovery v4, accepts inbound connections if asked to listen, enforces
 * `maxPeers`, and turns faults into scores, disconnects and bans.
 *
 * Fault policy (peers are untrusted):
 *  - invalid data / protocol violation (reported by the caller after validation, or detected here:
 *    malformed or oversized message, unsolicited response) -> disconnect + ban for `banMs`;
 *  - timeout -> the request fails with a retryable DEVP2P_TIMEOUT so the caller re-routes the work;
 *    the peer's rate estimate halves; `maxConsecutiveTimeouts` stalls in a row -> disconnect (no ban);
 *  - useless (caller's judgement, e.g. never has the data) -> disconnect + short ban;
 *  - empty or short answers are normal ("don't have it") and cost nothing.
 */
import { EventEmitter } from 'node:events'
import type { Server, Socket } from 'node:net'
import { DPT, type PeerInfo } from '@ethereumjs/devp2p'
import { ConfigError, SourceError, errorMessage } from '../../errors.js'
import { silentLogger, type Logger } from '../../logger.js'
import { equalBytes, type Bytes } from '../../primitives/bytes.js'
import type { PeerFault, SourcePeer, SourcePool, SourcePoolEvents } from '../types.js'
import { formatEnode, nodeIdHex, parseEnode, type Enode } from './enode.js'
import { devp2pError, Devp2pErrorCode, PEER_FAULT_CODES } from './errors.js'
import { encodeBlockRangeUpdate, EthCode, ETH_VERSIONS, type EthVersion, type ForkId, type RequestKind } from './messages.js'
import { Devp2pPeer, type Devp2pPeerStats, type PeerHooks } from './peer.js'
import { DEFAULT_RATE_SETTINGS, RateTrackers, type RateSettings } from './rate.js'
import {
  dial,
  disconnectReasonName,
  DISCONNECT_REASON,
  generateNodeKey,
  listen,
  MAX_ETH_MESSAGE_BYTES,
  nodeIdOf,
  RlpxConnection,
  type CloseInfo,
  type ConnectionConfig,
} from './transport.js'
import { EMPTY_HANDLER, type ForkFilter, type LocalStatus } from './wire.js'

export interface Devp2pPoolOptions {
  networkId: bigint
  genesisHash: Bytes
  /** Our fork id (EIP-2124), as the chain adapter computes it for `head`. */
  forkId: ForkId
  /** The head we announce in Status (a syncer announces what it has, often just genesis). */
  head: { number: number; hash: Bytes; td?: bigint }
  /**
   * Decides on a remote fork id: returns a reason to reject it. Default: accept only our own fork
   * hash. Chain adapters pass a full EIP-2124 filter (past / future forks of the schedule).
   */
  forkFilter?: ForkFilter
  /** Offered eth versions (default 69, 68, 67, 66; the highest common one is used). */
  versions?: readonly EthVersion[]
  /** Node key (32 bytes); random when omitted. */
  privateKey?: Bytes
  clientId?: string
  /** enode:// URLs kept connected. */
  staticPeers?: readonly string[]
  maxPeers?: number
  /** Discovery v4 (UDP), off when omitted. */
  discovery?: { bootnodes: readonly string[]; host?: string; udpPort?: number; refreshIntervalMs?: number }
  /** Accept inbound RLPx connections (off when omitted). Port 0 picks a free port. */
  listen?: { host: string; port: number }
  dialTimeoutMs?: number
  /** TCP connect to a completed eth Status exchange. */
  handshakeTimeoutMs?: number
  /** Missing Pong after the library's 15 s Ping. */
  pingTimeoutMs?: number
  banMs?: number
  uselessBanMs?: number
  maxConsecutiveTimeouts?: number
  redial?: { minMs: number; maxMs: number }
  maxInFlight?: Partial<Record<RequestKind, number>>
  rate?: Partial<RateSettings>
  maxMessageBytes?: number
  logger?: Logger
}

export interface Devp2pPoolStats {
  nodeId: string
  enode: string | undefined
  connected: number
  handshaking: number
  banned: number
  targetRttMs: number
  peers: Devp2pPeerStats[]
}

interface StaticPeer {
  enode: Enode
  idHex: string
  attempts: number
  timer: NodeJS.Timeout | undefined
}

interface Session {
  conn: RlpxConnection
  peer: Devp2pPeer | undefined
  static: StaticPeer | undefined
}

type PoolEvents = { [E in keyof SourcePoolEvents]: Parameters<SourcePoolEvents[E]> }

const DEFAULTS = {
  clientId: 'evm-syncer/devp2p',
  maxPeers: 25,
  dialTimeoutMs: 5000,
  handshakeTimeoutMs: 10_000,
  pingTimeoutMs: 20_000,
  banMs: 30 * 60_000,
  uselessBanMs: 5 * 60_000,
  maxConsecutiveTimeouts: 3,
  redial: { minMs: 1000, maxMs: 60_000 },
  // One request per kind per peer, like geth's downloader: capacity x RTT already fills the pipe.
  maxInFlight: { headers: 1, bodies: 1, receipts: 1 },
  /** A session that lasted this long resets the static peer's backoff. */
  stableSessionMs: 60_000,
  discoveryRefillMs: 5000,
}

export class Devp2pPool implements SourcePool {
  readonly kind = 'devp2p' as const
  readonly nodeId: Bytes
  private readonly opts: Devp2pPoolOptions
  private readonly log: Logger
  private readonly privateKey: Bytes
  private readonly config: ConnectionConfig
  private readonly hooks: PeerHooks
  private readonly rates: RateTrackers
  private readonly events = new EventEmitter<PoolEvents>()
  private readonly sessions = new Set<Session>()
  private readonly byId = new Map<string, Session>()
  /** Node ids being dialled (TCP connect not done yet). */
  private readonly dialing = new Set<string>()
  /** Dials in flight, awaited by stop() so nothing outlives the pool. */
  private readonly dials = new Set<Promise<void>>()
  private readonly statics = new Map<string, StaticPeer>()
  private readonly bans = new Map<string, number>()
  private localStatus: LocalStatus
  private server: Server | undefined
  private dpt: DPT | undefined
  private refillTimer: NodeJS.Timeout | undefined
  private running = false

  constructor(opts: Devp2pPoolOptions) {
    if (opts.genesisHash.length !== 32 || opts.head.hash.length !== 32) throw new ConfigError('BAD_STATUS', 'genesis and head hashes must be 32 bytes')
    if (opts.forkId.hash.length !== 4) throw new ConfigError('BAD_FORK_ID', 'fork hash must be 4 bytes')
    this.opts = opts
    this.log = opts.logger ?? silentLogger()
    this.privateKey = opts.privateKey ?? generateNodeKey()
    this.nodeId = nodeIdOf(this.privateKey)
    this.localStatus = { networkId: opts.networkId, genesisHash: opts.genesisHash, forkId: opts.forkId, head: opts.head }
    const ownFork = opts.forkId.hash
    const forkFilter: ForkFilter = opts.forkFilter ?? ((remote) => (equalBytes(remote.hash, ownFork) ? undefined : 'fork hash differs from ours'))
    this.config = {
      privateKey: this.privateKey,
      nodeId: this.nodeId,
      clientId: opts.clientId ?? DEFAULTS.clientId,
      listenPort: opts.listen?.port,
      pingTimeoutMs: opts.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      maxMessageBytes: opts.maxMessageBytes ?? MAX_ETH_MESSAGE_BYTES,
      eth: { versions: opts.versions ?? ETH_VERSIONS, status: () => this.localStatus, forkFilter, handler: EMPTY_HANDLER, maxServeItems: 1024 },
    }
    this.rates = new RateTrackers({ ...DEFAULT_RATE_SETTINGS, ...opts.rate })
    this.hooks = {
      rates: this.rates,
      maxInFlight: { ...DEFAULTS.maxInFlight, ...opts.maxInFlight },
      onFault: (peer, fault, detail) => this.applyFault(peer, fault, detail, false),
      onHead: (peer, head) => {
        if (this.byId.get(peer.id)?.peer === peer) this.events.emit('peer:head', peer, head)
      },
    }
    for (const url of opts.staticPeers ?? []) {
      const enode = parseEnode(url)
      this.statics.set(nodeIdHex(enode.id), { enode, idHex: nodeIdHex(enode.id), attempts: 0, timer: undefined })
    }
  }

  get maxPeers(): number {
    return this.opts.maxPeers ?? DEFAULTS.maxPeers
  }

  /** Our enode URL when listening. */
  enode(): string | undefined {
    const addr = this.server?.address()
    if (!addr || typeof addr === 'string') return undefined
    return formatEnode({ id: this.nodeId, host: addr.address, tcpPort: addr.port, udpPort: this.opts.discovery?.udpPort ?? addr.port })
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    if (this.opts.listen) {
      this.server = await listen(this.opts.listen.host, this.opts.listen.port, (socket) => this.accept(socket))
    }
    if (this.opts.discovery) this.startDiscovery(this.opts.discovery)
    for (const s of this.statics.values()) this.dialStatic(s)
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    clearInterval(this.refillTimer)
    for (const s of this.statics.values()) clearTimeout(s.timer)
    this.dpt?.destroy()
    this.dpt = undefined
    const closing = [...this.sessions].map((s) => {
      s.conn.close(DISCONNECT_REASON.CLIENT_QUITTING)
      return s.conn.closed
    })
    const server = this.server
    this.server = undefined
    await Promise.all([...closing, ...this.dials, server && new Promise<void>((resolve) => server.close(() => resolve()))])
  }

  /** Connected peers with a completed handshake, best score first. */
  peers(): Devp2pPeer[] {
    const out: Devp2pPeer[] = []
    for (const s of this.sessions) if (s.peer && !s.peer.closed) out.push(s.peer)
    return out.sort((a, b) => b.score() - a.score())
  }

  report(peer: SourcePeer, fault: PeerFault, detail = ''): void {
    if (peer instanceof Devp2pPeer) this.applyFault(peer, fault, detail, true)
  }

  isBanned(id: string): boolean {
    const until = this.bans.get(id)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.bans.delete(id)
    return false
  }

  /** Moves the head we announce; eth/69 peers get a BlockRangeUpdate. */
  /** Our head moved: new handshakes announce it (and its fork id); eth/69 peers are told at once. */
  setLocalHead(head: { number: number; hash: Bytes; td?: bigint }, forkId: ForkId = this.localStatus.forkId): void {
    this.localStatus = { ...this.localStatus, head, forkId }
    const range = encodeBlockRangeUpdate({ earliest: head.number, latest: head.number, latestHash: head.hash })
    for (const peer of this.peers()) if (peer.version >= 69) peer.wire.sendMessage(EthCode.BlockRangeUpdate, range)
  }

  stats(): Devp2pPoolStats {
    const now = Date.now()
    let banned = 0
    for (const until of this.bans.values()) if (until > now) banned++
    const peers = this.peers()
    return {
      nodeId: nodeIdHex(this.nodeId),
      enode: this.enode(),
      connected: peers.length,
      handshaking: this.sessions.size - peers.length,
      banned,
      targetRttMs: this.rates.targetRttMs(),
      peers: peers.map((p) => p.stats()),
    }
  }

  on<E extends keyof SourcePoolEvents>(event: E, listener: SourcePoolEvents[E]): this {
    this.events.on(event, listener as never)
    return this
  }

  off<E extends keyof SourcePoolEvents>(event: E, listener: SourcePoolEvents[E]): this {
    this.events.off(event, listener as never)
    return this
  }

  // -------------------------------------------------------------------------------------------

  private applyFault(peer: Devp2pPeer, fault: PeerFault, detail: string, external: boolean): void {
    const session = this.byId.get(peer.id)
    const live = session !== undefined && session.peer === peer
    switch (fault) {
      case 'invalid-data':
      case 'protocol-violation':
        peer.invalidReports++
        this.log.warn({ peer: peer.label, fault, detail }, 'peer sent invalid data; banning')
        this.ban(peer.id, this.opts.banMs ?? DEFAULTS.banMs)
        if (live) session.conn.close(DISCONNECT_REASON.SUBPROTOCOL_ERROR)
        return
      case 'useless':
        this.log.info({ peer: peer.label, detail }, 'useless peer; dropping')
        this.ban(peer.id, this.opts.uselessBanMs ?? DEFAULTS.uselessBanMs)
        if (live) session.conn.close(DISCONNECT_REASON.USELESS_PEER)
        return
      case 'timeout':
        if (external) peer.noteTimeout()
        this.log.debug({ peer: peer.label, detail, consecutive: peer.consecutiveTimeouts }, 'peer request timed out')
        if (live && peer.consecutiveTimeouts >= (this.opts.maxConsecutiveTimeouts ?? DEFAULTS.maxConsecutiveTimeouts)) {
          this.log.warn({ peer: peer.label, consecutive: peer.consecutiveTimeouts }, 'peer stalls; dropping')
          session.conn.close(DISCONNECT_REASON.TIMEOUT)
        }
        return
      case 'disconnected':
        return
    }
  }

  private ban(id: string, ms: number): void {
    this.bans.set(id, Math.max(this.bans.get(id) ?? 0, Date.now() + ms))
    this.dpt?.banPeer(id, ms)
  }

  private hasRoom(): boolean {
    return this.sessions.size + this.dialing.size < this.maxPeers
  }

  private isKnown(idHex: string): boolean {
    return this.byId.has(idHex) || this.dialing.has(idHex)
  }

  private dialStatic(s: StaticPeer): void {
    s.timer = undefined
    if (!this.running || this.isKnown(s.idHex)) return
    if (this.isBanned(s.idHex) || !this.hasRoom()) {
      this.scheduleRedial(s)
      return
    }
    s.attempts++
    this.dialTarget(s.enode.id, s.enode.host, s.enode.tcpPort, s)
  }

  private scheduleRedial(s: StaticPeer): void {
    if (!this.running || s.timer !== undefined) return
    const { minMs, maxMs } = this.opts.redial ?? DEFAULTS.redial
    const banLeft = (this.bans.get(s.idHex) ?? 0) - Date.now()
    const backoff = Math.min(maxMs, minMs * 2 ** Math.max(0, s.attempts - 1))
    // Jitter keeps many static peers from being redialled in lockstep.
    const delay = Math.max(banLeft, backoff * (0.75 + Math.random() * 0.5))
    s.timer = setTimeout(() => this.dialStatic(s), delay)
  }

  private dialTarget(id: Bytes, host: string, port: number, staticPeer: StaticPeer | undefined): void {
    const idHex = nodeIdHex(id)
    this.dialing.add(idHex)
    const attempt = dial(this.config, { id, host, port }, this.opts.dialTimeoutMs ?? DEFAULTS.dialTimeoutMs).then(
      async (conn) => {
        this.dialing.delete(idHex)
        if (!this.running || this.byId.has(idHex)) {
          conn.close(DISCONNECT_REASON.ALREADY_CONNECTED)
          await conn.closed
          return
        }
        this.adopt(conn, staticPeer, idHex)
      },
      (err: unknown) => {
        this.dialing.delete(idHex)
        this.log.debug({ host, port, err: errorMessage(err) }, 'dial failed')
        if (staticPeer) this.scheduleRedial(staticPeer)
      },
    )
    this.dials.add(attempt)
    void attempt.finally(() => this.dials.delete(attempt))
  }

  private accept(socket: Socket): void {
    if (!this.running || !this.hasRoom()) {
      socket.destroy()
      return
    }
    this.adopt(new RlpxConnection(this.config, socket, null), undefined, undefined)
  }

  /** Tracks a connection; outbound ones are registered under their node id at once, inbound ones when the id is known. */
  private adopt(conn: RlpxConnection, staticPeer: StaticPeer | undefined, idHex: string | undefined): void {
    const session: Session = { conn, peer: undefined, static: staticPeer }
    this.sessions.add(session)
    if (idHex !== undefined) this.byId.set(idHex, session)
    conn.ready.then(
      () => this.onReady(session),
      () => {},
    )
    void conn.closed.then((info) => this.onClosed(session, info))
  }

  private async onReady(session: Session): Promise<void> {
    const { conn } = session
    const wire = conn.wire
    const remoteId = conn.remoteId
    if (wire === undefined || remoteId === null) return
    const idHex = nodeIdHex(remoteId)
    const existing = this.byId.get(idHex)
    if (this.isBanned(idHex)) return conn.close(DISCONNECT_REASON.USELESS_PEER)
    if (existing !== undefined && existing !== session) return conn.close(DISCONNECT_REASON.ALREADY_CONNECTED)
    this.byId.set(idHex, session)
    const peer = new Devp2pPeer(wire, this.hooks)
    try {
      await peer.init(this.config.handshakeTimeoutMs)
    } catch (err) {
      peer.markClosed(err instanceof SourceError ? err : devp2pError(Devp2pErrorCode.HandshakeFailed, errorMessage(err)))
      this.log.debug({ peer: peer.label, err: errorMessage(err) }, 'cannot learn the peer head')
      return conn.fail(err instanceof SourceError ? err : devp2pError(Devp2pErrorCode.InvalidMessage, errorMessage(err), undefined, err))
    }
    if (conn.isClosed) return peer.markClosed(conn.failure ?? devp2pError(Devp2pErrorCode.Disconnected, 'closed during setup'))
    session.peer = peer
    this.log.info({ peer: peer.label, client: conn.clientName, version: wire.version, head: peer.head()?.number }, 'peer connected')
    this.events.emit('peer:added', peer)
  }

  private onClosed(session: Session, info: CloseInfo): void {
    this.sessions.delete(session)
    const remoteId = session.conn.remoteId
    const idHex = remoteId === null ? undefined : nodeIdHex(remoteId)
    if (idHex !== undefined && this.byId.get(idHex) === session) this.byId.delete(idHex)
    const error = info.error
    const reason = error ? `${error.code}: ${error.message}` : `${info.byUs ? 'we' : 'peer'} disconnected (${disconnectReasonName(info.reason)})`
    if (error && PEER_FAULT_CODES.has(error.code) && idHex !== undefined) {
      this.log.warn({ peer: idHex.slice(0, 8), err: error.message }, 'peer violated the protocol; banning')
      this.ban(idHex, this.opts.banMs ?? DEFAULTS.banMs)
    }
    const peer = session.peer
    if (peer) {
      peer.markClosed(error ?? devp2pError(Devp2pErrorCode.Disconnected, reason))
      this.log.info({ peer: peer.label, reason }, 'peer disconnected')
      this.events.emit('peer:removed', peer, reason)
    }
    const s = session.static
    if (s) {
      if (peer && Date.now() - peer.connectedAt >= DEFAULTS.stableSessionMs) s.attempts = 0
      this.scheduleRedial(s)
    }
  }

  private startDiscovery(d: NonNullable<Devp2pPoolOptions['discovery']>): void {
    const host = d.host ?? '0.0.0.0'
    const tcpPort = this.opts.listen?.port ?? null
    const dpt = new DPT(this.privateKey, {
      endpoint: { address: host, udpPort: d.udpPort ?? null, tcpPort },
      shouldFindNeighbours: true,
      shouldGetDnsPeers: false,
      refreshInterval: d.refreshIntervalMs ?? 60_000,
    })
    dpt.events.on('error', (err: Error) => this.log.debug({ err: err.message }, 'discovery error'))
    dpt.events.on('peer:added', (info: PeerInfo) => this.maybeDialDiscovered(info))
    dpt.bind(d.udpPort ?? 0, host)
    this.dpt = dpt
    for (const url of d.bootnodes) {
      const e = parseEnode(url)
      void dpt.bootstrap({ id: e.id, address: e.host, udpPort: e.udpPort, tcpPort: e.tcpPort })
    }
    this.refillTimer = setInterval(() => {
      for (const info of dpt.getPeers()) this.maybeDialDiscovered(info)
    }, DEFAULTS.discoveryRefillMs)
  }

  private maybeDialDiscovered(info: PeerInfo): void {
    if (!this.running || !this.hasRoom() || !(info.id instanceof Uint8Array) || !info.address || !info.tcpPort) return
    const idHex = nodeIdHex(info.id)
    if (equalBytes(info.id, this.nodeId) || this.isKnown(idHex) || this.isBanned(idHex)) return
    this.dialTarget(info.id, info.address, info.tcpPort, this.statics.get(idHex))
  }
}

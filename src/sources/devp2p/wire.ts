/**
 * One eth session (eth/66-69) on one RLPx connection: the Status handshake, request ids matched to
 * responses (each with a timeout and an optional AbortSignal), answers to the peer's own requests,
 * and head announcements. The library instantiates it for the negotiated version (see
 * `ethCapabilities`); it works on raw message bytes and raises typed errors, which make the
 * connection close (`RlpxConnection.fail`).
 */
import { randomInt } from 'node:crypto'
import { DecodeError, SourceError } from '../../errors.js'
import { equalBytes, type Bytes } from '../../primitives/bytes.js'
import { devp2pError, Devp2pErrorCode } from './errors.js'
import {
  decodeBlockRangeUpdate,
  decodeGetBlockHeaders,
  decodeHashesRequest,
  decodeNewBlock,
  decodeNewBlockHashes,
  decodeResponseEnvelope,
  decodeStatus,
  encodeResponse,
  encodeStatus,
  EthCode,
  ethCodeName,
  isEthMessage,
  REQUEST_CODES,
  responseItems,
  type AnnouncedHead,
  type BlockRange,
  type EthStatus,
  type EthVersion,
  type ForkId,
  type HeadersQuery,
  type RequestKind,
} from './messages.js'
import { snappyCompress } from './snappy.js'
import type { RlpxConnection } from './transport.js'

/** What this node announces in its Status. */
export interface LocalStatus {
  networkId: bigint
  genesisHash: Bytes
  forkId: ForkId
  head: { number: number; hash: Bytes; td?: bigint }
  /** eth/69: the oldest block this node serves (default: its head, i.e. it serves no history). */
  earliestBlock?: number
}

/** Returns why a remote fork id is incompatible, or undefined to accept it (EIP-2124). */
export type ForkFilter = (remote: ForkId) => string | undefined

export interface ServeContext {
  wire: EthWire
  reqId: bigint
}

/**
 * Answers the peer's requests. Items are raw RLP (header, body, per-block receipt list in the form
 * of `ctx.wire.version`). Returning undefined sends no answer (used by test peers that stall).
 */
export interface EthRequestHandler {
  headers(query: HeadersQuery, ctx: ServeContext): Bytes[] | undefined | Promise<Bytes[] | undefined>
  bodies(hashes: Bytes[], ctx: ServeContext): Bytes[] | undefined | Promise<Bytes[] | undefined>
  receipts(hashes: Bytes[], ctx: ServeContext): Bytes[] | undefined | Promise<Bytes[] | undefined>
}

/** A syncer serves nothing: every request gets an empty list ("don't have it"). */
export const EMPTY_HANDLER: EthRequestHandler = { headers: () => [], bodies: () => [], receipts: () => [] }

export interface EthWireConfig {
  /** Offered versions; the highest one both sides offer is used. */
  versions: readonly EthVersion[]
  /** Read when a session starts, so the announced head can move. */
  status(): LocalStatus
  forkFilter: ForkFilter
  handler: EthRequestHandler
  /** Most hashes read from one GetBlockBodies / GetReceipts of a peer (geth serves up to 1024). */
  maxServeItems: number
}

export interface WireResponse {
  /** Raw RLP of each item, slices of the received message. */
  items: Bytes[]
  /** Decompressed message size. */
  bytes: number
  elapsedMs: number
}

export interface WireObserver {
  onAnnounce(head: AnnouncedHead): void
  onRange(range: BlockRange): void
}

interface Pending {
  kind: RequestKind
  maxItems: number
  sentAt: number
  timer: NodeJS.Timeout
  resolve(r: WireResponse): void
  reject(err: SourceError): void
  detach(): void
}

export class EthWire {
  readonly version: EthVersion
  readonly conn: RlpxConnection
  remoteStatus: EthStatus | undefined
  /** Latest NewBlock / NewBlockHashes announcement (eth/66-68). */
  announced: AnnouncedHead | undefined
  /** Latest served range (eth/69 Status or BlockRangeUpdate). */
  range: BlockRange | undefined
  observer: WireObserver | undefined
  readonly counters = { lateResponses: 0, ignoredMessages: 0, servedRequests: 0 }
  private readonly sendFrame: (code: number, data: Bytes) => void
  private statusSent = false
  private closedError: SourceError | undefined
  private readonly pending = new Map<bigint, Pending>()
  private readonly firstReqId: bigint
  private nextReqId: bigint

  /** Called by the library as `new EthWire(version, peer, send)` once Hello negotiated eth/`version`. */
  constructor(version: number, peer: unknown, send: (code: number, data: Uint8Array) => void) {
    this.version = version as EthVersion
    this.conn = peer as RlpxConnection
    this.sendFrame = send
    // Random start: ids of an earlier connection to the same peer cannot collide with ours.
    this.firstReqId = BigInt(randomInt(1, 2 ** 31))
    this.nextReqId = this.firstReqId
    this.conn.attachWire(this)
    this.conn.events.once('connect', () => this.sendStatus())
  }

  get closed(): boolean {
    return this.closedError !== undefined
  }

  /** Why the session ended (undefined while open). */
  get closeReason(): SourceError | undefined {
    return this.closedError
  }

  get inFlight(): number {
    return this.pending.size
  }

  /** Sends a request and resolves with the matching response's raw items (at most `maxItems`). */
  request(kind: RequestKind, encodeFor: (reqId: bigint) => Bytes, maxItems: number, timeoutMs: number, signal?: AbortSignal): Promise<WireResponse> {
    if (this.closedError) return Promise.reject(this.closedError)
    if (signal?.aborted) return Promise.reject(aborted(kind))
    const reqId = this.nextReqId++
    return new Promise<WireResponse>((resolve, reject) => {
      const onAbort = () => {
        const p = this.pending.get(reqId)
        if (p === undefined) return
        this.settle(reqId, p)
        reject(aborted(kind))
      }
      const pending: Pending = {
        kind,
        maxItems,
        sentAt: performance.now(),
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(reqId, pending)
          reject(devp2pError(Devp2pErrorCode.Timeout, `${kind} request timed out after ${timeoutMs} ms`, { kind, timeoutMs }))
        }, timeoutMs),
        detach: () => signal?.removeEventListener('abort', onAbort),
      }
      this.pending.set(reqId, pending)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.sendMessage(REQUEST_CODES[kind].request, encodeFor(reqId))
    })
  }

  /** Snappy-compresses (when the session does) and sends an eth message. */
  sendMessage(code: number, payload: Bytes): void {
    if (this.closedError) return
    this.sendFrame(code, this.conn.compresses ? snappyCompress(payload) : payload)
  }

  /** Sends a payload exactly as given, bypassing compression (test peers forge frames with it). */
  sendWireBytes(code: number, wireBytes: Bytes): void {
    if (!this.closedError) this.sendFrame(code, wireBytes)
  }

  /** Entry point for every eth message of this connection (already decompressed and size-checked). */
  receive(code: number, data: Bytes): void {
    if (this.closedError) return
    try {
      this.dispatch(code, data)
    } catch (err) {
      this.conn.fail(asPeerError(err, code))
    }
  }

  /** The connection closed or failed: every pending request fails with the same typed error. */
  connectionClosed(err: SourceError): void {
    if (this.closedError) return
    this.closedError = err
    for (const [reqId, p] of this.pending) {
      this.settle(reqId, p)
      p.reject(err)
    }
  }

  private settle(reqId: bigint, p: Pending): void {
    this.pending.delete(reqId)
    clearTimeout(p.timer)
    p.detach()
  }

  private sendStatus(): void {
    try {
      const local = this.conn.config.eth.status()
      const status: EthStatus = {
        version: this.version,
        networkId: local.networkId,
        genesisHash: local.genesisHash,
        forkId: local.forkId,
        headHash: local.head.hash,
        headNumber: local.head.number,
        totalDifficulty: local.head.td ?? 0n,
        earliestBlock: Math.min(local.earliestBlock ?? local.head.number, local.head.number),
      }
      this.sendMessage(EthCode.Status, encodeStatus(status))
      this.statusSent = true
      this.maybeReady()
    } catch (err) {
      this.conn.fail(devp2pError(Devp2pErrorCode.HandshakeFailed, 'cannot send Status', undefined, err))
    }
  }

  private maybeReady(): void {
    if (this.statusSent && this.remoteStatus !== undefined) this.conn.markReady(this)
  }

  private dispatch(code: number, data: Bytes): void {
    if (!isEthMessage(this.version, code)) {
      throw devp2pError(Devp2pErrorCode.ProtocolViolation, `message ${ethCodeName(code)} is not part of eth/${this.version}`)
    }
    if (code === EthCode.Status) return this.onStatus(data)
    if (this.remoteStatus === undefined) {
      throw devp2pError(Devp2pErrorCode.ProtocolViolation, `${ethCodeName(code)} before Status`)
    }
    switch (code) {
      case EthCode.BlockHeaders:
        return this.onResponse('headers', data)
      case EthCode.BlockBodies:
        return this.onResponse('bodies', data)
      case EthCode.Receipts:
        return this.onResponse('receipts', data)
      case EthCode.GetBlockHeaders:
      case EthCode.GetBlockBodies:
      case EthCode.GetReceipts:
      case EthCode.GetPooledTransactions:
      case EthCode.GetNodeData:
        return this.serve(code, data)
      case EthCode.NewBlockHashes: {
        const head = decodeNewBlockHashes(data)
        if (head) this.onAnnounce(head)
        return
      }
      case EthCode.NewBlock:
        return this.onAnnounce(decodeNewBlock(data))
      case EthCode.BlockRangeUpdate: {
        this.range = decodeBlockRangeUpdate(data)
        this.observer?.onRange(this.range)
        return
      }
      default:
        // Transaction gossip and unsolicited tx/node data: a syncer has no use for them, and not
        // decoding them keeps them cheap.
        this.counters.ignoredMessages++
    }
  }

  private onAnnounce(head: AnnouncedHead): void {
    if (this.announced !== undefined && head.number <= this.announced.number) return
    this.announced = head
    this.observer?.onAnnounce(head)
  }

  private onStatus(data: Bytes): void {
    if (this.remoteStatus !== undefined) throw devp2pError(Devp2pErrorCode.ProtocolViolation, 'second Status message')
    const s = decodeStatus(data, this.version)
    const local = this.conn.config.eth.status()
    if (s.networkId !== local.networkId) {
      throw devp2pError(Devp2pErrorCode.HandshakeFailed, `peer is on network ${s.networkId}, expected ${local.networkId}`)
    }
    if (!equalBytes(s.genesisHash, local.genesisHash)) throw devp2pError(Devp2pErrorCode.HandshakeFailed, 'peer has another genesis block')
    const rejected = this.conn.config.eth.forkFilter(s.forkId)
    if (rejected !== undefined) throw devp2pError(Devp2pErrorCode.HandshakeFailed, `fork id rejected: ${rejected}`)
    this.remoteStatus = s
    if (s.headNumber !== undefined) this.range = { earliest: s.earliestBlock ?? 0, latest: s.headNumber, latestHash: s.headHash }
    this.maybeReady()
  }

  private onResponse(kind: RequestKind, data: Bytes): void {
    const envelope = decodeResponseEnvelope(data)
    const p = this.pending.get(envelope.reqId)
    if (p === undefined) {
      // A response to a request that timed out or was aborted: harmless, dropped.
      if (envelope.reqId >= this.firstReqId && envelope.reqId < this.nextReqId) {
        this.counters.lateResponses++
        return
      }
      throw devp2pError(Devp2pErrorCode.ProtocolViolation, `unsolicited ${kind} response (request id ${envelope.reqId})`)
    }
    if (p.kind !== kind) throw devp2pError(Devp2pErrorCode.ProtocolViolation, `${kind} response to a ${p.kind} request`)
    const items = responseItems(data, envelope.items, kind, p.maxItems)
    this.settle(envelope.reqId, p)
    p.resolve({ items, bytes: data.length, elapsedMs: performance.now() - p.sentAt })
  }

  private serve(code: number, data: Bytes): void {
    const { handler, maxServeItems } = this.conn.config.eth
    this.counters.servedRequests++
    if (code === EthCode.GetBlockHeaders) {
      const { reqId, query } = decodeGetBlockHeaders(data)
      return this.answer(EthCode.BlockHeaders, reqId, () => handler.headers(query, { wire: this, reqId }))
    }
    const { reqId, hashes } = decodeHashesRequest(data, maxServeItems)
    switch (code) {
      case EthCode.GetBlockBodies:
        return this.answer(EthCode.BlockBodies, reqId, () => handler.bodies(hashes, { wire: this, reqId }))
      case EthCode.GetReceipts:
        return this.answer(EthCode.Receipts, reqId, () => handler.receipts(hashes, { wire: this, reqId }))
      case EthCode.GetPooledTransactions:
        return this.answer(EthCode.PooledTransactions, reqId, () => [])
      default:
        return this.answer(EthCode.NodeData, reqId, () => [])
    }
  }

  private answer(code: number, reqId: bigint, produce: () => Bytes[] | undefined | Promise<Bytes[] | undefined>): void {
    Promise.resolve()
      .then(produce)
      // A failing handler must not take the session down; "don't have it" is always a valid answer.
      .catch((): Bytes[] => [])
      .then((items) => {
        if (items !== undefined) this.sendMessage(code, encodeResponse(reqId, items))
      })
  }
}

function aborted(kind: RequestKind): SourceError {
  return devp2pError(Devp2pErrorCode.Aborted, `${kind} request aborted`, { kind })
}

/** Maps what a message handler threw to the typed error the connection fails with. */
function asPeerError(err: unknown, code: number): SourceError {
  if (err instanceof SourceError) return err
  if (err instanceof DecodeError) {
    const tooMany = err.code === 'RLP_TOO_MANY_ITEMS'
    return devp2pError(
      tooMany ? Devp2pErrorCode.ProtocolViolation : Devp2pErrorCode.InvalidMessage,
      `${tooMany ? 'oversized' : 'malformed'} ${ethCodeName(code)}: ${err.message}`,
      { message: ethCodeName(code), decodeCode: err.code },
      err,
    )
  }
  return devp2pError(Devp2pErrorCode.InvalidMessage, `cannot handle ${ethCodeName(code)}`, { message: ethCodeName(code) }, err)
}

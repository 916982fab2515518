/**
 * RLPx connections on `@ethereumjs/devp2p`'s transport. The library's `Peer` does the ECIES handshake,
 * framing, Hello, capability negotiation, Ping/Pong and Disconnect; `RlpxConnection` subclasses it to
 * make it safe for untrusted peers and fast for large responses:
 *  - socket data is collected as chunks and joined once per complete frame (the library re-copies its
 *    whole buffer on every TCP chunk, quadratic for multi-megabyte responses);
 *  - frame sizes and snappy-declared message sizes are checked against the eth limit (10 MiB) BEFORE
 *    buffering or decompressing;
 *  - sub-protocol payloads go to the eth handler (`EthWire`) as raw bytes, never through the
 *    library's nested-array RLP decoder, so responses keep their wire bytes;
 *  - the frame MAC runs on WASM keccak (`mac.ts`; the library's pure-JS one was the bottleneck);
 *  - frames are sealed and opened here, without the library's copies (it copied a 2 MB answer six
 *    times on the way out and once more on the way in);
 *  - every failure becomes a typed `SourceError`, the connection closes at once, and `closed` /
 *    `ready` promises give owners a complete lifecycle (handshake timeout included).
 */
import { createECDH, randomBytes, type Cipher, type Decipher } from 'node:crypto'
import { createServer, Socket, type Server } from 'node:net'
import { DISCONNECT_REASON, DisconnectReasonNames, Peer, type Capabilities } from '@ethereumjs/devp2p'
import type { Common } from '@ethereumjs/common'
import { DecodeError, SourceError, errorMessage } from '../../errors.js'
import { concatBytes, equalBytes, utf8ToBytes, type Bytes } from '../../primitives/bytes.js'
import { decodeTree, encode, type RlpTree } from '../../primitives/rlp.js'
import { devp2pError, Devp2pErrorCode } from './errors.js'
import { useFastMac } from './mac.js'
import { protocolLength, type EthVersion } from './messages.js'
import { snappyCompress, snappyDecompress, snappyMaxCompressedLength } from './snappy.js'
import { EthWire, type EthWireConfig } from './wire.js'

/** The eth protocol's message size limit (geth `maxMessageSize`), after decompression. */
export const MAX_ETH_MESSAGE_BYTES = 10 * 1024 * 1024
/** Base-protocol messages (Hello, Disconnect, Ping, Pong) are tiny; Hello with many capabilities stays far below this. */
const MAX_BASE_MESSAGE_BYTES = 64 * 1024
/** RLPx reserves message ids 0x00-0x0f for the base protocol. */
const BASE_PROTOCOL_LENGTH = 16
const BASE = { Hello: 0x00, Disconnect: 0x01 } as const

export { DISCONNECT_REASON }
export type DisconnectReason = (typeof DISCONNECT_REASON)[keyof typeof DISCONNECT_REASON]

export function disconnectReasonName(reason: number | undefined): string {
  if (reason === undefined) return 'socket closed'
  return DisconnectReasonNames[reason as DisconnectReason] ?? `reason ${reason}`
}

/** A random secp256k1 private key (node key). */
export function generateNodeKey(): Bytes {
  for (;;) {
    const key = new Uint8Array(randomBytes(32))
    try {
      nodeIdOf(key)
      return key
    } catch {
      // zero or above the curve order: draw again
    }
  }
}

/** The node id (64-byte uncompressed public key without the 0x04 prefix) of a private key. */
export function nodeIdOf(privateKey: Bytes): Bytes {
  const ecdh = createECDH('secp256k1')
  ecdh.setPrivateKey(privateKey)
  return new Uint8Array(ecdh.getPublicKey()).subarray(1)
}

/** The ECIES session's frame state once the handshake is done (protected in the library). */
interface FrameSession {
  _egressAes: Cipher | null
  _ingressAes: Decipher | null
  _egressMac: { updateBody(data: Bytes): void; digest(): Bytes } | null
  _ingressMac: { updateBody(data: Bytes): void; digest(): Bytes } | null
  _bodySize: number | null
  createBlockHeader(size: number): Bytes | undefined
}

export interface ConnectionConfig {
  privateKey: Bytes
  nodeId: Bytes
  clientId: string
  /** Advertised in Hello; undefined when the node does not accept connections. */
  listenPort?: number
  /** Library ping interval is 15 s; a missing Pong after this long drops the peer. */
  pingTimeoutMs: number
  /** From TCP connect to a completed eth Status exchange. */
  handshakeTimeoutMs: number
  maxMessageBytes: number
  eth: EthWireConfig
}

export interface CloseInfo {
  /** Disconnect reason sent or received, if any. */
  reason: number | undefined
  /** True when we closed the connection. */
  byUs: boolean
  /** The typed failure that made us close, if any. */
  error: SourceError | undefined
}

/** The library's eth capability slots, one per version, all backed by our EthWire. */
export function ethCapabilities(versions: readonly EthVersion[]): Capabilities[] {
  return versions.map((version) => ({
    name: 'eth',
    version,
    length: protocolLength(version),
    // The library instantiates it as `new constructor(version, peer, send)`; EthWire has that shape.
    constructor: EthWire as unknown as Capabilities['constructor'],
  }))
}

export class RlpxConnection extends Peer {
  readonly config: ConnectionConfig
  /** Resolves when the socket has closed (never rejects). */
  readonly closed: Promise<CloseInfo>
  /** Resolves with the eth session once the Status exchange succeeded; rejects if the connection fails first. */
  readonly ready: Promise<EthWire>
  readonly remoteAddress: string
  readonly remotePort: number
  readonly inbound: boolean
  wire: EthWire | undefined
  failure: SourceError | undefined
  private resolveReady!: (wire: EthWire) => void
  private rejectReady!: (err: SourceError) => void
  private isReady = false
  private chunks: Uint8Array[] = []
  private buffered = 0
  private readonly handshakeTimer: NodeJS.Timeout
  private destroyTimer: NodeJS.Timeout | undefined

  constructor(config: ConnectionConfig, socket: Socket, remoteId: Bytes | null) {
    super({
      socket,
      // The library's types say Uint8Array, but null is how it marks an inbound connection.
      remoteId: remoteId as Bytes,
      privateKey: config.privateKey,
      id: config.nodeId,
      timeout: config.pingTimeoutMs,
      clientId: utf8ToBytes(config.clientId),
      capabilities: ethCapabilities(config.eth.versions),
      // Only read for optional custom crypto (`common?.customCrypto`); the eth wire needs no Common.
      common: undefined as unknown as Common,
      port: (config.listenPort ?? null) as number,
    })
    this.config = config
    // Before the handshake reaches the frame setup (outbound: on Ack; inbound: on Auth).
    useFastMac(this._eciesSession)
    this.inbound = remoteId === null
    this.remoteAddress = socket.remoteAddress ?? '?'
    this.remotePort = socket.remotePort ?? 0
    socket.setNoDelay(true)
    this.ready = new Promise<EthWire>((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {}) // owners that never await `ready` must not see an unhandled rejection
    this.closed = new Promise<CloseInfo>((resolve) => {
      socket.once('close', () => {
        clearTimeout(this.handshakeTimer)
        clearTimeout(this.destroyTimer)
        this._closed = true
        const remote = this._disconnectWe === false ? ` (peer sent ${disconnectReasonName(this._disconnectReason)})` : ''
        const error = this.failure ?? devp2pError(Devp2pErrorCode.Disconnected, `connection closed${remote}`, { reason: this._disconnectReason })
        this.rejectReady(error)
        this.wire?.connectionClosed(error)
        resolve({ reason: this._disconnectReason, byUs: this._disconnectWe === true || this.failure !== undefined, error: this.failure })
      })
    })
    this.handshakeTimer = setTimeout(() => {
      this.fail(devp2pError(Devp2pErrorCode.HandshakeFailed, `no eth Status within ${config.handshakeTimeoutMs} ms`), DISCONNECT_REASON.TIMEOUT)
    }, config.handshakeTimeoutMs)
  }

  /** Remote node id once known (outbound: from the start; inbound: after the auth message). */
  get remoteId(): Bytes | null {
    return this.getId()
  }

  get clientName(): string {
    return this.getHelloMessage()?.clientId ?? ''
  }

  /** True when the peer speaks RLPx v5+, which snappy-compresses sub-protocol payloads. */
  get compresses(): boolean {
    const hello = this.getHelloMessage()
    return hello !== null && hello.protocolVersion >= 5
  }

  get isClosed(): boolean {
    return this._closed
  }

  /** Called by the EthWire the library instantiated for the negotiated eth version. */
  attachWire(wire: EthWire): void {
    this.wire = wire
  }

  /** Called by the EthWire once both Status messages are exchanged and valid. */
  markReady(wire: EthWire): void {
    if (this.isReady || this._closed) return
    this.isReady = true
    clearTimeout(this.handshakeTimer)
    this.resolveReady(wire)
  }

  /** Sends a sub-protocol message (payload already compressed as needed). */
  sendRaw(code: number, payload: Bytes): void {
    this._sendMessage(code, payload)
  }

  /** Records the typed failure, fails pending work and closes the connection at once. */
  fail(err: SourceError, reason: number = reasonFor(err)): void {
    if (this.failure === undefined && !this._closed) this.failure = err
    this.rejectReady(err)
    this.wire?.connectionClosed(err)
    this.close(reason)
  }

  /** Sends Disconnect (if the session is up) and closes the socket without the library's 2 s linger. */
  close(reason: number = DISCONNECT_REASON.DISCONNECT_REQUESTED): void {
    clearTimeout(this.handshakeTimer)
    // Pending requests fail now, not when the socket has drained.
    this.wire?.connectionClosed(devp2pError(Devp2pErrorCode.Disconnected, `we disconnected (${disconnectReasonName(reason)})`, { reason }))
    if (!this._closed && this._hello !== null) {
      // Disconnect [reason], compressed like every message of a v5 session. Not the library's
      // _sendDisconnect: it keeps the process alive 2 s with a timer before ending the socket.
      const payload = encode([reason])
      this._sendMessage(BASE.Disconnect, this.compresses ? snappyCompress(payload) : payload)
    }
    this._closed = true
    this._disconnectReason ??= reason as DisconnectReason
    this._disconnectWe ??= true
    if (!this._socket.destroyed) this._socket.end()
    this.destroyTimer ??= setTimeout(() => this._socket.destroy(), 1000)
    this.destroyTimer.unref()
  }

  /**
   * Sends one message as one frame: the id and payload written once into the padded body, which is
   * encrypted, and header, body and MAC written as they are (the library concatenates them).
   */
  override _sendMessage(code: number, data: Uint8Array): boolean | undefined {
    if (this._closed || this._socket.destroyed) return false
    // Message ids are RLP integers below 0x80 (0 encodes as 0x80), as the receiving side checks.
    if (code >= 0x80) throw new RangeError(`message id 0x${code.toString(16)} is not a single RLP byte`)
    const session = this._eciesSession as unknown as FrameSession
    const size = 1 + data.length
    const header = session.createBlockHeader(size)
    if (!header || !session._egressAes || !session._egressMac) return undefined
    const body = new Uint8Array(Math.ceil(size / 16) * 16)
    body[0] = code === 0 ? 0x80 : code
    body.set(data, 1)
    const encrypted = session._egressAes.update(body)
    session._egressMac.updateBody(encrypted)
    const tag = session._egressMac.digest()
    this._socket.cork()
    this._socket.write(header)
    this._socket.write(encrypted)
    this._socket.write(tag)
    this._socket.uncork()
    return true
  }

  override _onSocketData(data: Uint8Array): void {
    if (this._closed) return
    this.chunks.push(data)
    this.buffered += data.length
    if (this.buffered < this._nextPacketSize) return
    this._socketData = this.chunks.length === 1 ? this.chunks[0] : concatBytes(...this.chunks)
    try {
      while (!this._closed && this._socketData.length >= this._nextPacketSize) {
        switch (this._state) {
          case 'Auth':
            this._handleAuth()
            break
          case 'Ack':
            this._handleAck()
            break
          case 'Header':
            this._handleHeader()
            break
          case 'Body':
            this._handleBody()
            break
        }
      }
    } catch (err) {
      this.fail(asTransportError(err), DISCONNECT_REASON.PROTOCOL_ERROR)
      return
    }
    this.chunks = this._socketData.length > 0 ? [this._socketData] : []
    this.buffered = this._socketData.length
  }

  override _handleHeader(): void {
    super._handleHeader()
    // _nextPacketSize now holds the padded frame body size plus its 16-byte MAC.
    const limit = snappyMaxCompressedLength(this.config.maxMessageBytes) + 64
    if (this._state === 'Body' && this._nextPacketSize > limit) {
      throw devp2pError(Devp2pErrorCode.MessageTooLarge, `frame of ${this._nextPacketSize} bytes exceeds ${limit}`, { frameBytes: this._nextPacketSize })
    }
  }

  override _handleBody(): void {
    const frameSize = this._nextPacketSize
    const body = this.openFrame(this._socketData.subarray(0, frameSize))
    this._socketData = this._socketData.subarray(frameSize)
    this._state = 'Header'
    this._nextPacketSize = 32
    if (body.length === 0) throw devp2pError(Devp2pErrorCode.InvalidMessage, 'empty frame')
    // Message ids are RLP integers; the library and every client use single-byte ids (< 0x80).
    const code = body[0] === 0x80 ? 0 : body[0]
    if (code >= 0x80) throw devp2pError(Devp2pErrorCode.ProtocolViolation, `multi-byte message id 0x${code.toString(16)}`)
    if (this._hello === null && code !== BASE.Hello && code !== BASE.Disconnect) {
      throw devp2pError(Devp2pErrorCode.ProtocolViolation, `message 0x${code.toString(16)} before Hello`)
    }
    const payload = body.subarray(1)
    if (code < BASE_PROTOCOL_LENGTH) {
      this._handleMessage(code as 0 | 1 | 2 | 3, decodeBaseMessage(code, payload, this.compresses) as unknown as Uint8Array)
      return
    }
    const descriptor = this._getProtocol(code)
    if (descriptor === undefined || this.wire === undefined) {
      throw devp2pError(Devp2pErrorCode.ProtocolViolation, `message id 0x${code.toString(16)} outside the negotiated protocols`)
    }
    const message = this.decompress(payload)
    this.wire.receive(code - descriptor.offset, message)
  }

  /** The frame body checked against its MAC and decrypted, as a view of the decrypted buffer (the library copies it). */
  private openFrame(frame: Bytes): Bytes {
    const session = this._eciesSession as unknown as FrameSession
    const size = session._bodySize
    if (size === null || !session._ingressMac || !session._ingressAes) throw devp2pError(Devp2pErrorCode.ProtocolViolation, 'frame body before its header')
    const encrypted = frame.subarray(0, -16)
    session._ingressMac.updateBody(encrypted)
    if (!equalBytes(session._ingressMac.digest(), frame.subarray(-16))) throw devp2pError(Devp2pErrorCode.InvalidMessage, 'invalid frame MAC')
    session._bodySize = null
    const plain = session._ingressAes.update(encrypted)
    return new Uint8Array(plain.buffer, plain.byteOffset, size)
  }

  private decompress(payload: Bytes): Bytes {
    if (this.compresses) return snappyDecompress(payload, this.config.maxMessageBytes)
    if (payload.length > this.config.maxMessageBytes) {
      throw devp2pError(Devp2pErrorCode.MessageTooLarge, `message of ${payload.length} bytes exceeds ${this.config.maxMessageBytes}`)
    }
    return payload
  }
}

/**
 * Hello / Disconnect / Ping / Pong payload as the library's handlers expect it (nested byte arrays).
 * Disconnect is sometimes sent uncompressed even on v5 sessions (EthereumJS does), so both are tried.
 */
function decodeBaseMessage(code: number, payload: Bytes, compressed: boolean): RlpTree {
  if (code === BASE.Hello || !compressed) return decodeTree(payload)
  try {
    return decodeTree(snappyDecompress(payload, MAX_BASE_MESSAGE_BYTES))
  } catch (err) {
    if (code === BASE.Disconnect) return decodeTree(payload)
    throw err
  }
}

function asTransportError(err: unknown): SourceError {
  if (err instanceof SourceError) return err
  if (err instanceof DecodeError) return devp2pError(Devp2pErrorCode.InvalidMessage, `malformed message: ${err.message}`, { decodeCode: err.code }, err)
  // ECIES failures (bad MAC, bad auth) surface as plain errors from the library.
  return devp2pError(Devp2pErrorCode.InvalidMessage, `transport error: ${errorMessage(err)}`, undefined, err)
}

function reasonFor(err: SourceError): number {
  switch (err.code) {
    case Devp2pErrorCode.HandshakeFailed:
      return DISCONNECT_REASON.USELESS_PEER
    case Devp2pErrorCode.Timeout:
      return DISCONNECT_REASON.TIMEOUT
    default:
      return DISCONNECT_REASON.SUBPROTOCOL_ERROR
  }
}

export interface DialTarget {
  id: Bytes
  host: string
  port: number
}

/** Opens a TCP connection and starts the RLPx handshake as initiator. */
export function dial(config: ConnectionConfig, target: DialTarget, connectTimeoutMs: number): Promise<RlpxConnection> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    const onError = (err: Error) => {
      socket.destroy()
      reject(devp2pError(Devp2pErrorCode.DialFailed, `connect to ${target.host}:${target.port} failed: ${err.message}`, undefined, err))
    }
    socket.once('error', onError)
    socket.setTimeout(connectTimeoutMs, () => onError(new Error(`no TCP connection within ${connectTimeoutMs} ms`)))
    socket.connect(target.port, target.host, () => {
      socket.setTimeout(0)
      socket.off('error', onError)
      resolve(new RlpxConnection(config, socket, target.id))
    })
  })
}

/** Accepts RLPx connections on host:port (port 0 = any free port). */
export function listen(host: string, port: number, onSocket: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onSocket)
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

/**
 * Error codes raised by the devp2p source. All are `SourceError`s; `retryable` says whether the same
 * request may succeed on another peer (timeouts, disconnects) or the peer itself is at fault.
 */
import { SourceError } from '../../errors.js'

export const Devp2pErrorCode = {
  /** The peer did not answer in time (stall); the work should go to another peer. */
  Timeout: 'DEVP2P_TIMEOUT',
  /** The caller aborted the request. */
  Aborted: 'DEVP2P_ABORTED',
  /** The connection closed before the answer arrived. */
  Disconnected: 'DEVP2P_DISCONNECTED',
  /** A message above the eth protocol's size limit (checked before decompressing). */
  MessageTooLarge: 'DEVP2P_MESSAGE_TOO_LARGE',
  /** Malformed message: bad snappy stream, bad RLP, wrong shape. */
  InvalidMessage: 'DEVP2P_INVALID_MESSAGE',
  /** Well-formed but not allowed: unknown message code, unsolicited response, too many items. */
  ProtocolViolation: 'DEVP2P_PROTOCOL_VIOLATION',
  /** Status handshake failed: other network, genesis or fork, or no status in time. */
  HandshakeFailed: 'DEVP2P_HANDSHAKE_FAILED',
  /** Dialing failed (TCP, encryption handshake, hello). */
  DialFailed: 'DEVP2P_DIAL_FAILED',
  /** The peer is banned or the pool is stopped. */
  Unavailable: 'DEVP2P_UNAVAILABLE',
} as const

export type Devp2pErrorCodeValue = (typeof Devp2pErrorCode)[keyof typeof Devp2pErrorCode]

/** Faults that are the peer's own doing (lead to disconnect + ban). */
export const PEER_FAULT_CODES: ReadonlySet<string> = new Set([
  Devp2pErrorCode.MessageTooLarge,
  Devp2pErrorCode.InvalidMessage,
  Devp2pErrorCode.ProtocolViolation,
])

export function devp2pError(code: Devp2pErrorCodeValue, message: string, details?: Record<string, unknown>, cause?: unknown): SourceError {
  const retryable = code === Devp2pErrorCode.Timeout || code === Devp2pErrorCode.Disconnected || code === Devp2pErrorCode.DialFailed
  return new SourceError(code, message, { retryable, details, cause })
}

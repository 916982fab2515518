/**
 * Typed failures of a JSON-RPC endpoint. Every failure is an `RpcError` (a `SourceError`) with a
 * stable code, a retry hint and the fault the endpoint is blamed for, so the pool and the downloader
 * decide by code and fault, never by message text:
 *  - `retryable`: repeating the request (here or on another endpoint) may succeed;
 *  - `retryAfterMs`: the endpoint asked us to wait (HTTP Retry-After, rate-limit hints);
 *  - `fault`: what the endpoint did wrong (scored by the pool); undefined = not its fault
 *    (our abort, an unsupported transaction type, a block it does not have).
 */
import { SourceError } from '../../errors.js'
import type { PeerFault } from '../types.js'

export const RpcErrorCode = {
  /** The request did not complete within its timeout (stalled endpoint). */
  Timeout: 'RPC_TIMEOUT',
  /** The caller's AbortSignal fired. */
  Aborted: 'RPC_ABORTED',
  /** TCP/TLS connection failed or was reset. */
  ConnectionFailed: 'RPC_CONNECTION_FAILED',
  /** HTTP 429, JSON-RPC -32005 or a "limit exceeded" message. */
  RateLimited: 'RPC_RATE_LIMITED',
  /** A non-2xx HTTP status other than 429 / 413. */
  HttpStatus: 'RPC_HTTP_STATUS',
  /** The response body exceeded the configured byte limit (or the server refused a large batch). */
  ResponseTooLarge: 'RPC_RESPONSE_TOO_LARGE',
  /** Not JSON, not JSON-RPC, or a result with the wrong shape or a malformed field. */
  BadResponse: 'RPC_BAD_RESPONSE',
  /** JSON-RPC -32601: the endpoint does not serve this method. */
  MethodNotFound: 'RPC_METHOD_NOT_FOUND',
  /** Any other JSON-RPC error object. */
  ServerError: 'RPC_SERVER_ERROR',
  /** The header rebuilt from the JSON does not hash to the block hash the endpoint reported. */
  HeaderHashMismatch: 'RPC_HEADER_HASH_MISMATCH',
  /** A transaction rebuilt from the JSON does not hash to the transaction hash the endpoint reported. */
  TxHashMismatch: 'RPC_TX_HASH_MISMATCH',
  /** Answers that contradict each other (receipts of another block, a block with the wrong number). */
  Inconsistent: 'RPC_INCONSISTENT',
  /** A transaction type this build cannot rebuild (e.g. an L2 deposit type). */
  UnsupportedTxType: 'RPC_UNSUPPORTED_TX_TYPE',
  /** The endpoint serves another chain than the one configured. */
  WrongChain: 'RPC_WRONG_CHAIN',
  /** The pool has no usable endpoint for this request. */
  NoEndpoint: 'RPC_NO_ENDPOINT',
  /** A rebuild worker thread died with a response (our failure, not the endpoint's: the request is repeated). */
  RebuildFailed: 'RPC_REBUILD_FAILED',
} as const

export type RpcErrorCodeValue = (typeof RpcErrorCode)[keyof typeof RpcErrorCode]

export interface RpcErrorOptions {
  retryable?: boolean
  retryAfterMs?: number
  fault?: PeerFault
  details?: Record<string, unknown>
  cause?: unknown
}

export class RpcError extends SourceError {
  declare readonly code: RpcErrorCodeValue
  readonly retryAfterMs: number | undefined
  readonly fault: PeerFault | undefined

  constructor(code: RpcErrorCodeValue, message: string, options: RpcErrorOptions = {}) {
    const details = { ...options.details }
    if (options.retryAfterMs !== undefined) details.retryAfterMs = options.retryAfterMs
    if (options.fault !== undefined) details.fault = options.fault
    super(code, message, { retryable: options.retryable ?? false, details, cause: options.cause })
    this.retryAfterMs = options.retryAfterMs
    this.fault = options.fault
  }

  /** The same error with more context (block number, endpoint) prefixed and merged into details. */
  withContext(prefix: string, details: Record<string, unknown>): RpcError {
    return new RpcError(this.code, `${prefix}: ${this.message}`, {
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      fault: this.fault,
      details: { ...this.details, ...details },
      cause: this.cause,
    })
  }
}

/** A malformed field or result shape; the endpoint sent something no correct node sends. */
export function badResponse(message: string, details?: Record<string, unknown>): RpcError {
  return new RpcError(RpcErrorCode.BadResponse, message, { fault: 'protocol-violation', retryable: true, details })
}

/** Retry-After: delta seconds or an HTTP date. Undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

const RATE_LIMIT_CODES = new Set([-32005, -32007, -32029, -32090, 429])
const RATE_LIMIT_TEXT = /rate.?limit|limit exceeded|too many requests|exceeded .*(capacity|quota|limit)|request limit|throttl/i
const TOO_LARGE_TEXT = /batch (is )?too large|batch size|response (is )?too (big|large)|payload too large/i
const METHOD_NOT_FOUND_TEXT = /method .*(not found|not supported|does not exist|not available|is not enabled)|unsupported method/i
/** Errors some nodes return instead of `null` for a block they do not have. */
const NOT_FOUND_TEXT = /(header|block|receipts?) (not found|unavailable)|unknown block|not found: block/i

export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/**
 * Classifies a JSON-RPC error object. Returns `undefined` for "block not found" style errors, which
 * mean "don't have it" (the caller treats them like a null result), not a failure.
 */
export function classifyJsonRpcError(err: JsonRpcErrorObject, method: string): RpcError | undefined {
  const message = String(err.message ?? '')
  const details = { method, rpcCode: err.code, rpcMessage: message.slice(0, 300) }
  if (err.code === -32601 || METHOD_NOT_FOUND_TEXT.test(message)) {
    return new RpcError(RpcErrorCode.MethodNotFound, `${method} not supported: ${message}`, { fault: 'useless', details })
  }
  if (RATE_LIMIT_CODES.has(err.code) || RATE_LIMIT_TEXT.test(message)) {
    return new RpcError(RpcErrorCode.RateLimited, `rate limited: ${message}`, {
      retryable: true,
      retryAfterMs: retryHintFromData(err.data),
      details,
    })
  }
  if (TOO_LARGE_TEXT.test(message)) {
    return new RpcError(RpcErrorCode.ResponseTooLarge, `request too large: ${message}`, { retryable: true, details })
  }
  if (NOT_FOUND_TEXT.test(message)) return undefined
  return new RpcError(RpcErrorCode.ServerError, `${method} failed: ${message}`, { retryable: true, fault: 'useless', details })
}

/** Some providers put a back-off hint into `error.data` (seconds or milliseconds). */
function retryHintFromData(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const d = data as Record<string, unknown>
  for (const key of ['retryAfter', 'retry_after', 'backoff_seconds', 'backoffSeconds']) {
    const v = d[key]
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000)
  }
  const ms = d.retryAfterMs
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

/** Classifies a non-2xx HTTP status. */
export function classifyHttpStatus(status: number, retryAfter: string | null): RpcError {
  const retryAfterMs = parseRetryAfter(retryAfter)
  const details = { httpStatus: status }
  if (status === 429) {
    return new RpcError(RpcErrorCode.RateLimited, 'rate limited (HTTP 429)', { retryable: true, retryAfterMs, details })
  }
  if (status === 413) {
    return new RpcError(RpcErrorCode.ResponseTooLarge, 'request too large (HTTP 413)', { retryable: true, details })
  }
  if (status >= 500 || status === 408) {
    return new RpcError(RpcErrorCode.HttpStatus, `HTTP ${status}`, { retryable: true, retryAfterMs, fault: 'useless', details })
  }
  // 401/403/404 and friends: wrong URL or credentials; repeating will not help this endpoint.
  return new RpcError(RpcErrorCode.HttpStatus, `HTTP ${status}`, { fault: 'useless', details })
}

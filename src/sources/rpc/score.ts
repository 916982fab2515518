/**
 * How well one endpoint serves us: latency and success rate (exponentially weighted), back-off after
 * failures (exponential, or what the endpoint asked for with Retry-After), and bans for invalid data.
 * The pool routes requests to the ready endpoint with the highest `value()`.
 */
import { RpcErrorCode, type RpcError } from './errors.js'

export interface ScoreOptions {
  /** First back-off after a failure; doubles per consecutive failure. */
  backoffBaseMs: number
  /** Longest exponential back-off. */
  backoffMaxMs: number
  /** Upper bound on a server-requested wait (a hostile Retry-After must not park us for hours). */
  retryAfterMaxMs: number
  /** How long an endpoint that served invalid data stays out of rotation. */
  banMs: number
}

export const DEFAULT_SCORE_OPTIONS: ScoreOptions = {
  backoffBaseMs: 250, // short enough that one hiccup barely matters
  backoffMaxMs: 30_000, // a dead endpoint is re-tried about twice a minute
  retryAfterMaxMs: 120_000,
  banMs: 10 * 60_000, // long enough to finish a sync window elsewhere, short enough to recover a fixed node
}

/** Weight of the newest sample in the moving averages (~the last 10 requests matter). */
const EWMA_ALPHA = 0.2
/** Latency assumed before the first measurement, so a new endpoint is neither favoured nor starved. */
const INITIAL_LATENCY_MS = 200

export interface ScoreSnapshot {
  latencyMs: number | undefined
  successRate: number
  requests: number
  failures: number
  invalid: number
  consecutiveFailures: number
  backoffUntil: number
  bannedUntil: number
  lastError: string | undefined
}

export class EndpointScore {
  private latencyMs: number | undefined
  private successRate = 1
  private requests = 0
  private failures = 0
  private invalid = 0
  private consecutiveFailures = 0
  private backoffUntil = 0
  private bannedUntil = 0
  private lastError: string | undefined

  constructor(private readonly options: ScoreOptions = DEFAULT_SCORE_OPTIONS) {}

  /** An operation (possibly several HTTP requests) completed. */
  recordSuccess(): void {
    this.requests++
    this.consecutiveFailures = 0
    this.backoffUntil = 0
    this.successRate += EWMA_ALPHA * (1 - this.successRate)
  }

  /** Round trip of one HTTP request, complete response included. */
  recordLatency(latencyMs: number): void {
    this.latencyMs = this.latencyMs === undefined ? latencyMs : this.latencyMs + EWMA_ALPHA * (latencyMs - this.latencyMs)
  }

  /** Counts a failure and sets the back-off; an abort by the caller or an unsupported tx type is not the endpoint's failure. */
  recordFailure(err: RpcError, now = Date.now()): void {
    // Ours, not the endpoint's: an abort, a type we cannot rebuild, a rebuild worker that died.
    if (err.code === RpcErrorCode.Aborted || err.code === RpcErrorCode.UnsupportedTxType || err.code === RpcErrorCode.RebuildFailed) return
    this.recordFault(err.code, err.retryAfterMs, now)
  }

  /** Counts a failure by kind (also for faults the downloader reports from its own checks). */
  recordFault(kind: string, retryAfterMs?: number, now = Date.now()): void {
    this.requests++
    this.failures++
    this.consecutiveFailures++
    this.lastError = kind
    this.successRate -= EWMA_ALPHA * this.successRate
    const exponential = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (this.consecutiveFailures - 1))
    const requested = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, this.options.retryAfterMaxMs)
    this.backoffUntil = Math.max(this.backoffUntil, now + Math.max(exponential, requested))
  }

  /** Takes the endpoint out of rotation (invalid data); the pool decides when. */
  ban(now = Date.now(), ms = this.options.banMs): void {
    this.invalid++
    this.bannedUntil = Math.max(this.bannedUntil, now + ms)
  }

  isBanned(now = Date.now()): boolean {
    return now < this.bannedUntil
  }

  /** Not banned and not backing off. */
  isReady(now = Date.now()): boolean {
    return now >= this.bannedUntil && now >= this.backoffUntil
  }

  /** When the endpoint may be asked again. */
  readyAt(): number {
    return Math.max(this.bannedUntil, this.backoffUntil)
  }

  /** Higher is better: reliable and fast, discounted by work already queued on it. */
  value(inFlight = 0): number {
    const latency = this.latencyMs ?? INITIAL_LATENCY_MS
    return (this.successRate * this.successRate) / (latency + 1) / (1 + inFlight)
  }

  snapshot(): ScoreSnapshot {
    return {
      latencyMs: this.latencyMs,
      successRate: this.successRate,
      requests: this.requests,
      failures: this.failures,
      invalid: this.invalid,
      consecutiveFailures: this.consecutiveFailures,
      backoffUntil: this.backoffUntil,
      bannedUntil: this.bannedUntil,
      lastError: this.lastError,
    }
  }
}

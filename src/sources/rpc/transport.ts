/**
 * JSON-RPC over HTTP(S) on the project's HTTP/1.1 client (http-client.ts: keep-alive connections,
 * each body read straight into one buffer), as many connections as requests in flight.
 * One `JsonRpcTransport` per endpoint bounds its in-flight requests, sends batches as JSON arrays,
 * times out every request, honours the caller's AbortSignal, and refuses response bodies over a byte
 * limit while they stream in (before anything is parsed).
 *
 * Responses are tokenized into a JSON tape (json-tape.ts), not parsed into objects: block data is
 * rebuilt straight from the response bytes. `batch` hands out plain JS values for the callers that
 * want them (small results, error objects).
 */
import { Buffer } from 'node:buffer'
import { ConfigError } from '../../errors.js'
import { RpcError, RpcErrorCode, badResponse, classifyHttpStatus, classifyJsonRpcError, type JsonRpcErrorObject } from './errors.js'
import { HttpClient } from './http-client.js'
import { JsonKind, JsonSyntaxError, JsonTape } from './json-tape.js'

export interface JsonRpcCall {
  method: string
  params: readonly unknown[]
}

/**
 * One call's outcome. `error` is absent on success; `result` is `null` both for a null result and for
 * "block not found" style errors, which mean "don't have it".
 */
export type JsonRpcOutcome = { ok: true; result: unknown } | { ok: false; error: RpcError }

/**
 * One call's outcome on the response's tape: `result` is the result's token, or -1 for "don't have
 * it" errors; a JSON null result is a Null token (`tape.isMissing` covers both).
 */
export type TapeOutcome = { ok: true; tape: JsonTape; result: number } | { ok: false; error: RpcError }

/** A batch's response as received: the body bytes and the id of its first call. */
export interface RawResponse {
  calls: readonly JsonRpcCall[]
  firstId: number
  bytes: Buffer
}

export interface TransportOptions {
  /** Per-request timeout (connect + send + full response body). */
  timeoutMs: number
  /** Largest response body accepted; larger ones are cut off while streaming. */
  maxResponseBytes: number
  /** HTTP requests in flight at once to this endpoint. */
  maxConcurrency: number
  /** Extra HTTP headers (e.g. an API key). */
  headers?: Record<string, string>
  /** Called with the round trip of every request answered in full (for scoring). */
  onLatency?: (ms: number) => void
}

export interface CallOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

/** Counting semaphore whose waiters leave the queue when their signal aborts. */
class Semaphore {
  private active = 0
  private readonly waiters: Array<() => void> = []

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.limit) {
      this.active++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort)
        this.active++
        resolve()
      }
      const onAbort = () => {
        const i = this.waiters.indexOf(wake)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(abortError())
      }
      if (signal?.aborted) return reject(abortError())
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(wake)
    })
  }

  release(): void {
    this.active--
    this.waiters.shift()?.()
  }
}

function abortError(): RpcError {
  return new RpcError(RpcErrorCode.Aborted, 'request aborted')
}

function isErrorObject(v: unknown): v is JsonRpcErrorObject {
  return typeof v === 'object' && v !== null && typeof (v as JsonRpcErrorObject).code === 'number'
}

export class JsonRpcTransport {
  private nextId = 1
  private readonly slots: Semaphore

  private readonly client: HttpClient

  constructor(
    readonly url: string,
    private readonly options: TransportOptions,
  ) {
    this.slots = new Semaphore(options.maxConcurrency)
    const u = URL.canParse(url) ? new URL(url) : undefined
    if (u?.protocol !== 'http:' && u?.protocol !== 'https:') throw new ConfigError('RPC_URL_INVALID', `JSON-RPC endpoint must be an http:// or https:// URL (${u ? `got ${u.protocol}` : 'not a URL'})`)
    this.client = new HttpClient(u, { 'content-type': 'application/json', accept: 'application/json', 'accept-encoding': 'gzip, deflate, br', ...options.headers })
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.client.close()
  }

  /** HTTP requests currently in flight. */
  get inFlight(): number {
    return this.slots.inFlight
  }

  /** One call; a JSON-RPC error (other than "not found") becomes a thrown RpcError. */
  async call(method: string, params: readonly unknown[], opts: CallOptions = {}): Promise<unknown> {
    const [outcome] = await this.batch([{ method, params }], opts)
    if (!outcome.ok) throw outcome.error
    return outcome.result
  }

  /**
   * Several calls in one HTTP request (a single call is sent unbatched: some servers reject arrays).
   * Transport failures (timeout, HTTP status, malformed body) throw; per-call JSON-RPC errors come
   * back as outcomes so the caller can keep the calls that succeeded.
   */
  async batch(calls: readonly JsonRpcCall[], opts: CallOptions = {}): Promise<JsonRpcOutcome[]> {
    return (await this.batchTape(calls, opts)).map((o): JsonRpcOutcome => (o.ok ? { ok: true, result: o.result < 0 ? null : o.tape.value(o.result) } : o))
  }

  /** `batch` with every result left on the response's tape (block data is rebuilt from there). */
  async batchTape(calls: readonly JsonRpcCall[], opts: CallOptions = {}): Promise<TapeOutcome[]> {
    return outcomesOf(await this.batchRaw(calls, opts))
  }

  /** `batch` with the response body as received, tokenized by the caller (`outcomesOf`), e.g. off the main thread. */
  async batchRaw(calls: readonly JsonRpcCall[], opts: CallOptions = {}): Promise<RawResponse> {
    if (calls.length === 0) return { calls, firstId: this.nextId, bytes: Buffer.from('[]') }
    const firstId = this.nextId
    this.nextId += calls.length
    const payload = calls.map((c, i) => ({ jsonrpc: '2.0', id: firstId + i, method: c.method, params: c.params }))
    const body = JSON.stringify(payload.length === 1 ? payload[0] : payload)
    return { calls, firstId, bytes: await this.post(body, opts) }
  }

  private async post(body: string, opts: CallOptions): Promise<Buffer> {
    await this.slots.acquire(opts.signal)
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
    const started = performance.now()
    try {
      const bytes = await this.request(body, signal)
      this.options.onLatency?.(performance.now() - started)
      return bytes
    } catch (err) {
      if (err instanceof RpcError) throw err
      if (opts.signal?.aborted) throw abortError()
      if (timeout.aborted) {
        throw new RpcError(RpcErrorCode.Timeout, `no complete response within ${timeoutMs} ms`, { retryable: true, fault: 'timeout', details: { timeoutMs } })
      }
      const e = err as { code?: string; message?: string }
      throw new RpcError(RpcErrorCode.ConnectionFailed, `connection failed: ${e.code ?? e.message}`, { retryable: true, fault: 'disconnected', cause: err })
    } finally {
      this.slots.release()
    }
  }

  /** One POST; a non-2xx status becomes its typed error. */
  private async request(body: string, signal: AbortSignal): Promise<Buffer> {
    const res = await this.client.post(body, { signal, maxBodyBytes: this.options.maxResponseBytes })
    if (res.status < 200 || res.status >= 300) throw classifyHttpStatus(res.status, res.headers.get('retry-after') ?? null)
    return res.body
  }
}

/** The tape of a response body (`reuse`: see JsonTape.parse); a body that is not JSON is a bad response. */
function responseTape(bytes: Uint8Array, reuse = false): JsonTape {
  try {
    return JsonTape.parse(bytes, { reuse })
  } catch (err) {
    if (!(err instanceof JsonSyntaxError) && !(err instanceof SyntaxError)) throw err
    throw badResponse(`response is not JSON (${bytes.length} bytes)`, {
      bodyStart: Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(80, bytes.length)).toString('utf8'),
      parseError: err.message,
    })
  }
}

/**
 * Pairs the responses of a batch with its calls by id (servers may reorder a batch). `reuse`: the
 * tape is the thread's reusable one (see JsonTape.parse), for outcomes used synchronously.
 */
export function outcomesOf(response: RawResponse, reuse = false): TapeOutcome[] {
  const { calls, firstId } = response
  if (calls.length === 0) return []
  const tape = responseTape(response.bytes, reuse)
  const isBatch = tape.kinds[0] === JsonKind.Array
  if (!isBatch && calls.length > 1) {
    // A single object for a batch: the server rejected the whole batch (rate limit, batch too large...).
    const error = tape.kinds[0] === JsonKind.Object ? errorValue(tape, 0) : undefined
    if (isErrorObject(error)) throw classifyJsonRpcError(error, 'batch') ?? badResponse('batch rejected')
    throw badResponse('expected a JSON array for a batch request')
  }
  const byId = new Map<number, number>()
  for (const r of isBatch ? tape.elements(0) : [0]) {
    if (tape.kinds[r] !== JsonKind.Object) throw badResponse('JSON-RPC response is not an object')
    const id = tape.get(r, 'id')
    if (id >= 0 && tape.kinds[id] === JsonKind.Number) byId.set(Number(tape.value(id)), r)
    else if (calls.length === 1 && isErrorObject(errorValue(tape, r))) byId.set(firstId, r)
  }
  return calls.map((call, i): TapeOutcome => {
    const r = byId.get(firstId + i)
    if (r === undefined) return { ok: false, error: badResponse(`no response for ${call.method}`, { method: call.method }) }
    const error = errorValue(tape, r)
    if (error !== undefined && error !== null) {
      if (!isErrorObject(error)) return { ok: false, error: badResponse(`malformed error object for ${call.method}`) }
      const classified = classifyJsonRpcError(error, call.method)
      return classified ? { ok: false, error: classified } : { ok: true, tape, result: -1 }
    }
    const result = tape.get(r, 'result')
    if (result < 0) return { ok: false, error: badResponse(`response for ${call.method} has neither result nor error`) }
    return { ok: true, tape, result }
  })
}

/** The `error` member of a response object as a JS value (undefined when absent). */
function errorValue(tape: JsonTape, response: number): unknown {
  const token = tape.get(response, 'error')
  return token < 0 ? undefined : tape.value(token)
}

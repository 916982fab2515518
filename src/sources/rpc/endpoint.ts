/**
 * One JSON-RPC endpoint as a `SourcePeer`. Blocks come from eth_getBlockByNumber(n, true) +
 * eth_getBlockReceipts(n) in JSON-RPC batches; uncles from eth_getUncleByBlockHashAndIndex; the raw
 * header/body/receipt RLP is rebuilt from the JSON and the header is hash-checked before anything
 * leaves this class. A `null` (or "block not found") is "don't have it": answers are short, never
 * padded. Every failure is a typed `RpcError`, recorded in the endpoint's score.
 */
import type { Logger } from '../../logger.js'
import { silentLogger } from '../../logger.js'
import { type Bytes, bytesToHex, toQuantity } from '../../primitives/bytes.js'
import type { HeadInfo, HeadersRequest, PeerFault, RawBlock, RequestOptions, SourcePeer } from '../types.js'
import { BlockRebuilder } from './batch-rebuild.js'
import { RpcError, RpcErrorCode, badResponse } from './errors.js'
import { bigintField } from './hex.js'
import { describe, objectToken, readNumber } from './hex-tape.js'
import { JsonKind, JsonTape } from './json-tape.js'
import {
  BlockBatchWriter,
  checkHeaderHashAt,
  rebuildBodyAt,
  rebuildHeaderAt,
  rebuildReceipts,
  transactionHashTokens,
} from './rebuild.js'
import { DEFAULT_SCORE_OPTIONS, EndpointScore, type ScoreOptions } from './score.js'
import { JsonRpcTransport, outcomesOf, type JsonRpcCall, type JsonRpcOutcome, type TapeOutcome } from './transport.js'

export interface RpcEndpointOptions {
  url: string
  /** Id for logs and metrics; defaults to the URL without credentials. */
  id?: string
  /** JSON-RPC calls per HTTP request (a block with receipts is two calls). */
  batchSize?: number
  /** HTTP requests in flight at once to this endpoint. */
  maxConcurrency?: number
  /** Timeout of one HTTP request, response body included. */
  timeoutMs?: number
  /** Largest response body accepted. */
  maxResponseBytes?: number
  /** Check every rebuilt transaction against its reported hash (diagnostics; the tx root covers it anyway). */
  verifyTxHashes?: boolean
  /** Extra HTTP headers, e.g. an API key. */
  headers?: Record<string, string>
  /** Where block batches are rebuilt (worker threads shared by a pool's endpoints); default: this thread. */
  rebuilder?: BlockRebuilder
  score?: Partial<ScoreOptions>
  logger?: Logger
  /** Called when this endpoint is blamed for a fault (the pool bans on invalid data). */
  onFault?: (endpoint: RpcEndpoint, fault: PeerFault, detail: string) => void
}

export const RPC_ENDPOINT_DEFAULTS = {
  // 10 blocks with receipts per HTTP request: few round trips, and a mainnet batch stays ~10-20 MB.
  batchSize: 20,
  // A few parallel requests hide latency without tripping providers' per-connection limits.
  maxConcurrency: 4,
  // Mainnet blocks with receipts can take seconds on a busy public node; a stall is far longer.
  timeoutMs: 30_000,
  // Well above a 10-block mainnet batch, far below what would hurt the process.
  maxResponseBytes: 64 * 1024 * 1024,
} as const

/** Header-only calls (`eth_getBlockByNumber(n, false)`) per HTTP request, per call of the batch size. */
const HEADER_CALLS_PER_CALL = 5

/** Upper bound on blocks or headers per call, whatever the caller asks (bounds one call's memory). */
export const MAX_ITEMS_PER_CALL = 1024

/** An id for logs and metrics without credentials: API keys often sit in the path or the query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    const path = u.pathname
      .split('/')
      .map((seg) => (seg.length >= 16 ? '***' : seg))
      .join('/')
    return `${u.protocol}//${u.host}${path === '/' ? '' : path}`
  } catch {
    return 'invalid-url'
  }
}

/** A block object on a response's tape. */
interface TapeBlock {
  tape: JsonTape
  block: number
}

/** What fetching a block's ommers needs to know about it. */
interface UncleList {
  number: string
  hash: string
  uncles: string[]
}

function uncleList({ tape, block }: TapeBlock): UncleList {
  const uncles = tape.get(block, 'uncles')
  return {
    number: describe(tape, tape.get(block, 'number')),
    hash: describe(tape, tape.get(block, 'hash')),
    uncles: uncles >= 0 && tape.kinds[uncles] === JsonKind.Array ? tape.elements(uncles).map((u) => describe(tape, u)) : [],
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export class RpcEndpoint implements SourcePeer {
  readonly id: string
  readonly kind = 'rpc' as const
  readonly score: EndpointScore
  private readonly transport: JsonRpcTransport
  /** JSON-RPC calls per HTTP request; halved when the endpoint refuses or we cut off a response as too large. */
  private batchSize: number
  private readonly verifyTxHashes: boolean
  private readonly rebuilder: BlockRebuilder
  private readonly logger: Logger
  private readonly onFault: RpcEndpointOptions['onFault']
  private latest: HeadInfo | undefined
  private cachedChainId: bigint | undefined
  private cachedGenesis: Bytes | undefined
  /** Cleared when the endpoint answers eth_getBlockReceipts with "method not found". */
  private blockReceiptsSupported = true

  constructor(options: RpcEndpointOptions) {
    this.id = options.id ?? `rpc:${redactUrl(options.url)}`
    this.transport = new JsonRpcTransport(options.url, {
      timeoutMs: options.timeoutMs ?? RPC_ENDPOINT_DEFAULTS.timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? RPC_ENDPOINT_DEFAULTS.maxResponseBytes,
      maxConcurrency: options.maxConcurrency ?? RPC_ENDPOINT_DEFAULTS.maxConcurrency,
      headers: options.headers,
      onLatency: (ms) => this.score.recordLatency(ms),
    })
    this.batchSize = Math.max(1, options.batchSize ?? RPC_ENDPOINT_DEFAULTS.batchSize)
    this.verifyTxHashes = options.verifyTxHashes ?? false
    this.rebuilder = options.rebuilder ?? new BlockRebuilder(0)
    this.score = new EndpointScore({ ...DEFAULT_SCORE_OPTIONS, ...options.score })
    this.logger = (options.logger ?? silentLogger()).child({ source: this.id })
    this.onFault = options.onFault
  }

  /** Requests currently on the wire. */
  get inFlight(): number {
    return this.transport.inFlight
  }

  head(): HeadInfo | undefined {
    return this.latest
  }

  // -- chain facts ---------------------------------------------------------------------------

  async chainId(opts: RequestOptions = {}): Promise<bigint> {
    if (this.cachedChainId === undefined) {
      this.cachedChainId = await this.tracked(async () => bigintField(await this.transport.call('eth_chainId', [], opts), 'chainId'))
    }
    return this.cachedChainId
  }

  /** Latest block number and hash; updates `head()`. */
  async refreshHead(opts: RequestOptions = {}): Promise<HeadInfo> {
    const head = await this.tagged('latest', opts)
    if (head === undefined) throw badResponse('endpoint has no latest block')
    this.noteHead(head)
    return head
  }

  /** Number of the finalized block, or undefined when the endpoint does not know one (pre-merge, dev chains without it). */
  async finalized(opts: RequestOptions = {}): Promise<number | undefined> {
    return (await this.tagged('finalized', opts))?.number
  }

  /** Number of the "safe" block, or undefined when unsupported. */
  async safe(opts: RequestOptions = {}): Promise<number | undefined> {
    return (await this.tagged('safe', opts))?.number
  }

  /** Raw header RLP of block 0 (hash-checked): a dev chain's genesis comes from its node. */
  async genesisHeader(opts: RequestOptions = {}): Promise<Bytes> {
    if (this.cachedGenesis === undefined) {
      const [header] = await this.getHeaders({ start: 0, count: 1 }, opts)
      if (header === undefined) throw badResponse('endpoint has no block 0')
      this.cachedGenesis = header
    }
    return this.cachedGenesis
  }

  /** eth_getBlockByNumber(tag, false): hash-checked number and hash; JSON-RPC errors (unknown tag) mean "unsupported". */
  private async tagged(tag: 'latest' | 'finalized' | 'safe', opts: RequestOptions): Promise<HeadInfo | undefined> {
    return this.tracked(async () => {
      const [outcome] = await this.transport.batchTape([{ method: 'eth_getBlockByNumber', params: [tag, false] }], opts)
      if (!outcome.ok) {
        if (tag !== 'latest' && (outcome.error.code === RpcErrorCode.ServerError || outcome.error.code === RpcErrorCode.MethodNotFound)) return undefined
        throw outcome.error
      }
      const { tape, result } = outcome
      if (tape.isMissing(result)) return undefined
      const block = objectToken(tape, result, `${tag} block`)
      const hash = checkHeaderHashAt(tape, block, rebuildHeaderAt(tape, block))
      return { number: readNumber(tape, tape.get(block, 'number'), 'number'), hash }
    })
  }

  /** Closes the endpoint's idle kept-alive connections. */
  close(): void {
    this.transport.close()
  }

  private noteHead(head: HeadInfo): void {
    if (this.latest === undefined || head.number >= this.latest.number) this.latest = head
  }

  // -- SourcePeer ------------------------------------------------------------------------------

  /** Whole blocks `from .. from+count-1`; a contiguous prefix (short when the endpoint lacks the rest). */
  async getBlocks(from: number, count: number, withReceipts: boolean, opts: RequestOptions = {}): Promise<RawBlock[]> {
    const n = Math.min(count, MAX_ITEMS_PER_CALL)
    if (n <= 0) return []
    const perRequest = Math.max(1, Math.floor(this.batchSize / (withReceipts ? 2 : 1)))
    const numbers = Array.from({ length: n }, (_, i) => from + i)
    const parts = chunk(numbers, perRequest)
    return this.tracked(() => this.inParallel(parts, (nums) => this.fetchBlocks(nums, withReceipts, opts)))
  }

  /** Headers by number (or starting at a hash), contiguous or with skip/reverse; a prefix of what was asked. */
  async getHeaders(req: HeadersRequest, opts: RequestOptions = {}): Promise<Bytes[]> {
    const count = Math.min(req.count, MAX_ITEMS_PER_CALL)
    if (count <= 0) return []
    return this.tracked(async () => {
      const out: Bytes[] = []
      let start: number
      if (typeof req.start === 'number') {
        start = req.start
      } else {
        const [first] = await this.headersFrom([{ method: 'eth_getBlockByHash', params: [bytesToHex(req.start), false] }], opts)
        if (first === undefined) return out
        out.push(first.header)
        start = first.number
      }
      const step = ((req.skip ?? 0) + 1) * (req.reverse ? -1 : 1)
      const numbers: number[] = []
      for (let i = out.length; i < count; i++) {
        const num = start + i * step
        if (num < 0) break
        numbers.push(num)
      }
      // Header-only answers are a few KB: more calls per request, and the requests in flight at once.
      const parts = chunk(numbers, this.batchSize * HEADER_CALLS_PER_CALL)
      return [...out, ...(await this.inParallel(parts, (part) => this.headersByNumber(part, opts)))]
    })
  }

  /** Bodies of the given blocks, skipping blocks the endpoint does not have. */
  async getBodies(hashes: readonly Bytes[], opts: RequestOptions = {}): Promise<Bytes[]> {
    return this.tracked(async () => {
      const out: Bytes[] = []
      for (const part of chunk(hashes.slice(0, MAX_ITEMS_PER_CALL), this.batchSize)) {
        const hexes = part.map(bytesToHex)
        const results = this.lenient(await this.transport.batchTape(hexes.map((h) => ({ method: 'eth_getBlockByHash', params: [h, true] })), opts))
        const blocks = results.map((r, i) => (r === undefined ? undefined : this.blockByHash(r, hexes[i]))).filter((b): b is TapeBlock => b !== undefined)
        const ommers = await this.fetchOmmers(blocks.map(uncleList), opts)
        blocks.forEach(({ tape, block }, i) => {
          try {
            checkHeaderHashAt(tape, block, rebuildHeaderAt(tape, block))
            out.push(rebuildBodyAt(tape, block, { ommers: ommers[i], verifyTxHashes: this.verifyTxHashes }))
          } catch (err) {
            const number = tape.get(block, 'number')
            throw err instanceof RpcError ? err.withContext(`block ${describe(tape, number)}`, { number: number < 0 ? undefined : tape.value(number) }) : err
          }
        })
      }
      return out
    })
  }

  /** Receipt lists (eth/69 form: no blooms) of the given blocks, skipping blocks the endpoint does not have. */
  async getReceipts(hashes: readonly Bytes[], opts: RequestOptions = {}): Promise<Bytes[]> {
    return this.tracked(async () => {
      const out: Bytes[] = []
      for (const part of chunk(hashes.slice(0, MAX_ITEMS_PER_CALL), this.batchSize)) {
        const hexes = part.map(bytesToHex)
        let lists: Array<readonly unknown[] | undefined>
        if (this.blockReceiptsSupported) {
          const outcomes = await this.transport.batch(hexes.map((h) => ({ method: 'eth_getBlockReceipts', params: [h] })), opts)
          if (outcomes.some((o) => !o.ok && o.error.code === RpcErrorCode.MethodNotFound)) this.disableBlockReceipts()
          lists = this.blockReceiptsSupported
            ? this.lenientValues(outcomes).map((r, i) => (r === null ? undefined : this.receiptArray(r, hexes[i])))
            : await this.receiptsByTxForHashes(hexes, opts)
        } else {
          lists = await this.receiptsByTxForHashes(hexes, opts)
        }
        lists.forEach((list, i) => {
          if (list === undefined) return
          try {
            out.push(rebuildReceipts(list, { blockHash: hexes[i] }))
          } catch (err) {
            throw err instanceof RpcError ? err.withContext(`receipts of block ${hexes[i]}`, { blockHash: hexes[i] }) : err
          }
        })
      }
      return out
    })
  }

  // -- internals -------------------------------------------------------------------------------

  /** Runs one public operation: records success or the failure, reports faults, rethrows typed errors. */
  private async tracked<T>(op: () => Promise<T>): Promise<T> {
    const failuresBefore = this.score.snapshot().failures
    try {
      const result = await op()
      // A partial answer whose later batches failed keeps the back-off those failures set.
      if (this.score.snapshot().failures === failuresBefore) this.score.recordSuccess()
      return result
    } catch (err) {
      const typed = err instanceof RpcError ? err : new RpcError(RpcErrorCode.BadResponse, (err as Error).message, { fault: 'protocol-violation', retryable: true, cause: err })
      this.noteFailure(typed)
      throw typed
    }
  }

  /**
   * Runs one request per part at once (the transport bounds how many are in flight) and joins the
   * answers into the contiguous prefix they cover: a part answered short or failing ends it. A later
   * part failing still leaves a useful prefix; its failure is scored all the same.
   */
  private async inParallel<T>(parts: readonly number[][], fetch: (part: number[]) => Promise<T[]>): Promise<T[]> {
    const settled = await Promise.allSettled(parts.map(fetch))
    const out: T[] = []
    for (const [i, s] of settled.entries()) {
      if (s.status === 'rejected') {
        if (out.length === 0) throw s.reason
        if (s.reason instanceof RpcError) this.noteFailure(s.reason)
        break
      }
      out.push(...s.value)
      if (s.value.length < parts[i].length) break
    }
    return out
  }

  private noteFailure(err: RpcError): void {
    this.score.recordFailure(err)
    if (err.code === RpcErrorCode.ResponseTooLarge && this.batchSize > 1) {
      // Smaller batches make smaller responses; a single block over the limit needs a larger --rpc limit.
      this.batchSize = Math.max(1, Math.floor(this.batchSize / 2))
      this.logger.warn({ batchSize: this.batchSize }, 'response too large; batch size halved')
    }
    this.logger.debug({ code: err.code, details: err.details }, err.message)
    if (err.fault !== undefined) this.onFault?.(this, err.fault, `${err.code}: ${err.message}`)
  }

  private disableBlockReceipts(): void {
    if (!this.blockReceiptsSupported) return
    this.blockReceiptsSupported = false
    this.logger.info('eth_getBlockReceipts not supported; falling back to eth_getTransactionReceipt per transaction')
  }

  /** One batch of blocks by number, with receipts and ommers; a prefix up to the first missing block. */
  private async fetchBlocks(numbers: readonly number[], withReceipts: boolean, opts: RequestOptions): Promise<RawBlock[]> {
    const askReceipts = withReceipts && this.blockReceiptsSupported
    const calls: JsonRpcCall[] = []
    for (const num of numbers) {
      calls.push({ method: 'eth_getBlockByNumber', params: [toQuantity(num), true] })
      if (askReceipts) calls.push({ method: 'eth_getBlockReceipts', params: [toQuantity(num)] })
    }
    let raw = await this.transport.batchRaw(calls, opts)
    if (askReceipts === withReceipts) {
      const rebuilt = await this.rebuilder.rebuild(raw, { numbers, withReceipts, verifyTxHashes: this.verifyTxHashes })
      if ('blocks' in rebuilt) {
        this.noteHead(rebuilt.last)
        return rebuilt.blocks
      }
      raw = rebuilt.declined
    }
    // Not the common case (missing blocks, errors, uncles, no eth_getBlockReceipts): step by step.
    const outcomes = outcomesOf(raw)
    const stride = askReceipts ? 2 : 1
    // Blocks with their receipt lists (tokens of the same tape unless fetched per transaction).
    const found: Array<TapeBlock & { receipts?: number }> = []
    for (let i = 0; i < numbers.length; i++) {
      const block = this.blockOutcome(outcomes[i * stride], numbers[i], found.length === 0)
      if (block === undefined) break
      if (askReceipts) {
        const r = outcomes[i * stride + 1]
        if (!r.ok && r.error.code === RpcErrorCode.MethodNotFound) {
          this.disableBlockReceipts()
        } else {
          const list = this.receiptOutcome(r, describe(block.tape, block.tape.get(block.block, 'hash')), found.length === 0)
          if (list === undefined) break
          found.push({ ...block, receipts: list })
          continue
        }
      }
      found.push(block)
    }
    if (withReceipts && !this.blockReceiptsSupported) {
      const byTx = await this.receiptsByTx(
        found.map(({ tape, block }) => transactionHashTokens(tape, block).map((t) => tape.text(t))),
        opts,
      )
      const missing = byTx.indexOf(undefined)
      // A block whose receipts the endpoint lacks ends the prefix, as a missing block does.
      if (missing >= 0) found.length = missing
      for (let i = 0; i < found.length; i++) {
        // Receipts from other responses: block and receipts go on one tape of their own (a rare path).
        const tape = JsonTape.of([found[i].tape.value(found[i].block), byTx[i]])
        const [block, receipts] = tape.elements(0)
        found[i] = { tape, block, receipts }
      }
    }
    const ommers = await this.fetchOmmers(found.map(uncleList), opts)
    // Synchronous from here: the batch writer is the thread's shared buffer.
    const batch = new BlockBatchWriter()
    let last: { number: number; hash: Bytes } | undefined
    for (let i = 0; i < found.length; i++) {
      const { tape, block, receipts } = found[i]
      const { hash } = batch.add(tape, block, { ommers: ommers[i], receipts: withReceipts ? receipts : undefined, verifyTxHashes: this.verifyTxHashes })
      last = { number: numbers[i], hash }
    }
    const out = batch.finish()
    if (last) this.noteHead(last)
    return out
  }

  /**
   * A block result: its object on the tape, or undefined for "don't have it". A failed call throws
   * when it is the first of the batch (nothing to return), otherwise it ends the prefix.
   */
  private blockOutcome(outcome: TapeOutcome, expected: number, first: boolean): TapeBlock | undefined {
    if (!outcome.ok) {
      if (first) throw outcome.error
      this.noteFailure(outcome.error)
      return undefined
    }
    const { tape, result } = outcome
    if (tape.isMissing(result)) return undefined
    if (tape.kinds[result] !== JsonKind.Object) throw badResponse(`block ${expected} is not an object`)
    const number = readNumber(tape, tape.get(result, 'number'), 'number')
    if (number !== expected) throw new RpcError(RpcErrorCode.Inconsistent, `asked for block ${expected}, got block ${number}`, { fault: 'invalid-data', details: { expected, number } })
    return { tape, block: result }
  }

  /** A receipts result: the list's token, or undefined for "don't have it" (or a failed call after the first). */
  private receiptOutcome(outcome: TapeOutcome, blockHash: string, first: boolean): number | undefined {
    if (!outcome.ok) {
      if (first) throw outcome.error
      this.noteFailure(outcome.error)
      return undefined
    }
    const { tape, result } = outcome
    if (tape.isMissing(result)) return undefined
    if (tape.kinds[result] !== JsonKind.Array) throw badResponse(`receipts of ${blockHash} are not an array`)
    return result
  }

  private receiptArray(result: unknown, blockHash: string): readonly unknown[] {
    if (!Array.isArray(result)) throw badResponse(`receipts of ${blockHash} are not an array`)
    return result
  }

  /** Results of a by-hash batch: a failed call is scored and skipped like a missing item, unless every call failed. */
  private lenient(outcomes: readonly TapeOutcome[]): Array<{ tape: JsonTape; result: number } | undefined> {
    const errors = outcomes.flatMap((o) => (o.ok ? [] : [o.error]))
    if (errors.length > 0 && errors.length === outcomes.length) throw errors[0]
    for (const err of errors) this.noteFailure(err)
    return outcomes.map((o) => (o.ok ? o : undefined))
  }

  /** `lenient` for results as JS values (null for a failed or missing item). */
  private lenientValues(outcomes: readonly JsonRpcOutcome[]): unknown[] {
    const errors = outcomes.flatMap((o) => (o.ok ? [] : [o.error]))
    if (errors.length > 0 && errors.length === outcomes.length) throw errors[0]
    for (const err of errors) this.noteFailure(err)
    return outcomes.map((o) => (o.ok ? o.result : null))
  }

  /** Headers from eth_getBlockBy{Number,Hash}(x, false) calls: rebuilt, hash-checked, a prefix up to the first missing one. */
  /** Headers of consecutive `numbers`, rebuilt where block batches are (a worker thread) when every answer is there. */
  private async headersByNumber(numbers: readonly number[], opts: RequestOptions): Promise<Bytes[]> {
    const calls = numbers.map((num) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(num), false] }))
    const raw = await this.transport.batchRaw(calls, opts)
    const rebuilt = await this.rebuilder.rebuild(raw, { numbers, withReceipts: false, verifyTxHashes: false, headersOnly: true })
    if ('blocks' in rebuilt) {
      this.noteHead(rebuilt.last)
      return rebuilt.blocks.map((b) => b.header)
    }
    return this.headersOf(outcomesOf(rebuilt.declined), calls, numbers).map((h) => h.header)
  }

  private async headersFrom(calls: JsonRpcCall[], opts: RequestOptions): Promise<Array<{ header: Bytes; number: number }>> {
    return this.headersOf(await this.transport.batchTape(calls, opts), calls)
  }

  /** The answers' headers, hash-checked: a prefix, ending at the first block the endpoint lacks. */
  private headersOf(outcomes: readonly TapeOutcome[], calls: readonly JsonRpcCall[], numbers?: readonly number[]): Array<{ header: Bytes; number: number }> {
    const out: Array<{ header: Bytes; number: number }> = []
    for (const [i, outcome] of outcomes.entries()) {
      let found: TapeBlock | undefined
      if (numbers) found = this.blockOutcome(outcome, numbers[i], out.length === 0)
      else if (outcome.ok) found = this.blockByHash(outcome, calls[i].params[0] as string)
      else throw outcome.error
      if (found === undefined) break
      const { tape, block } = found
      const header = rebuildHeaderAt(tape, block)
      checkHeaderHashAt(tape, block, header)
      out.push({ header, number: readNumber(tape, tape.get(block, 'number'), 'number') })
    }
    return out
  }

  /** A block fetched by hash: undefined when missing; the block must be the one asked for. */
  private blockByHash({ tape, result }: { tape: JsonTape; result: number }, hash: string): TapeBlock | undefined {
    if (tape.isMissing(result)) return undefined
    if (tape.kinds[result] !== JsonKind.Object) throw badResponse(`block ${hash} is not an object`)
    const got = tape.get(result, 'hash')
    if (got < 0 || tape.kinds[got] !== JsonKind.String || tape.text(got).toLowerCase() !== hash.toLowerCase()) {
      throw new RpcError(RpcErrorCode.Inconsistent, `asked for block ${hash}, got ${describe(tape, got)}`, { fault: 'invalid-data' })
    }
    return { tape, block: result }
  }

  /** Ommer headers per block (eth_getUncleByBlockHashAndIndex), each hash-checked against the block's `uncles` list. */
  private async fetchOmmers(blocks: readonly UncleList[], opts: RequestOptions): Promise<Bytes[][]> {
    const wanted: Array<{ block: number; hash: string }> = []
    const out: Bytes[][] = blocks.map(() => [])
    blocks.forEach((b, i) => {
      for (const hash of b.uncles) wanted.push({ block: i, hash })
    })
    if (wanted.length === 0) return out
    const indexOf = new Map<number, number>()
    const calls = wanted.map(({ block }) => {
      const idx = indexOf.get(block) ?? 0
      indexOf.set(block, idx + 1)
      return { method: 'eth_getUncleByBlockHashAndIndex', params: [blocks[block].hash, toQuantity(idx)] }
    })
    const size = this.batchSize
    for (const [c, part] of chunk(calls, size).entries()) {
      const outcomes = await this.transport.batchTape(part, opts)
      outcomes.forEach((o, j) => {
        const w = wanted[c * size + j]
        if (!o.ok) throw o.error
        if (o.tape.isMissing(o.result) || o.tape.kinds[o.result] !== JsonKind.Object) throw badResponse(`uncle ${w.hash} of block ${blocks[w.block].number} is missing`)
        const header = rebuildHeaderAt(o.tape, o.result)
        const hash = checkHeaderHashAt(o.tape, o.result, header, 'uncle')
        if (bytesToHex(hash) !== w.hash.toLowerCase()) {
          throw new RpcError(RpcErrorCode.Inconsistent, `uncle ${bytesToHex(hash)} is not the listed ${w.hash}`, { fault: 'invalid-data' })
        }
        out[w.block].push(header)
      })
    }
    return out
  }

  /** Receipts through eth_getTransactionReceipt (per block: its transaction hashes), for endpoints without eth_getBlockReceipts. */
  private async receiptsByTx(txHashes: readonly string[][], opts: RequestOptions): Promise<Array<unknown[] | undefined>> {
    const calls = txHashes.flat().map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] }))
    const results: unknown[] = []
    for (const part of chunk(calls, this.batchSize)) {
      for (const o of await this.transport.batch(part, opts)) {
        if (!o.ok) throw o.error
        results.push(o.result)
      }
    }
    let pos = 0
    return txHashes.map((hashes) => {
      const list = results.slice(pos, pos + hashes.length)
      pos += hashes.length
      return list.some((r) => r === null) ? undefined : list
    })
  }

  private async receiptsByTxForHashes(hexes: readonly string[], opts: RequestOptions): Promise<Array<readonly unknown[] | undefined>> {
    const results = this.lenient(await this.transport.batchTape(hexes.map((h) => ({ method: 'eth_getBlockByHash', params: [h, false] })), opts))
    const found = results.map((r, i) => (r === undefined ? undefined : this.blockByHash(r, hexes[i])))
    const present = found.filter((b): b is TapeBlock => b !== undefined)
    const lists = await this.receiptsByTx(present.map(({ tape, block }) => transactionHashTokens(tape, block).map((t) => tape.text(t))), opts)
    let k = 0
    return found.map((b) => (b === undefined ? undefined : lists[k++]))
  }
}

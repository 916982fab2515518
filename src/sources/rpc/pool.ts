/**
 * The JSON-RPC endpoints of one sync (`--rpc URL`, repeatable), scored and failed over like peers.
 *
 * Start-up probes every endpoint (eth_chainId + latest block); endpoints on another chain are
 * excluded for good, unreachable ones are re-probed in the background. A head poll keeps each
 * endpoint's head fresh. Invalid data (a header that does not hash to its block hash, or a root the
 * validator rejects and reports) bans an endpoint for a while; timeouts, rate limits and errors only
 * back it off. `request()` routes an operation to the best ready endpoint and moves on to the next on
 * failure, waiting out back-offs (bounded by the caller's signal) when every endpoint is resting.
 */
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { silentLogger } from '../../logger.js'
import type { Bytes } from '../../primitives/bytes.js'
import type { HeadInfo, HeadersRequest, PeerFault, RawBlock, RequestOptions, SourcePeer, SourcePool, SourcePoolEvents } from '../types.js'
import { BlockRebuilder, defaultRebuildThreads } from './batch-rebuild.js'
import { RpcEndpoint, redactUrl, type RpcEndpointOptions } from './endpoint.js'
import { RpcError, RpcErrorCode } from './errors.js'

export interface RpcPoolOptions extends Omit<RpcEndpointOptions, 'url' | 'id' | 'onFault' | 'rebuilder'> {
  urls: readonly string[]
  /** Worker threads rebuilding block batches from response bytes (0: the main thread); default one when there is a core to spare. */
  rebuildThreads?: number
  /** Refuse endpoints serving another chain; without it the majority of the first probe decides. */
  expectedChainId?: bigint
  /** Head refresh and re-probe period. */
  headPollMs?: number
  /** Endpoints tried per request before giving up (a back-off may make the same one come round again). */
  maxAttempts?: number
  /** Timeout of the start-up probe of one endpoint. */
  probeTimeoutMs?: number
}

export const RPC_POOL_DEFAULTS = {
  headPollMs: 4_000, // a third of a mainnet slot: heads are at most one block stale
  probeTimeoutMs: 10_000,
} as const

type EndpointState = 'pending' | 'admitted' | 'banned' | 'excluded'

export class RpcPool implements SourcePool {
  readonly kind = 'rpc' as const
  readonly endpoints: readonly RpcEndpoint[]
  private readonly state = new Map<RpcEndpoint, EndpointState>()
  private readonly events = new EventEmitter()
  private readonly logger: Logger
  private readonly lifetime = new AbortController()
  private readonly headPollMs: number
  private readonly probeTimeoutMs: number
  private readonly maxAttempts: number
  private readonly rebuilder: BlockRebuilder
  private chain: bigint | undefined
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined

  constructor(private readonly options: RpcPoolOptions) {
    if (options.urls.length === 0) throw new ConfigError('RPC_NO_URLS', 'at least one --rpc URL is required')
    this.logger = (options.logger ?? silentLogger()).child({ component: 'rpc-pool' })
    this.rebuilder = new BlockRebuilder(options.rebuildThreads ?? defaultRebuildThreads())
    const seen = new Map<string, number>()
    this.endpoints = options.urls.map((url) => {
      // Two URLs on one host may differ only in a redacted key: keep their ids distinct.
      const base = `rpc:${redactUrl(url)}`
      const n = (seen.get(base) ?? 0) + 1
      seen.set(base, n)
      const id = n === 1 ? base : `${base}#${n}`
      const ep = new RpcEndpoint({ ...options, url, id, logger: this.logger, rebuilder: this.rebuilder, onFault: (e, fault, detail) => this.handleFault(e, fault, detail, true) })
      this.state.set(ep, 'pending')
      return ep
    })
    this.chain = options.expectedChainId
    this.headPollMs = options.headPollMs ?? RPC_POOL_DEFAULTS.headPollMs
    this.probeTimeoutMs = options.probeTimeoutMs ?? RPC_POOL_DEFAULTS.probeTimeoutMs
    this.maxAttempts = options.maxAttempts ?? Math.max(3, 2 * this.endpoints.length)
  }

  // -- lifecycle -------------------------------------------------------------------------------

  /** Probes every endpoint; resolves once at least one is usable, rejects when none is. */
  async start(): Promise<void> {
    const probes = await Promise.all(this.endpoints.map(async (ep) => ({ ep, chainId: await this.probeChain(ep) })))
    if (this.chain === undefined) this.chain = majority(probes.map((p) => p.chainId).filter((c): c is bigint => c !== undefined))
    for (const { ep, chainId } of probes) if (chainId !== undefined) this.admitOrExclude(ep, chainId)
    this.timer = setInterval(() => void this.poll(), this.headPollMs)
    this.timer.unref()
    if (this.peers().length === 0) {
      await this.stop()
      const wrongChain = [...this.state.values()].every((s) => s === 'excluded')
      if (wrongChain) {
        throw new ConfigError(RpcErrorCode.WrongChain, `no --rpc endpoint serves chain ${String(this.chain)}`, { details: { expectedChainId: String(this.chain) } })
      }
      throw new RpcError(RpcErrorCode.NoEndpoint, 'no --rpc endpoint answered', {
        retryable: true,
        details: { endpoints: this.endpoints.map((e) => ({ id: e.id, lastError: e.score.snapshot().lastError })) },
      })
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.lifetime.abort()
    await this.polling
    await this.rebuilder.close()
    for (const ep of this.endpoints) ep.close()
  }

  peers(): RpcEndpoint[] {
    return this.endpoints.filter((ep) => this.state.get(ep) === 'admitted')
  }

  chainId(): bigint | undefined {
    return this.chain
  }

  /** The highest head any usable endpoint reported. */
  head(): HeadInfo | undefined {
    let best: HeadInfo | undefined
    for (const ep of this.peers()) {
      const h = ep.head()
      if (h && (!best || h.number > best.number)) best = h
    }
    return best
  }

  on<E extends keyof SourcePoolEvents>(event: E, listener: SourcePoolEvents[E]): this {
    this.events.on(event, listener)
    return this
  }

  off<E extends keyof SourcePoolEvents>(event: E, listener: SourcePoolEvents[E]): this {
    this.events.off(event, listener)
    return this
  }

  /** A fault found by the caller (e.g. the validator rejected a body): invalid data bans the endpoint. */
  report(peer: SourcePeer, fault: PeerFault, detail?: string): void {
    const ep = this.endpoints.find((e) => e === peer)
    if (ep) this.handleFault(ep, fault, detail ?? fault, false)
  }

  // -- failover --------------------------------------------------------------------------------

  /**
   * Runs `op` on the best ready endpoint, moving on to the next on failure. Endpoints whose known
   * head reaches `minBlock` are preferred. When `accept` rejects a result (e.g. an empty answer)
   * another endpoint is tried and the last result is returned if none does better.
   */
  async request<T>(op: (ep: RpcEndpoint) => Promise<T>, opts: RequestOptions & { minBlock?: number; accept?: (result: T) => boolean } = {}): Promise<T> {
    const tried = new Set<RpcEndpoint>()
    let lastError: RpcError | undefined
    let fallback: { value: T } | undefined
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const ep = await this.pick(tried, opts.minBlock, opts.signal, fallback !== undefined)
      if (ep === undefined) break
      tried.add(ep)
      try {
        const result = await op(ep)
        if (!opts.accept || opts.accept(result)) return result
        fallback = { value: result }
      } catch (err) {
        if (!(err instanceof RpcError) || err.code === RpcErrorCode.Aborted) throw err
        // Not the endpoint's fault and not transient (e.g. an unsupported tx type): nobody else will do better.
        if (!err.retryable && err.fault === undefined) throw err
        lastError = err
        this.logger.debug({ endpoint: ep.id, code: err.code, attempt }, 'rpc request failed, trying another endpoint')
      }
    }
    if (fallback) return fallback.value
    throw lastError ?? new RpcError(RpcErrorCode.NoEndpoint, 'no usable --rpc endpoint', { retryable: true })
  }

  getBlocks(from: number, count: number, withReceipts: boolean, opts: RequestOptions = {}): Promise<RawBlock[]> {
    return this.request((ep) => ep.getBlocks(from, count, withReceipts, opts), { ...opts, minBlock: from, accept: (r) => r.length > 0 })
  }

  getHeaders(req: HeadersRequest, opts: RequestOptions = {}): Promise<Bytes[]> {
    const minBlock = typeof req.start === 'number' ? req.start : undefined
    return this.request((ep) => ep.getHeaders(req, opts), { ...opts, minBlock, accept: (r) => r.length > 0 })
  }

  getBodies(hashes: readonly Bytes[], opts: RequestOptions = {}): Promise<Bytes[]> {
    return this.request((ep) => ep.getBodies(hashes, opts), { ...opts, accept: (r) => r.length > 0 || hashes.length === 0 })
  }

  getReceipts(hashes: readonly Bytes[], opts: RequestOptions = {}): Promise<Bytes[]> {
    return this.request((ep) => ep.getReceipts(hashes, opts), { ...opts, accept: (r) => r.length > 0 || hashes.length === 0 })
  }

  /** The finalized block number from the best endpoint (the Syncer's reorg window); undefined when unknown. */
  async finalized(opts: RequestOptions = {}): Promise<number | undefined> {
    return this.request((ep) => ep.finalized(opts), opts)
  }

  /** Raw header of block 0 from the endpoints (dev chains define their genesis themselves). */
  async genesisHeader(opts: RequestOptions = {}): Promise<Bytes> {
    return this.request((ep) => ep.genesisHeader(opts), opts)
  }

  // -- internals -------------------------------------------------------------------------------

  /**
   * The ready endpoint with the best score, untried ones first; waits for the earliest back-off to
   * end when all are resting. Undefined when no endpoint can serve (none usable, or only tried ones
   * remain and `untriedOnly`).
   */
  private async pick(tried: Set<RpcEndpoint>, minBlock: number | undefined, signal: AbortSignal | undefined, untriedOnly: boolean): Promise<RpcEndpoint | undefined> {
    for (;;) {
      const usable = this.peers()
      const untried = usable.filter((ep) => !tried.has(ep))
      const candidates = untried.length > 0 || untriedOnly ? untried : usable
      if (candidates.length === 0) return undefined
      const now = Date.now()
      const ready = candidates.filter((ep) => ep.score.isReady(now))
      if (ready.length > 0) {
        const reaches = (ep: RpcEndpoint) => minBlock === undefined || (ep.head()?.number ?? Infinity) >= minBlock
        const preferred = ready.some(reaches) ? ready.filter(reaches) : ready
        return preferred.reduce((best, ep) => (ep.score.value(ep.inFlight) > best.score.value(best.inFlight) ? ep : best))
      }
      const wait = Math.min(...candidates.map((ep) => ep.score.readyAt())) - now
      const signals = [this.lifetime.signal, ...(signal ? [signal] : [])]
      try {
        await sleep(Math.max(1, wait), undefined, { signal: AbortSignal.any(signals) })
      } catch {
        throw new RpcError(RpcErrorCode.Aborted, 'request aborted while every endpoint was backing off')
      }
    }
  }

  private handleFault(ep: RpcEndpoint, fault: PeerFault, detail: string, alreadyScored: boolean): void {
    if (!alreadyScored && fault !== 'invalid-data') ep.score.recordFault(fault)
    if (fault !== 'invalid-data') return
    ep.score.ban()
    if (this.state.get(ep) === 'admitted') {
      this.state.set(ep, 'banned')
      this.logger.warn({ endpoint: ep.id, detail }, 'rpc endpoint served invalid data; banned')
      this.events.emit('peer:removed', ep, `invalid data: ${detail}`)
    }
  }

  /** eth_chainId + latest head; undefined when the endpoint does not answer (it stays pending). */
  private async probeChain(ep: RpcEndpoint): Promise<bigint | undefined> {
    const signal = AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(this.probeTimeoutMs)])
    try {
      const chainId = await ep.chainId({ signal, timeoutMs: this.probeTimeoutMs })
      await ep.refreshHead({ signal, timeoutMs: this.probeTimeoutMs })
      return chainId
    } catch (err) {
      this.logger.warn({ endpoint: ep.id, code: (err as RpcError).code }, `rpc endpoint unavailable: ${(err as Error).message}`)
      return undefined
    }
  }

  private admitOrExclude(ep: RpcEndpoint, chainId: bigint): void {
    if (chainId !== this.chain) {
      this.state.set(ep, 'excluded')
      this.logger.error({ endpoint: ep.id, chainId: String(chainId), expected: String(this.chain) }, 'rpc endpoint serves another chain; excluded')
      this.events.emit('peer:removed', ep, `wrong chain ${chainId}`)
      return
    }
    this.state.set(ep, 'admitted')
    this.logger.info({ endpoint: ep.id, head: ep.head()?.number }, 'rpc endpoint ready')
    this.events.emit('peer:added', ep)
  }

  /** Refreshes heads, re-probes pending endpoints and re-admits endpoints whose ban has expired. */
  private poll(): Promise<void> {
    if (this.polling) return this.polling
    this.polling = (async () => {
      await Promise.all(
        this.endpoints.map(async (ep) => {
          const state = this.state.get(ep)
          if (state === 'excluded' || this.lifetime.signal.aborted) return
          if (state === 'banned' && ep.score.isBanned()) return
          if (state === 'admitted') {
            await ep.refreshHead({ signal: this.lifetime.signal, timeoutMs: this.probeTimeoutMs }).catch(() => undefined)
            return
          }
          if (!ep.score.isReady()) return
          const chainId = await this.probeChain(ep)
          if (chainId !== undefined && this.chain !== undefined && !this.lifetime.signal.aborted) this.admitOrExclude(ep, chainId)
        }),
      )
    })().finally(() => {
      this.polling = undefined
    })
    return this.polling
  }
}

function majority(values: readonly bigint[]): bigint | undefined {
  const counts = new Map<bigint, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: bigint | undefined
  for (const [v, n] of counts) if (best === undefined || n > counts.get(best)!) best = v
  return best
}

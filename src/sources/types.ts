/**
 * The contract between sources (devp2p peers, JSON-RPC endpoints) and the downloader. A source is
 * never trusted: it returns raw RLP bytes, and the validator hashes exactly what was received.
 *
 * Answers may be short (fewer items than asked) and, for bodies and receipts, may skip items: the
 * caller matches each body/receipt list to a header by recomputing its root, never by position.
 * A short or empty answer is normal ("don't have it"), not a fault.
 */
import type { Bytes } from '../primitives/bytes.js'

export type SourceKind = 'devp2p' | 'rpc'

/** The per-block data a source serves, one request kind each. */
export type RequestKind = 'headers' | 'bodies' | 'receipts'

export interface HeadInfo {
  number: number
  hash: Bytes
  /** Pre-merge total difficulty, where the source reports it (eth/66-68 status). */
  totalDifficulty?: bigint
}

export interface HeadersRequest {
  /** First block: by number or by hash. */
  start: number | Bytes
  count: number
  /** Blocks skipped between consecutive headers (0 = contiguous). */
  skip?: number
  /** Walk towards genesis. */
  reverse?: boolean
}

/** A full block as some sources (JSON-RPC) deliver it: raw header, body and receipts RLP. */
export interface RawBlock {
  header: Bytes
  /** rlp([txs, ommers, withdrawals?]) */
  body: Bytes
  /** rlp(list of receipts), eth/68 (with bloom) or eth/69 (without) form. */
  receipts?: Bytes
}

export interface RequestOptions {
  signal?: AbortSignal
  /** Overrides the source's default timeout for this request. */
  timeoutMs?: number
}

/** One peer or endpoint. All methods reject with a SourceError on timeout, abort or protocol failure. */
export interface SourcePeer {
  readonly id: string
  readonly kind: SourceKind
  /** Best block this source has announced (updated as it announces more). */
  head(): HeadInfo | undefined
  /** Raw header RLP, in the order asked, possibly fewer than `count`. */
  getHeaders(req: HeadersRequest, opts?: RequestOptions): Promise<Bytes[]>
  /** Raw body RLP per block: rlp([txs, ommers, withdrawals?]); possibly fewer or skipping items. */
  getBodies(hashes: readonly Bytes[], opts?: RequestOptions): Promise<Bytes[]>
  /** Raw receipt list RLP per block, eth/68 or eth/69 form; possibly fewer or skipping items. */
  getReceipts(hashes: readonly Bytes[], opts?: RequestOptions): Promise<Bytes[]>
  /** Highest block the source considers final (JSON-RPC `finalized` tag); the reorg window's floor. */
  finalized?(): Promise<number | undefined>
  /**
   * Items the next request of `kind` should ask for, sized from the source's measured throughput and
   * round-trip time (larger requests are cut to this). Absent for sources that do not measure.
   */
  capacity?(kind: RequestKind): number
  /** Requests of `kind` that can start now without queueing behind in-flight ones. */
  idleSlots?(kind: RequestKind): number
  /** Whole blocks by number range, for sources that serve them in one call (JSON-RPC). */
  getBlocks?(from: number, count: number, withReceipts: boolean, opts?: RequestOptions): Promise<RawBlock[]>
}

/** Why a source is being penalised; the pool maps kinds to score changes, disconnects and bans. */
export type PeerFault = 'timeout' | 'invalid-data' | 'protocol-violation' | 'disconnected' | 'useless'

export interface SourcePoolEvents {
  'peer:added': (peer: SourcePeer) => void
  'peer:removed': (peer: SourcePeer, reason: string) => void
  /** A peer announced a higher head than it had (head() already returns it). */
  'peer:head': (peer: SourcePeer, head: HeadInfo) => void
}

/** A set of live sources of one kind, kept connected, scored and banned by the pool. */
export interface SourcePool {
  readonly kind: SourceKind
  start(): Promise<void>
  stop(): Promise<void>
  peers(): SourcePeer[]
  /** Chain id the sources reported (status / eth_chainId), once known. */
  chainId?(): bigint | undefined
  /** Reports a fault caused by a peer; invalid data leads to a disconnect and a ban. */
  report(peer: SourcePeer, fault: PeerFault, detail?: string): void
  on<E extends keyof SourcePoolEvents>(event: E, listener: SourcePoolEvents[E]): this
  off<E extends keyof SourcePoolEvents>(event: E, listener: SourcePoolEvents[E]): this
}

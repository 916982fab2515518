/**
 * The storage contract. A block reaches the store already verified, as the raw bytes it arrived in;
 * the store keeps those bytes (receipts in the compact eth/69 form) and a commit record that says how
 * far the canonical chain is complete. Everything above the committed head is invisible to readers.
 */
import type { Bytes } from '../primitives/bytes.js'

/** A block the validator has accepted: raw RLP of its parts plus the identity fields the writer needs. */
export interface VerifiedBlock {
  number: number
  /** keccak256(header) */
  hash: Bytes
  parentHash: Bytes
  /** Header RLP as received. */
  header: Bytes
  /** rlp([txs, ommers, withdrawals?]) as received; absent only in a headers-only store. */
  body?: Bytes
  /** The block's receipt list, eth/68 (with blooms) or eth/69 (without); stored as eth/69. Absent only in a headers-only store. */
  receipts?: Bytes
  /** `receipts` is known to be in the stored eth/69 form already (e.g. its validator decoded it): the store skips its shape test. */
  receiptsEth69?: boolean
}

/** A verified block with every part (what a full sync writes). */
export interface FullBlock extends VerifiedBlock {
  body: Bytes
  receipts: Bytes
}

/** The chain a store holds; recorded on first open, checked on every later open for writing. */
export interface ChainIdentity {
  name: string
  chainId: bigint
  genesisHash: Bytes
  /** A stable description of the fork schedule (the chain adapter decides its format). */
  forkConfig?: string
}

/**
 * The commit record `sync:progress` (SPEC §5). Written last in every batch: the blocks
 * `firstBlock..currentBlock` are complete (blobs and canonical pointers) and `lastHash` is the hash
 * of `currentBlock`. `currentBlock = firstBlock - 1` means nothing is committed yet.
 */
export interface SyncProgress {
  /** Lowest block the store holds (the sync's first block); fixed when the first batch is written. */
  firstBlock: number
  currentBlock: number
  lastHash: Bytes
  targetBlock: number
  /** Block and wall-clock time (ms since epoch) at which the current sync session started. */
  startBlock: number
  startTime: number
  /** Blocks per second over the recent batches. */
  speed: number
  reorgCount: number
  /** Depth of the most recent reorg (blocks unwound). */
  lastReorgDepth: number
  /** Blocks written over the store's lifetime (re-writes after reorgs included). */
  totalSynced: number
  /** Wall-clock time (ms) of this record. */
  updatedAt: number
  /** The store holds the verified header chain only (`sync --headers-only`): no bodies or receipts. */
  headersOnly: boolean
}

/** The commit record fields the writer decides; the store fills in firstBlock, currentBlock and lastHash. */
export type ProgressFields = Omit<SyncProgress, 'firstBlock' | 'currentBlock' | 'lastHash'>

/** The committed head: the highest block readers may trust. */
export interface Head {
  number: number
  hash: Bytes
}

/** One block as stored: the raw header and body, and the receipts in eth/69 form. */
export interface StoredBlock {
  number: number
  hash: Bytes
  header: Bytes
  /** Absent in a headers-only store. */
  body?: Bytes
  /** Absent in a headers-only store. */
  receipts?: Bytes
}

/** Whatever the store holds under one block hash, with no canonical check (verify reads these). */
export interface BlockBlobs {
  header?: Bytes
  body?: Bytes
  receipts?: Bytes
  /** The hash -> number entry. */
  number?: number
}

/** What `repairTail` found above the commit record and removed. */
export interface TailRepair {
  /** Canonical pointers above the committed head that were dropped (ascending), empty if none. */
  dropped: number[]
}

export interface Store {
  /** The store's URL with any password removed (for logs). */
  readonly url: string
  /**
   * Connection generation: bumps whenever the backend reconnects (a restarted Redis may have lost
   * acknowledged writes). Always 0 for LMDB.
   */
  readonly epoch: number
  /**
   * True when an acknowledged write survives a crash of the store itself (LMDB). False for Redis/Pika,
   * where a restarted server may have lost the last second of acknowledged writes (AOF everysec).
   */
  readonly durable: boolean

  /** The recorded chain, if any. */
  chain(): Promise<ChainIdentity | undefined>
  /** Records `chain` on first use; throws StoreError STORE_CHAIN_MISMATCH if the store holds another chain. */
  claimChain(chain: ChainIdentity, options?: { acceptForkConfigChange?: boolean }): Promise<void>

  /** The commit record, undefined for an empty store. */
  progress(): Promise<SyncProgress | undefined>
  /** The committed head, undefined when nothing is committed. */
  head(): Promise<Head | undefined>
  /** Canonical hashes of blocks `from..to`, trusted only up to the committed head (undefined above it). */
  canonicalHashes(from: number, to: number): Promise<Array<Bytes | undefined>>
  /** A committed canonical block by number or hash, undefined if absent or not committed. */
  block(id: number | Bytes): Promise<StoredBlock | undefined>
  /** The blobs stored under each hash (one round trip), committed or not. */
  blobs(hashes: readonly Bytes[]): Promise<BlockBlobs[]>

  /**
   * Writes a linked run of verified blocks in crash-safe order: blobs, then canonical pointers, then
   * the commit record (`progress` plus the run's last block as head). The first block must extend the
   * committed head, or start an empty store (which then begins at that block). Returns the new head.
   */
  writeBatch(blocks: readonly VerifiedBlock[], progress: ProgressFields, options?: WriteOptions): Promise<Head>
  /**
   * Unwinds the committed chain to `ancestor` (a reorg; `firstBlock - 1` empties it): the commit
   * record moves down first, then the canonical pointers above it are deleted, highest first. Returns
   * the new head (the ancestor; for `firstBlock - 1`, the first block's parent).
   */
  rewind(ancestor: number, progress: ProgressFields, options?: WriteOptions): Promise<Head>
  /** Drops canonical pointers above the committed head left by an interrupted batch. */
  repairTail(options?: WriteOptions): Promise<TailRepair>
  /** Pointers present above the committed head (a batch in flight, or a crash not yet repaired). */
  tail(): Promise<number[]>

  close(): Promise<void>
}

export interface WriteOptions {
  /**
   * Refuse to write unless the connection is still this generation (see `Store.epoch`): a write must
   * never land on a restarted server whose lost writes have not been re-checked.
   */
  epoch?: number
}

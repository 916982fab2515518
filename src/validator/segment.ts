/**
 * Chain validation (SPEC §3 step 4): an ordered segment of blocks linked by parent hash is validated
 * block by block, carrying along what the next block needs — the parent header, the total
 * difficulty (merge transition), the consensus engine state (Clique signers, Parlia validators) and a
 * window of recent ancestors for ommer rules. Validation stops at the first invalid block: nothing
 * after it can be trusted to link to a valid chain.
 *
 * Reorg detection is a pure comparison (`detectConflict`); the Syncer decides what to do with it.
 */
import type { Chain } from '../chain/chain.js'
import type { ConsensusState } from '../chain/consensus/types.js'
import type { ValidationError } from '../errors.js'
import type { BlockBody } from '../primitives/body.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import type { BlockHeader } from '../primitives/header.js'
import { keccak256 } from '../primitives/keccak.js'
import type { Receipt } from '../primitives/receipt.js'
import { type Ancestry, MAX_OMMER_DEPTH, validateBlock } from './block.js'
import { validateHeader } from './header.js'

export interface SegmentBlock {
  header: BlockHeader
  /** Without a body only the header rules run (header-first download). */
  body?: BlockBody
  receipts?: Receipt[]
}

/** Where a segment attaches: the block before its first block, and the state after it. */
export interface SegmentAnchor {
  header: BlockHeader
  /** Total difficulty including `header` (pre-merge chains). */
  totalDifficulty?: bigint
  /** Engine state after `header`; derived from it when it is a checkpoint/epoch block. */
  consensusState?: ConsensusState
  /** Recent ancestors of the anchor (for ommer rules). */
  ancestry?: Ancestry
}

export interface SegmentOptions {
  recoverSenders?: boolean
}

export interface SegmentFailure {
  index: number
  number: number
  hash: string
  errors: ValidationError[]
}

export interface SegmentResult {
  /** Number of leading blocks that are valid. */
  validCount: number
  failure?: SegmentFailure
  /** Anchor for the next segment: the last valid block and the state after it. */
  next?: SegmentAnchor
}

/** Ancestors an ommer rule can look back to: the ommer depth, the ommer's parent and the block's parent. */
const WINDOW_SIZE = MAX_OMMER_DEPTH + 2

/** A rolling window of recent headers and their ommer hashes, seeded by the anchor's ancestry. */
class AncestorWindow implements Ancestry {
  private readonly headers = new Map<string, BlockHeader>()
  private readonly ommers = new Map<string, readonly Bytes[]>()
  private readonly order: string[] = []
  private readonly base: Ancestry | undefined

  /**
   * A window seeded by the previous segment's window copies its entries instead of linking to it:
   * linked windows would keep every header of the sync alive. Only a window not yet full still
   * needs what lies behind it.
   */
  constructor(base: Ancestry | undefined) {
    if (!(base instanceof AncestorWindow)) {
      this.base = base
      return
    }
    for (const key of base.order) {
      this.headers.set(key, base.headers.get(key)!)
      const ommers = base.ommers.get(key)
      if (ommers) this.ommers.set(key, ommers)
      this.order.push(key)
    }
    this.base = this.order.length >= WINDOW_SIZE ? undefined : base.base
  }

  add(header: BlockHeader, ommerHashes: readonly Bytes[] | undefined): void {
    const key = bytesToHex(header.hash)
    if (this.headers.has(key)) return
    this.headers.set(key, header)
    if (ommerHashes) this.ommers.set(key, ommerHashes)
    this.order.push(key)
    while (this.order.length > WINDOW_SIZE) {
      const old = this.order.shift() as string
      this.headers.delete(old)
      this.ommers.delete(old)
    }
  }

  header(hash: Bytes): BlockHeader | undefined {
    return this.headers.get(bytesToHex(hash)) ?? this.base?.header(hash)
  }

  ommerHashes(hash: Bytes): readonly Bytes[] | undefined {
    const key = bytesToHex(hash)
    return this.headers.has(key) ? this.ommers.get(key) : this.base?.ommerHashes(hash)
  }
}

function ommerHashesOf(body: BlockBody | undefined): Bytes[] | undefined {
  if (!body) return undefined
  try {
    return body.ommerHeadersRaw().map((raw) => keccak256(raw))
  } catch {
    return undefined
  }
}

/** Validates `blocks` in order on top of `anchor` (or as a detached run when there is none). */
export function validateSegment(chain: Chain, blocks: readonly SegmentBlock[], anchor?: SegmentAnchor, opts: SegmentOptions = {}): SegmentResult {
  const engine = chain.consensus
  let parent = anchor?.header
  let td = anchor?.totalDifficulty
  let state: ConsensusState | undefined = anchor?.consensusState ?? (parent ? engine.stateFromCheckpoint?.(parent) : undefined)
  const window = new AncestorWindow(anchor?.ancestry)
  if (parent) window.add(parent, anchor?.ancestry?.ommerHashes(parent.hash))
  for (let index = 0; index < blocks.length; index++) {
    const { header, body, receipts } = blocks[index]
    const errors = body
      ? validateBlock(chain, { header, body, receipts }, parent, {
          parentTotalDifficulty: td,
          consensusState: state,
          ancestry: parent ? window : undefined,
          recoverSenders: opts.recoverSenders,
        })
      : validateHeader(header, { chain, parent, parentTotalDifficulty: td, consensusState: state })
    if (errors.length > 0) {
      return {
        validCount: index,
        failure: { index, number: header.number, hash: bytesToHex(header.hash), errors },
        next: parent && { header: parent, totalDifficulty: td, consensusState: state, ancestry: window },
      }
    }
    state = engine.stateAfter ? engine.stateAfter(header, state) : state
    td = td === undefined ? undefined : td + header.difficulty
    window.add(header, ommerHashesOf(body))
    parent = header
  }
  return { validCount: blocks.length, next: parent && { header: parent, totalDifficulty: td, consensusState: state, ancestry: window } }
}

/** Two different blocks at the same height: the stored one and the one just received. */
export interface ReorgConflict {
  number: number
  storedHash: Bytes
  newHash: Bytes
}

/** Compares the stored hash at `number` with a newly received one; a difference is a reorg to act on. */
export function detectConflict(storedHash: Bytes, newHash: Bytes, number: number): ReorgConflict | undefined {
  return equalBytes(storedHash, newHash) ? undefined : { number, storedHash, newHash }
}

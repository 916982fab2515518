/**
 * Validation stage of the pipeline: takes downloaded blocks in order and returns verified ones in
 * the same order.
 *
 *  - Header rules, seals and ommer rules run on the main thread, in order, through the chain's
 *    segment validator (they carry consensus state: Clique signers, Parlia validators, total
 *    difficulty); they cost microseconds per block.
 *  - Body and receipt rules (roots, blooms, gas, every transaction; optional sender recovery) are the
 *    expensive part and run in a worker-thread pool, several batches at once.
 *
 * A failed block is reported with the part that failed so the downloader refetches just that part.
 */
import type { Chain } from '../chain/chain.js'
import type { ForkRules } from '../chain/forks.js'
import type { DownloadedBlock, BlockPart } from '../downloader/downloader.js'
import type { ValidationError } from '../errors.js'
import type { Bytes } from '../primitives/bytes.js'
import type { BlockHeader } from '../primitives/header.js'
import { BlockBody } from '../primitives/body.js'
import { validateOmmers } from '../validator/block.js'
import { type BlockCheck, BlockValidationPool, type ForkContext, validateBodyAndReceipts } from '../validator/pool-blocks.js'
import { type SegmentAnchor, validateSegment } from '../validator/segment.js'

export interface VerifiedParts {
  block: DownloadedBlock
  /** Senders, when recovered. */
  senders?: Bytes[]
  /** The receipts in the store's eth/69 form (as received, or converted by the validator); absent when not validated. */
  storedReceipts?: Bytes
}

/** Per block: its body/receipt findings, or undefined when it has no body (headers-only). */
export type BodyChecks = Array<BlockCheck | undefined>

export type StageResult = { ok: true; verified: VerifiedParts } | { ok: false; number: number; part: BlockPart; errors: ValidationError[] }

/** Body/receipt error codes that mean "this body or receipt list belongs to another block". */
function partOf(err: ValidationError): BlockPart {
  return /RECEIPT|BLOOM|GAS_USED|CUMULATIVE/.test(err.code) ? 'receipts' : 'body'
}

function forkContext(rules: ForkRules): ForkContext {
  return { chainId: rules.chainId, fork: rules.fork, blob: rules.blob }
}

export interface ValidateStageOptions {
  chain: Chain
  recoverSenders: boolean
  /** Worker threads; 0 validates on the main thread (small chains, tests). */
  threads: number
}

export class ValidateStage {
  private readonly pool: BlockValidationPool<ForkContext> | undefined
  private anchor: SegmentAnchor | undefined

  constructor(private readonly opts: ValidateStageOptions) {
    this.pool = opts.threads > 0 ? new BlockValidationPool<ForkContext>(undefined, { size: opts.threads }) : undefined
  }

  /** Sets the block the next validated block must extend (after start, resume or reorg). */
  reset(anchorHeader: BlockHeader | undefined): void {
    this.anchor = anchorHeader ? { header: anchorHeader } : undefined
  }

  /**
   * Starts the body and receipt rules of a run of consecutive blocks on the worker pool. Several runs
   * may be in flight at once; each must then go through `judge`, in order.
   */
  checkBodies(blocks: readonly DownloadedBlock[]): Promise<BodyChecks> {
    return this.runBodies(blocks)
  }

  /**
   * Header rules (in chain order: they carry consensus state from block to block), combined with
   * the run's body checks. Returns results for a prefix: every block up to and including the first
   * failure (blocks after it are not judged: their parent failed).
   */
  judge(blocks: readonly DownloadedBlock[], checks: BodyChecks): StageResult[] {
    const out: StageResult[] = []
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i]
      const { errors: headerErrors, next } = this.checkHeader(block)
      if (headerErrors.length > 0) {
        out.push({ ok: false, number: block.number, part: 'header', errors: headerErrors })
        return out
      }
      const check = checks[i]
      if (check && check.errors.length > 0) {
        out.push({ ok: false, number: block.number, part: partOf(check.errors[0]), errors: check.errors })
        return out
      }
      this.anchor = next
      const verified: VerifiedParts = { block }
      if (check?.senders) verified.senders = check.senders
      const stored = check?.storedReceipts ?? (check?.receiptsEth69 ? block.receipts : undefined)
      if (stored) verified.storedReceipts = stored
      out.push({ ok: true, verified })
    }
    return out
  }

  async close(): Promise<void> {
    await this.pool?.close()
  }

  /** Header, seal and ommer rules against the anchor; returns the anchor for the next block. */
  private checkHeader(block: DownloadedBlock): { errors: ValidationError[]; next: SegmentAnchor | undefined } {
    const seg = validateSegment(this.opts.chain, [{ header: block.header }], this.anchor)
    if (seg.failure) return { errors: seg.failure.errors, next: undefined }
    if (block.body === undefined) return { errors: [], next: seg.next }
    let body: BlockBody
    try {
      body = BlockBody.decode(block.body)
    } catch {
      return { errors: [], next: seg.next } // an undecodable body is reported by the body rules
    }
    const errors = validateOmmers(this.opts.chain, block.header, body, this.anchor?.header, { ancestry: this.anchor?.ancestry })
    return { errors, next: seg.next }
  }

  private async runBodies(blocks: readonly DownloadedBlock[]): Promise<BodyChecks> {
    const withBodies = blocks.filter((b) => b.body !== undefined)
    if (withBodies.length === 0) return blocks.map(() => undefined)
    const raw = withBodies.map((b) => ({
      header: b.header.raw,
      body: b.body!,
      receipts: b.receipts,
      context: forkContext(this.opts.chain.rulesAt(b.number, b.header.timestamp)),
    }))
    const opts = { recoverSenders: this.opts.recoverSenders }
    const checks = this.pool ? await this.pool.validate(raw, opts) : raw.map((r) => validateBodyAndReceipts(r, opts))
    const byNumber = new Map(withBodies.map((b, i) => [b.number, checks[i]]))
    return blocks.map((b) => byNumber.get(b.number))
  }
}

/**
 * Whole-block validation: the header rules, the ommer rules (at most 2, none after the merge, each
 * ommer at most 6 generations deep, not an ancestor, not included twice, each a valid header
 * against its own parent) and the body/receipt rules. Every failure is collected; nothing throws.
 */
import type { Chain } from '../chain/chain.js'
import type { ConsensusState } from '../chain/consensus/types.js'
import { DecodeError, ValidationError, errorMessage } from '../errors.js'
import type { BlockBody } from '../primitives/body.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import type { BlockHeader } from '../primitives/header.js'
import type { Receipt } from '../primitives/receipt.js'
import { validateBody } from './body.js'
import { headerRules, validateHeader } from './header.js'
import { validateRawReceipts, validateReceipts } from './receipts.js'

export const BLOCK_ERRORS = {
  DECODE: 'BLOCK_DECODE',
  OMMERS_AFTER_MERGE: 'OMMERS_AFTER_MERGE',
  TOO_MANY_OMMERS: 'OMMER_TOO_MANY',
  DUPLICATE_OMMER: 'OMMER_DUPLICATE',
  OMMER_IS_ANCESTOR: 'OMMER_IS_ANCESTOR',
  OMMER_BAD_DEPTH: 'OMMER_BAD_DEPTH',
  OMMER_UNKNOWN_PARENT: 'OMMER_UNKNOWN_PARENT',
} as const

/** Ommers may be included at most this many generations below the including block. */
export const MAX_OMMER_DEPTH = 6
export const MAX_OMMERS = 2

/** Recent ancestors of a block, for ommer rules. */
export interface Ancestry {
  /** A header by hash, when it is among the recent ancestors. */
  header(hash: Bytes): BlockHeader | undefined
  /** Hashes of the ommers the block `hash` included (undefined when unknown). */
  ommerHashes(hash: Bytes): readonly Bytes[] | undefined
}

export interface BlockInput {
  header: BlockHeader
  body: BlockBody
  /** Decoded receipts, or the raw receipt list (eth/68 or eth/69 form) to decode and check. */
  receipts?: Receipt[] | Bytes
}

export interface BlockValidationOptions {
  /** The parent's total difficulty (pre-merge chains: decides the merge transition by TTD). */
  parentTotalDifficulty?: bigint
  /** Consensus engine state in force for this block (Clique signers, Parlia validators). */
  consensusState?: ConsensusState
  /** Recent ancestors: enables the ancestor/duplicate/ommer-parent rules. */
  ancestry?: Ancestry
  /** Recover every transaction's sender (slow: ~60 us per tx). */
  recoverSenders?: boolean
}

const fail = (code: string, message: string, details?: Record<string, unknown>) => new ValidationError(code, message, { details })

function asValidationError(err: unknown, what: string): ValidationError {
  if (err instanceof ValidationError) return err
  const code = err instanceof DecodeError ? err.code : BLOCK_ERRORS.DECODE
  return fail(code, `${what}: ${errorMessage(err)}`)
}

/** Ommer rules; `parent` is the including block's parent. */
export function validateOmmers(chain: Chain, header: BlockHeader, body: BlockBody, parent: BlockHeader | undefined, opts: BlockValidationOptions): ValidationError[] {
  let ommers: BlockHeader[]
  try {
    ommers = body.ommers()
  } catch (err) {
    return [asValidationError(err, 'ommers do not decode')]
  }
  if (ommers.length === 0) return []
  const rules = headerRules(chain, header, opts.parentTotalDifficulty)
  if (rules.isActive('paris')) return [fail(BLOCK_ERRORS.OMMERS_AFTER_MERGE, `${ommers.length} ommers in a proof-of-stake block`)]
  const errors: ValidationError[] = []
  if (ommers.length > MAX_OMMERS) errors.push(fail(BLOCK_ERRORS.TOO_MANY_OMMERS, `${ommers.length} ommers, at most ${MAX_OMMERS}`))
  const ancestry = opts.ancestry
  // Ancestors (parent .. 7th generation) and the ommers they already included, as geth gathers them.
  const ancestors = new Map<string, BlockHeader>()
  const included = new Set<string>([bytesToHex(header.hash)])
  let cursor: BlockHeader | undefined = parent
  for (let i = 0; i <= MAX_OMMER_DEPTH && cursor; i++) {
    const key = bytesToHex(cursor.hash)
    ancestors.set(key, cursor)
    for (const h of ancestry?.ommerHashes(cursor.hash) ?? []) included.add(bytesToHex(h))
    cursor = ancestry?.header(cursor.parentHash)
  }
  ancestors.set(bytesToHex(header.hash), header)
  ommers.forEach((ommer, index) => {
    const hash = bytesToHex(ommer.hash)
    const at = (e: ValidationError) => new ValidationError(e.code, `ommer ${index} (${hash}): ${e.message}`, { details: { ...e.details, ommerIndex: index } })
    if (included.has(hash)) errors.push(at(fail(BLOCK_ERRORS.DUPLICATE_OMMER, 'ommer included twice')))
    included.add(hash)
    if (ancestors.has(hash)) errors.push(at(fail(BLOCK_ERRORS.OMMER_IS_ANCESTOR, 'ommer is an ancestor of the block')))
    if (ommer.number >= header.number || header.number - ommer.number > MAX_OMMER_DEPTH) {
      errors.push(at(fail(BLOCK_ERRORS.OMMER_BAD_DEPTH, `ommer number ${ommer.number} is not 1..${MAX_OMMER_DEPTH} below block ${header.number}`)))
    }
    if (equalBytes(ommer.parentHash, header.parentHash)) {
      errors.push(at(fail(BLOCK_ERRORS.OMMER_UNKNOWN_PARENT, "ommer is a sibling of the block (its parent is the block's parent)")))
      return
    }
    if (!parent) return
    const ommerParent = ancestors.get(bytesToHex(ommer.parentHash))
    if (!ommerParent) {
      // Without the full ancestry an unknown parent is only an error when the window is complete.
      if (ancestry) errors.push(at(fail(BLOCK_ERRORS.OMMER_UNKNOWN_PARENT, 'ommer parent is not a recent ancestor')))
      return
    }
    for (const e of validateHeader(ommer, { chain, parent: ommerParent })) errors.push(at(e))
  })
  return errors
}

/**
 * Validates one block: header (against `parent` when given), ommers, then body and receipts.
 * Returns every failure found; an empty list means valid.
 */
export function validateBlock(chain: Chain, block: BlockInput, parent: BlockHeader | undefined, opts: BlockValidationOptions = {}): ValidationError[] {
  const { header, body } = block
  const errors = validateHeader(header, {
    chain,
    parent,
    parentTotalDifficulty: opts.parentTotalDifficulty,
    consensusState: opts.consensusState,
  })
  errors.push(...validateOmmers(chain, header, body, parent, opts))
  const rules = headerRules(chain, header, opts.parentTotalDifficulty)
  errors.push(...validateBody(header, body, rules, { recoverSenders: opts.recoverSenders }))
  if (block.receipts) {
    let txTypes: number[] | undefined
    try {
      txTypes = body.transactions().map((tx) => tx.type)
    } catch {
      // The body's decode failure is already reported by validateBody; receipts cannot be matched.
    }
    if (txTypes) {
      const receiptOpts = { rules, txTypes }
      const receipts = block.receipts
      errors.push(
        ...(receipts instanceof Uint8Array
          ? validateRawReceipts(header, receipts, txTypes.length, receiptOpts)
          : validateReceipts(header, receipts, txTypes.length, receiptOpts)),
      )
    }
  }
  return errors
}

/**
 * The consensus-engine seam of a chain adapter. The header validator applies the fork rules common to
 * every chain and asks the engine for the rest: the expected difficulty, the seal, and the engine's
 * own format rules (Clique/Parlia extraData layout, nonce votes, coinbase). Engines with state
 * (Clique signers, Parlia validators) carry it in an immutable `ConsensusState` value that the
 * segment validator threads from header to header.
 */
import { ValidationError } from '../../errors.js'
import type { BlockHeader } from '../../primitives/header.js'
import type { ForkRules } from '../forks.js'

export type EngineKind = 'ethash' | 'clique' | 'parlia' | 'pos'

/** Opaque per-engine state (signer/validator sets); `undefined` when the engine has none or it is unknown yet. */
export type ConsensusState = unknown

export interface EngineContext {
  rules: ForkRules
  parent?: BlockHeader
  /** Engine state in force for this header (from `stateAfter` of the previous header). */
  state?: ConsensusState
}

export interface ConsensusAdapter {
  readonly kind: EngineKind
  /** Largest extraData accepted before the merge (32 for Ethash; vanity + signers + seal for PoA). */
  readonly maxExtraData: number
  /** Engine rules for a pre-merge header; checks that need the parent are skipped without one. */
  verifyHeader(header: BlockHeader, ctx: EngineContext): ValidationError[]
  /**
   * The engine state after `header`, given the state before it (undefined when unknown: a segment
   * that does not start at a checkpoint learns the set at the next checkpoint/epoch block).
   */
  stateAfter?(header: BlockHeader, before: ConsensusState | undefined): ConsensusState | undefined
  /** Engine state known from a single header (a Clique checkpoint, a Parlia epoch block). */
  stateFromCheckpoint?(header: BlockHeader): ConsensusState | undefined
}

export const SEAL_ERRORS = {
  /** Ethash mix digest or result does not match the header. */
  ETHASH_INVALID_SEAL: 'ETHASH_INVALID_SEAL',
  /** PoW difficulty differs from the formula. */
  POW_DIFFICULTY: 'HEADER_DIFFICULTY',
  CLIQUE_EXTRA_DATA: 'CLIQUE_EXTRA_DATA',
  CLIQUE_CHECKPOINT_SIGNERS: 'CLIQUE_CHECKPOINT_SIGNERS',
  CLIQUE_NONCE: 'CLIQUE_NONCE',
  CLIQUE_COINBASE: 'CLIQUE_COINBASE',
  CLIQUE_MIX_HASH: 'CLIQUE_MIX_HASH',
  CLIQUE_OMMERS: 'CLIQUE_OMMERS',
  CLIQUE_DIFFICULTY: 'CLIQUE_DIFFICULTY',
  CLIQUE_PERIOD: 'CLIQUE_PERIOD',
  CLIQUE_BAD_SIGNATURE: 'CLIQUE_BAD_SIGNATURE',
  CLIQUE_UNAUTHORIZED_SIGNER: 'CLIQUE_UNAUTHORIZED_SIGNER',
  CLIQUE_RECENTLY_SIGNED: 'CLIQUE_RECENTLY_SIGNED',
  PARLIA_EXTRA_DATA: 'PARLIA_EXTRA_DATA',
  PARLIA_BAD_SIGNATURE: 'PARLIA_BAD_SIGNATURE',
  PARLIA_SIGNER_NOT_COINBASE: 'PARLIA_SIGNER_NOT_COINBASE',
  PARLIA_UNAUTHORIZED_VALIDATOR: 'PARLIA_UNAUTHORIZED_VALIDATOR',
  PARLIA_RECENTLY_SIGNED: 'PARLIA_RECENTLY_SIGNED',
  PARLIA_DIFFICULTY: 'PARLIA_DIFFICULTY',
  PARLIA_MIX_HASH: 'PARLIA_MIX_HASH',
  PARLIA_OMMERS: 'PARLIA_OMMERS',
  PARLIA_PERIOD: 'PARLIA_PERIOD',
} as const

export function sealError(code: string, message: string, details?: Record<string, unknown>): ValidationError {
  return new ValidationError(code, message, { details })
}

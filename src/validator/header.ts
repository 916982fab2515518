/**
 * Header rules (SPEC §3 step 1). Every rule is a named check returning typed ValidationErrors with a
 * stable code; `validateHeader` runs them all and collects every failure. Checks that need the
 * parent are skipped when there is none. Fork rules come from the chain adapter (with the parent's
 * total difficulty, when known, deciding the merge); the consensus engine adds difficulty and seal.
 */
import type { Chain } from '../chain/chain.js'
import type { ConsensusState } from '../chain/consensus/types.js'
import { GAS_PER_BLOB, type ForkRules } from '../chain/forks.js'
import { INITIAL_BASE_FEE } from '../chain/genesis.js'
import { ValidationError } from '../errors.js'
import { bytesToHex, equalBytes, utf8ToBytes } from '../primitives/bytes.js'
import { BlockHeader, HEADER_FIELDS } from '../primitives/header.js'
import { EMPTY_LIST_HASH } from '../primitives/keccak.js'
import { ELASTICITY_MULTIPLIER, nextBaseFee, nextExcessBlobGas } from './header-fees.js'

export const HEADER_ERRORS = {
  FIELD_COUNT: 'HEADER_FIELD_COUNT',
  NUMBER: 'HEADER_NUMBER',
  PARENT_HASH: 'HEADER_PARENT_HASH',
  TIMESTAMP: 'HEADER_TIMESTAMP',
  GAS_USED: 'HEADER_GAS_USED_EXCEEDS_LIMIT',
  GAS_LIMIT_TOO_HIGH: 'HEADER_GAS_LIMIT_TOO_HIGH',
  GAS_LIMIT_TOO_LOW: 'HEADER_GAS_LIMIT_TOO_LOW',
  GAS_LIMIT_BOUNDS: 'HEADER_GAS_LIMIT_BOUNDS',
  EXTRA_DATA: 'HEADER_EXTRA_DATA_TOO_LONG',
  BASE_FEE: 'HEADER_BASE_FEE',
  BLOB_GAS_USED: 'HEADER_BLOB_GAS_USED',
  EXCESS_BLOB_GAS: 'HEADER_EXCESS_BLOB_GAS',
  POS_DIFFICULTY: 'HEADER_POS_DIFFICULTY',
  POS_NONCE: 'HEADER_POS_NONCE',
  POS_OMMERS: 'HEADER_POS_OMMERS_HASH',
  MERGE_TRANSITION: 'HEADER_MERGE_TRANSITION',
  DAO_EXTRA_DATA: 'HEADER_DAO_EXTRA_DATA',
} as const

/** 2^63 - 1: geth's MaxGasLimit (EIP-1985). */
const MAX_GAS_LIMIT = (1n << 63n) - 1n
const MIN_GAS_LIMIT = 5000n
const MAX_EXTRA_DATA_POS = 32
const DAO_EXTRA_DATA = utf8ToBytes('dao-hard-fork')
const DAO_EXTRA_RANGE = 10

export interface HeaderContext {
  chain: Chain
  /** The parent header; checks that need it are skipped without it. */
  parent?: BlockHeader
  /** The parent's total difficulty: decides the merge transition by TTD when known. */
  parentTotalDifficulty?: bigint
  /** Consensus engine state in force (Clique signers, Parlia validators). */
  consensusState?: ConsensusState
}

interface CheckInput {
  header: BlockHeader
  ctx: HeaderContext
  rules: ForkRules
}

type Check = (input: CheckInput) => ValidationError | ValidationError[] | undefined
type ParentCheck = (input: CheckInput & { parent: BlockHeader }) => ValidationError | ValidationError[] | undefined

const fail = (code: string, message: string, details?: Record<string, unknown>) => new ValidationError(code, message, { details })

/** The fork rules a header is validated under. */
export function headerRules(chain: Chain, header: BlockHeader, parentTotalDifficulty?: bigint): ForkRules {
  return chain.rulesAt(header.number, header.timestamp, parentTotalDifficulty)
}

const FIELD_NAMES = ['baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed', 'excessBlobGas', 'parentBeaconBlockRoot', 'requestsHash']

function expectedFieldCount(rules: ForkRules): number {
  if (rules.isActive('prague')) return HEADER_FIELDS.prague
  if (rules.isActive('cancun')) return HEADER_FIELDS.cancun
  if (rules.isActive('shanghai')) return HEADER_FIELDS.shanghai
  if (rules.isActive('london')) return HEADER_FIELDS.london
  return HEADER_FIELDS.legacy
}

/** The header has exactly the fields its fork defines (baseFee, withdrawalsRoot, blob fields, beacon root, requestsHash). */
export const checkFieldCount: Check = ({ header, rules }) => {
  const want = expectedFieldCount(rules)
  const have = header.fieldCount
  if (have === want) return undefined
  const field = FIELD_NAMES[Math.min(have, want) - HEADER_FIELDS.legacy]
  const what = have < want ? `is missing ${field}` : `has an unexpected ${field}`
  return fail(HEADER_ERRORS.FIELD_COUNT, `header ${what} (${have} fields, ${rules.fork} needs ${want})`, { have, want, fork: rules.fork })
}

export const checkExtraData: Check = ({ header, ctx, rules }) => {
  const max = rules.isActive('paris') ? MAX_EXTRA_DATA_POS : ctx.chain.consensus.maxExtraData
  if (header.extraData.length <= max) return undefined
  return fail(HEADER_ERRORS.EXTRA_DATA, `extraData is ${header.extraData.length} bytes, at most ${max} allowed`, { have: header.extraData.length, max })
}

export const checkGasUsed: Check = ({ header }) =>
  header.gasUsed <= header.gasLimit
    ? undefined
    : fail(HEADER_ERRORS.GAS_USED, `gasUsed ${header.gasUsed} exceeds gasLimit ${header.gasLimit}`)

export const checkGasLimitRange: Check = ({ header }) => {
  if (header.gasLimit > MAX_GAS_LIMIT) return fail(HEADER_ERRORS.GAS_LIMIT_TOO_HIGH, `gasLimit ${header.gasLimit} exceeds 2^63-1`)
  if (header.gasLimit < MIN_GAS_LIMIT) return fail(HEADER_ERRORS.GAS_LIMIT_TOO_LOW, `gasLimit ${header.gasLimit} is below ${MIN_GAS_LIMIT}`)
  return undefined
}

/** EIP-3675: proof-of-stake headers have difficulty 0, nonce 0 and no ommers. */
export const checkProofOfStake: Check = ({ header, ctx, rules }) => {
  if (!rules.isActive('paris')) {
    // Before the transition a zero difficulty is a PoS block arriving too early (TTD not reached).
    if (header.difficulty === 0n && ctx.chain.terminalTotalDifficulty !== undefined && ctx.parentTotalDifficulty !== undefined) {
      return fail(HEADER_ERRORS.MERGE_TRANSITION, 'proof-of-stake header before the terminal total difficulty was reached')
    }
    return undefined
  }
  const errors: ValidationError[] = []
  if (header.difficulty !== 0n) errors.push(fail(HEADER_ERRORS.POS_DIFFICULTY, `post-merge difficulty must be 0, got ${header.difficulty}`))
  if (header.nonce.some((b) => b !== 0)) errors.push(fail(HEADER_ERRORS.POS_NONCE, `post-merge nonce must be 0, got ${bytesToHex(header.nonce)}`))
  if (!equalBytes(header.ommersHash, EMPTY_LIST_HASH)) errors.push(fail(HEADER_ERRORS.POS_OMMERS, 'post-merge ommersHash must be the empty-list hash'))
  return errors
}

/** EIP-4844: blob gas used is a multiple of the per-blob gas and within the fork's maximum. */
export const checkBlobGasUsed: Check = ({ header, rules }) => {
  if (!rules.isActive('cancun') || header.blobGasUsed === undefined || !rules.blob) return undefined
  const max = BigInt(rules.blob.max) * GAS_PER_BLOB
  if (header.blobGasUsed > max) return fail(HEADER_ERRORS.BLOB_GAS_USED, `blobGasUsed ${header.blobGasUsed} exceeds the maximum ${max}`)
  if (header.blobGasUsed % GAS_PER_BLOB !== 0n) return fail(HEADER_ERRORS.BLOB_GAS_USED, `blobGasUsed ${header.blobGasUsed} is not a multiple of ${GAS_PER_BLOB}`)
  return undefined
}

/** The DAO fork's ten blocks carry "dao-hard-fork" as extraData (chains that scheduled it). */
export const checkDaoExtraData: Check = ({ header, ctx }) => {
  const dao = ctx.chain.daoForkBlock
  if (dao === undefined || header.number < dao || header.number >= dao + DAO_EXTRA_RANGE) return undefined
  return equalBytes(header.extraData, DAO_EXTRA_DATA) ? undefined : fail(HEADER_ERRORS.DAO_EXTRA_DATA, 'DAO fork block without "dao-hard-fork" extraData')
}

export const checkNumber: ParentCheck = ({ header, parent }) =>
  header.number === parent.number + 1 ? undefined : fail(HEADER_ERRORS.NUMBER, `number ${header.number} does not follow parent ${parent.number}`)

export const checkParentHash: ParentCheck = ({ header, parent }) =>
  equalBytes(header.parentHash, parent.hash)
    ? undefined
    : fail(HEADER_ERRORS.PARENT_HASH, `parentHash ${bytesToHex(header.parentHash)} is not the parent's hash ${bytesToHex(parent.hash)}`)

export const checkTimestamp: ParentCheck = ({ header, parent, ctx }) => {
  if (header.timestamp > parent.timestamp) return undefined
  if (ctx.chain.headerParams.sameSecondBlocks && header.timestamp === parent.timestamp) return undefined
  return fail(HEADER_ERRORS.TIMESTAMP, `timestamp ${header.timestamp} is not after the parent's ${parent.timestamp}`)
}

/** The gas limit moves by less than parent/1024 per block (doubling target at the London block). */
export const checkGasLimitBounds: ParentCheck = ({ header, parent, ctx, rules }) => {
  const londonFork = rules.isActive('london') && parent.baseFeePerGas === undefined
  const parentLimit = londonFork && ctx.chain.headerParams.baseFee === 'eip1559' ? parent.gasLimit * ELASTICITY_MULTIPLIER : parent.gasLimit
  const diff = header.gasLimit > parentLimit ? header.gasLimit - parentLimit : parentLimit - header.gasLimit
  const bound = parentLimit / ctx.chain.headerParams.gasLimitBoundDivisor
  if (diff < bound) return undefined
  return fail(HEADER_ERRORS.GAS_LIMIT_BOUNDS, `gasLimit ${header.gasLimit} moved ${diff} from the parent's ${parentLimit} (bound ${bound})`)
}

export const checkBaseFee: ParentCheck = ({ header, parent, ctx, rules }) => {
  if (!rules.isActive('london') || header.baseFeePerGas === undefined) return undefined
  let want: bigint
  const mode = ctx.chain.headerParams.baseFee
  if (mode === 'operator') return undefined
  if (mode === 'zero') want = 0n
  else if (parent.baseFeePerGas === undefined) want = INITIAL_BASE_FEE
  else want = nextBaseFee(parent, parent.baseFeePerGas)
  if (header.baseFeePerGas === want) return undefined
  return fail(HEADER_ERRORS.BASE_FEE, `baseFeePerGas ${header.baseFeePerGas}, expected ${want}`, { have: header.baseFeePerGas.toString(), want: want.toString() })
}

export const checkExcessBlobGas: ParentCheck = ({ header, parent, rules }) => {
  if (!rules.isActive('cancun') || header.excessBlobGas === undefined || !rules.blob) return undefined
  const want = nextExcessBlobGas(parent, rules.blob, rules.isActive('osaka'))
  if (header.excessBlobGas === want) return undefined
  return fail(HEADER_ERRORS.EXCESS_BLOB_GAS, `excessBlobGas ${header.excessBlobGas}, expected ${want}`, { have: header.excessBlobGas.toString(), want: want.toString() })
}

/** Checks that need only the header, in order. */
export const HEADER_CHECKS: Readonly<Record<string, Check>> = {
  fieldCount: checkFieldCount,
  extraData: checkExtraData,
  gasUsed: checkGasUsed,
  gasLimitRange: checkGasLimitRange,
  proofOfStake: checkProofOfStake,
  blobGasUsed: checkBlobGasUsed,
  daoExtraData: checkDaoExtraData,
}

/** Checks against the parent header, in order. */
export const PARENT_CHECKS: Readonly<Record<string, ParentCheck>> = {
  number: checkNumber,
  parentHash: checkParentHash,
  timestamp: checkTimestamp,
  gasLimitBounds: checkGasLimitBounds,
  baseFee: checkBaseFee,
  excessBlobGas: checkExcessBlobGas,
}

const HEADER_CHECK_LIST = Object.values(HEADER_CHECKS)
const PARENT_CHECK_LIST = Object.values(PARENT_CHECKS)

function collect(into: ValidationError[], result: ValidationError | ValidationError[] | undefined): void {
  if (Array.isArray(result)) into.push(...result)
  else if (result) into.push(result)
}

/** Runs every header rule (and the engine's difficulty/seal rules before the merge); returns all failures. */
export function validateHeader(header: BlockHeader, ctx: HeaderContext): ValidationError[] {
  const rules = headerRules(ctx.chain, header, ctx.parentTotalDifficulty)
  const errors: ValidationError[] = []
  const parent = ctx.parent
  const input = { header, ctx, rules }
  for (const check of HEADER_CHECK_LIST) collect(errors, check(input))
  if (parent) {
    const withParent = { ...input, parent }
    for (const check of PARENT_CHECK_LIST) collect(errors, check(withParent))
  }
  // Before the merge the engine owns difficulty and seal; a zero-difficulty header there already
  // failed the merge-transition check, and its PoW difficulty error would only repeat it.
  if (!rules.isActive('paris') && !(header.difficulty === 0n && errors.some((e) => e.code === HEADER_ERRORS.MERGE_TRANSITION))) {
    errors.push(...ctx.chain.consensus.verifyHeader(header, { rules, parent, state: ctx.consensusState }))
  }
  return errors
}

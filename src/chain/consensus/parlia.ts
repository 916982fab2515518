/**
 * Parlia (BNB Smart Chain proof of staked authority). The seal hash is keccak(rlp([chainId,
 * header fields with extraData minus the 65-byte seal])) — the chain id is the first item, which
 * makes BSC seals unusable on its testnet. The validator set is read from epoch blocks (number %
 * epoch == 0) and seals from `floor(validators / 2) + 1` blocks later; the signer must be the coinbase
 * and a member of the set, and must not have signed within the last `floor(validators / 2) + 1`
 * blocks. Difficulty is 2 in turn (validators[number % n]) and 1 otherwise.
 *
 * Header layouts: before Luban the epoch extraData is vanity(32) | N x address(20) | seal(65); from
 * Luban on it is vanity | N(1 byte) | N x (address(20) + BLS key(48)) | [vote attestation] | seal,
 * and non-epoch blocks may carry a vote attestation. From Bohr on a validator seals `turnLength`
 * consecutive blocks; the in-turn rule is then not checked here (see the README's known gaps).
 */
import type { ValidationError } from '../../errors.js'
import { type Bytes, equalBytes } from '../../primitives/bytes.js'
import type { BlockHeader } from '../../primitives/header.js'
import { EMPTY_LIST_HASH, keccak256 } from '../../primitives/keccak.js'
import { encode, encodeListOfEncoded, rawOf } from '../../primitives/rlp.js'
import { EXTRA_SEAL, EXTRA_VANITY, recoverSealer } from './clique.js'
import { type ConsensusAdapter, type ConsensusState, type EngineContext, SEAL_ERRORS, sealError } from './types.js'

const BLS_KEY_BYTES = 48

export interface ParliaConfig {
  chainId: bigint
  period: number
  epoch: number
  /** First block with the Luban extraData layout (BLS keys in epoch blocks). */
  lubanBlock?: number
  /** First timestamp with multi-block turns (Bohr); the in-turn difficulty rule stops being checked. */
  bohrTime?: number
}

export interface ParliaSnapshot {
  readonly number: number
  /** Validator set in force, sorted (lowercase hex, no 0x). */
  readonly validators: readonly string[]
  /** A set announced at an epoch block, waiting for its switch block. */
  readonly pending?: { readonly at: number; readonly validators: readonly string[] }
  readonly recents: ReadonlyMap<number, string>
}

const hex = (b: Bytes) => Buffer.from(b).toString('hex')

export function parliaSealHash(header: BlockHeader, chainId: bigint): Bytes {
  const root = header.parentBeaconBlockRoot
  const withExtras = root !== undefined && root.every((b) => b === 0)
  const count = withExtras ? header.fieldCount : 15
  const parts: Bytes[] = [encode(chainId)]
  for (let i = 0; i < count; i++) {
    parts.push(i === 12 ? encode(header.extraData.subarray(0, header.extraData.length - EXTRA_SEAL)) : rawOf(header.raw, header.fields[i]))
  }
  return keccak256(encodeListOfEncoded(parts))
}

export class ParliaEngine implements ConsensusAdapter {
  readonly kind = 'parlia' as const
  readonly maxExtraData = Number.MAX_SAFE_INTEGER

  constructor(readonly config: ParliaConfig) {}

  signer(header: BlockHeader): Bytes | undefined {
    return recoverSealer(parliaSealHash(header, this.config.chainId), header.extraData)
  }

  /** Validator list of an epoch block, or undefined when `header` is not one or is malformed. */
  epochValidators(header: BlockHeader): string[] | undefined {
    if (header.number % this.config.epoch !== 0) return undefined
    const extra = header.extraData
    const out: string[] = []
    if (this.config.lubanBlock !== undefined && header.number >= this.config.lubanBlock) {
      if (extra.length < EXTRA_VANITY + 1 + EXTRA_SEAL) return undefined
      const n = extra[EXTRA_VANITY]
      const start = EXTRA_VANITY + 1
      if (start + n * (20 + BLS_KEY_BYTES) > extra.length - EXTRA_SEAL) return undefined
      for (let i = 0; i < n; i++) out.push(hex(extra.subarray(start + i * 68, start + i * 68 + 20)))
    } else {
      const body = extra.length - EXTRA_VANITY - EXTRA_SEAL
      if (body <= 0 || body % 20 !== 0) return undefined
      for (let i = 0; i < body; i += 20) out.push(hex(extra.subarray(EXTRA_VANITY + i, EXTRA_VANITY + i + 20)))
    }
    return out.sort()
  }

  stateFromCheckpoint(header: BlockHeader): ParliaSnapshot | undefined {
    const validators = this.epochValidators(header)
    return validators && validators.length > 0 ? { number: header.number, validators, recents: new Map() } : undefined
  }

  verifyHeader(header: BlockHeader, ctx: EngineContext): ValidationError[] {
    const errors: ValidationError[] = []
    const extra = header.extraData
    if (extra.length < EXTRA_VANITY + EXTRA_SEAL) {
      return [sealError(SEAL_ERRORS.PARLIA_EXTRA_DATA, `extraData of ${extra.length} bytes cannot hold vanity and seal`)]
    }
    const epoch = header.number % this.config.epoch === 0
    const luban = this.config.lubanBlock !== undefined && header.number >= this.config.lubanBlock
    if (epoch && !this.epochValidators(header)) errors.push(sealError(SEAL_ERRORS.PARLIA_EXTRA_DATA, 'epoch block has a malformed validator list'))
    if (!epoch && !luban && extra.length !== EXTRA_VANITY + EXTRA_SEAL) {
      errors.push(sealError(SEAL_ERRORS.PARLIA_EXTRA_DATA, 'non-epoch block carries data between vanity and seal'))
    }
    if (header.mixHash.some((b) => b !== 0)) errors.push(sealError(SEAL_ERRORS.PARLIA_MIX_HASH, 'mixHash must be zero'))
    if (!equalBytes(header.ommersHash, EMPTY_LIST_HASH)) errors.push(sealError(SEAL_ERRORS.PARLIA_OMMERS, 'Parlia blocks have no ommers'))
    if (header.number > 0 && header.difficulty !== 1n && header.difficulty !== 2n) {
      errors.push(sealError(SEAL_ERRORS.PARLIA_DIFFICULTY, `difficulty ${header.difficulty} is neither 1 nor 2`))
    }
    // Later forks shorten the period (Lorentz 1.5 s, Maxwell 0.75 s, with sub-second time elsewhere): the rule is checked before Bohr only.
    const fixedPeriod = this.config.bohrTime === undefined || header.timestamp < this.config.bohrTime
    if (ctx.parent && fixedPeriod && ctx.parent.timestamp + this.config.period > header.timestamp) {
      errors.push(sealError(SEAL_ERRORS.PARLIA_PERIOD, `block sealed ${header.timestamp - ctx.parent.timestamp}s after its parent (period ${this.config.period}s)`))
    }
    const signerBytes = this.signer(header)
    if (!signerBytes) return [...errors, sealError(SEAL_ERRORS.PARLIA_BAD_SIGNATURE, 'seal does not recover to a signer')]
    const signer = hex(signerBytes)
    if (signer !== hex(header.coinbase)) {
      errors.push(sealError(SEAL_ERRORS.PARLIA_SIGNER_NOT_COINBASE, `signer 0x${signer} is not the coinbase 0x${hex(header.coinbase)}`))
    }
    const snap = this.switched(ctx.state as ParliaSnapshot | undefined, header.number)
    if (!snap) return errors
    const index = snap.validators.indexOf(signer)
    if (index < 0) return [...errors, sealError(SEAL_ERRORS.PARLIA_UNAUTHORIZED_VALIDATOR, `signer 0x${signer} is not a validator`, { signer: `0x${signer}` })]
    const limit = Math.floor(snap.validators.length / 2) + 1
    for (const [seen, recent] of snap.recents) {
      if (recent === signer && header.number >= limit && seen > header.number - limit) {
        errors.push(sealError(SEAL_ERRORS.PARLIA_RECENTLY_SIGNED, `validator 0x${signer} signed block ${seen} too recently`))
      }
    }
    const multiBlockTurns = this.config.bohrTime !== undefined && header.timestamp >= this.config.bohrTime
    const inTurn = snap.validators[header.number % snap.validators.length] === signer
    if (!multiBlockTurns && header.number > 0 && header.difficulty !== (inTurn ? 2n : 1n)) {
      errors.push(sealError(SEAL_ERRORS.PARLIA_DIFFICULTY, `difficulty ${header.difficulty} but validator is ${inTurn ? 'in' : 'out of'} turn`))
    }
    return errors
  }

  /** The snapshot with a pending validator set applied if `number` reached its switch block. */
  private switched(snap: ParliaSnapshot | undefined, number: number): ParliaSnapshot | undefined {
    if (!snap?.pending || number < snap.pending.at) return snap
    return { number: snap.number, validators: snap.pending.validators, recents: snap.recents }
  }

  stateAfter(header: BlockHeader, before: ConsensusState | undefined): ParliaSnapshot | undefined {
    const snap = this.switched(before as ParliaSnapshot | undefined, header.number)
    if (!snap) return this.stateFromCheckpoint(header)
    const recents = new Map(snap.recents)
    const limit = Math.floor(snap.validators.length / 2) + 1
    if (header.number >= limit) recents.delete(header.number - limit)
    const signer = this.signer(header)
    if (signer) recents.set(header.number, hex(signer))
    const announced = this.epochValidators(header)
    // geth-bsc switches after applying block epoch + n/2, so the new set seals from the block after it.
    const pending = announced ? { at: header.number + Math.floor(snap.validators.length / 2) + 1, validators: announced } : snap.pending
    return { number: header.number, validators: snap.validators, pending, recents }
  }
}

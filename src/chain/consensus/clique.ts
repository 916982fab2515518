/**
 * Clique proof of authority (EIP-225), as Goerli ran it before the merge. The signer is recovered
 * from the 65-byte seal at the end of extraData over the seal hash (the header with the seal cut
 * off); the signer set comes from checkpoint blocks (every `epoch` blocks the extraData lists it)
 * and changes between checkpoints through nonce votes, which this module tallies like geth does.
 */
import type { ValidationError } from '../../errors.js'
import { type Bytes, equalBytes } from '../../primitives/bytes.js'
import type { BlockHeader } from '../../primitives/header.js'
import { EMPTY_LIST_HASH, keccak256 } from '../../primitives/keccak.js'
import { encode, type Encoded, encodeListOfEncoded, rawOf } from '../../primitives/rlp.js'
import { recoverAddress } from '../../primitives/secp256k1.js'
import { type ConsensusAdapter, type ConsensusState, type EngineContext, SEAL_ERRORS, sealError } from './types.js'

export const EXTRA_VANITY = 32
export const EXTRA_SEAL = 65
const NONCE_AUTH = 'ffffffffffffffff'
const NONCE_DROP = '0000000000000000'

export interface CliqueConfig {
  period: number
  epoch: number
}

/** Signer-set state after some header (addresses as lowercase hex without 0x, signers sorted). */
export interface CliqueSnapshot {
  readonly number: number
  readonly signers: readonly string[]
  /** block number -> signer, for the "recently signed" rule. */
  readonly recents: ReadonlyMap<number, string>
  /** Pending votes: `${signer}:${candidate}` -> authorize? */
  readonly votes: ReadonlyMap<string, boolean>
}

const hex = (b: Bytes) => Buffer.from(b).toString('hex')

/** keccak256 of the header RLP with extraData minus its trailing seal, built from the wire fields. */
export function extraSealHash(header: BlockHeader, prefix: readonly Encoded[] = []): Bytes {
  const parts: Bytes[] = prefix.map((p) => p.bytes)
  header.fields.forEach((f, i) => {
    parts.push(i === 12 ? encode(header.extraData.subarray(0, header.extraData.length - EXTRA_SEAL)) : rawOf(header.raw, f))
  })
  return keccak256(encodeListOfEncoded(parts))
}

/** Recovers the sealer of a header whose extraData ends with a 65-byte [r, s, v] signature. */
export function recoverSealer(sealHash: Bytes, extraData: Bytes): Bytes | undefined {
  if (extraData.length < EXTRA_SEAL) return undefined
  const sig = extraData.subarray(extraData.length - EXTRA_SEAL)
  return recoverAddress(sealHash, sig.subarray(0, 32), sig.subarray(32, 64), sig[64])
}

export function cliqueSigner(header: BlockHeader): Bytes | undefined {
  return recoverSealer(extraSealHash(header), header.extraData)
}

/** Signer list embedded in a checkpoint header's extraData (between vanity and seal). */
function checkpointSigners(header: BlockHeader): string[] | undefined {
  const body = header.extraData.length - EXTRA_VANITY - EXTRA_SEAL
  if (body < 0 || body % 20 !== 0) return undefined
  const out: string[] = []
  for (let i = 0; i < body; i += 20) out.push(hex(header.extraData.subarray(EXTRA_VANITY + i, EXTRA_VANITY + i + 20)))
  return out.sort()
}

export class CliqueEngine implements ConsensusAdapter {
  readonly kind = 'clique' as const
  /** extraData holds vanity + (on checkpoints) signers + seal; geth bounds it only by the header size. */
  readonly maxExtraData = Number.MAX_SAFE_INTEGER

  constructor(readonly config: CliqueConfig) {}

  stateFromCheckpoint(header: BlockHeader): CliqueSnapshot | undefined {
    if (header.number % this.config.epoch !== 0) return undefined
    const signers = checkpointSigners(header)
    return signers && signers.length > 0 ? { number: header.number, signers, recents: new Map(), votes: new Map() } : undefined
  }

  verifyHeader(header: BlockHeader, ctx: EngineContext): ValidationError[] {
    const errors: ValidationError[] = []
    const checkpoint = header.number % this.config.epoch === 0
    const extra = header.extraData
    if (extra.length < EXTRA_VANITY + EXTRA_SEAL) {
      return [sealError(SEAL_ERRORS.CLIQUE_EXTRA_DATA, `extraData of ${extra.length} bytes cannot hold vanity and seal`)]
    }
    const signersBytes = extra.length - EXTRA_VANITY - EXTRA_SEAL
    if (!checkpoint && signersBytes !== 0) errors.push(sealError(SEAL_ERRORS.CLIQUE_EXTRA_DATA, 'non-checkpoint block lists signers'))
    if (checkpoint && signersBytes % 20 !== 0) errors.push(sealError(SEAL_ERRORS.CLIQUE_EXTRA_DATA, 'checkpoint signer list is not a multiple of 20 bytes'))
    const nonce = hex(header.nonce)
    if (nonce !== NONCE_AUTH && nonce !== NONCE_DROP) errors.push(sealError(SEAL_ERRORS.CLIQUE_NONCE, `vote nonce 0x${nonce} is neither auth nor drop`))
    if (checkpoint && nonce !== NONCE_DROP) errors.push(sealError(SEAL_ERRORS.CLIQUE_NONCE, 'checkpoint block carries a vote'))
    if (checkpoint && header.coinbase.some((b) => b !== 0)) errors.push(sealError(SEAL_ERRORS.CLIQUE_COINBASE, 'checkpoint block has a beneficiary'))
    if (header.mixHash.some((b) => b !== 0)) errors.push(sealError(SEAL_ERRORS.CLIQUE_MIX_HASH, 'mixHash must be zero'))
    if (!equalBytes(header.ommersHash, EMPTY_LIST_HASH)) errors.push(sealError(SEAL_ERRORS.CLIQUE_OMMERS, 'Clique blocks have no ommers'))
    if (header.number > 0 && header.difficulty !== 1n && header.difficulty !== 2n) {
      errors.push(sealError(SEAL_ERRORS.CLIQUE_DIFFICULTY, `difficulty ${header.difficulty} is neither 1 nor 2`))
    }
    if (ctx.parent && ctx.parent.timestamp + this.config.period > header.timestamp) {
      errors.push(sealError(SEAL_ERRORS.CLIQUE_PERIOD, `block sealed ${header.timestamp - ctx.parent.timestamp}s after its parent (period ${this.config.period}s)`))
    }
    const signerBytes = cliqueSigner(header)
    if (!signerBytes) return [...errors, sealError(SEAL_ERRORS.CLIQUE_BAD_SIGNATURE, 'seal does not recover to a signer')]
    const snap = ctx.state as CliqueSnapshot | undefined
    if (!snap) return errors
    const signer = hex(signerBytes)
    if (checkpoint) {
      const listed = checkpointSigners(header)
      if (listed && listed.join() !== snap.signers.join()) {
        errors.push(sealError(SEAL_ERRORS.CLIQUE_CHECKPOINT_SIGNERS, 'checkpoint signer list differs from the tallied signer set'))
      }
    }
    const index = snap.signers.indexOf(signer)
    if (index < 0) return [...errors, sealError(SEAL_ERRORS.CLIQUE_UNAUTHORIZED_SIGNER, `signer 0x${signer} is not authorized`, { signer: `0x${signer}` })]
    const limit = Math.floor(snap.signers.length / 2) + 1
    for (const [seen, recent] of snap.recents) {
      // A signer may seal again once `limit` blocks passed (geth's uint64 math: never before block `limit`).
      if (recent === signer && header.number >= limit && seen > header.number - limit) {
        errors.push(sealError(SEAL_ERRORS.CLIQUE_RECENTLY_SIGNED, `signer 0x${signer} signed block ${seen} too recently`))
      }
    }
    const inTurn = header.number % snap.signers.length === index
    if (header.number > 0 && header.difficulty !== (inTurn ? 2n : 1n)) {
      errors.push(sealError(SEAL_ERRORS.CLIQUE_DIFFICULTY, `difficulty ${header.difficulty} but signer is ${inTurn ? 'in' : 'out of'} turn`))
    }
    return errors
  }

  stateAfter(header: BlockHeader, before: ConsensusState | undefined): CliqueSnapshot | undefined {
    const fromCheckpoint = this.stateFromCheckpoint(header)
    const snap = before as CliqueSnapshot | undefined
    if (!snap) return fromCheckpoint
    const signerBytes = cliqueSigner(header)
    if (!signerBytes) return snap
    const signer = hex(signerBytes)
    const recents = new Map(snap.recents)
    let signers = [...snap.signers]
    const limit = Math.floor(signers.length / 2) + 1
    if (header.number >= limit) recents.delete(header.number - limit)
    recents.set(header.number, signer)
    let votes = new Map(snap.votes)
    if (header.number % this.config.epoch === 0) {
      votes = new Map()
    } else if (header.coinbase.some((b) => b !== 0)) {
      const candidate = hex(header.coinbase)
      const authorize = hex(header.nonce) === NONCE_AUTH
      const isSigner = signers.includes(candidate)
      // A vote counts only when it would change the set (authorize an outsider / drop a signer).
      if (authorize !== isSigner) {
        votes.set(`${signer}:${candidate}`, authorize)
        let tally = 0
        for (const [key, auth] of votes) if (key.endsWith(`:${candidate}`) && auth === authorize) tally++
        if (tally > signers.length / 2) {
          if (authorize) signers = [...signers, candidate].sort()
          else {
            signers = signers.filter((s) => s !== candidate)
            const newLimit = Math.floor(signers.length / 2) + 1
            if (header.number >= newLimit) recents.delete(header.number - newLimit)
            for (const key of [...votes.keys()]) if (key.startsWith(`${candidate}:`)) votes.delete(key)
          }
          for (const key of [...votes.keys()]) if (key.endsWith(`:${candidate}`)) votes.delete(key)
        }
      }
    }
    return { number: header.number, signers, recents, votes }
  }
}

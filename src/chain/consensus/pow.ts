/** Ethash proof of work: difficulty formula per fork and the hashimoto seal (checked per `EthashMode`). */
import { bytesToHex } from '../../primitives/bytes.js'
import type { BlockHeader } from '../../primitives/header.js'
import { EMPTY_LIST_HASH } from '../../primitives/keccak.js'
import { equalBytes } from '../../primitives/bytes.js'
import type { ValidationError } from '../../errors.js'
import { calcDifficulty } from './difficulty.js'
import { EthashVerifier, type EthashOptions } from './ethash.js'
import { type ConsensusAdapter, type EngineContext, SEAL_ERRORS, sealError } from './types.js'

/** Default for syncing: check 1 seal in 32 at random (a forged chain cannot predict which). */
export const DEFAULT_ETHASH: EthashOptions = { mode: 'sampled', sampleRate: 1 / 32 }

export class EthashEngine implements ConsensusAdapter {
  readonly kind = 'ethash' as const
  readonly maxExtraData = 32
  readonly verifier: EthashVerifier

  /** Pass a shared verifier to reuse its epoch caches across chains (e.g. many tests, one epoch). */
  constructor(options: EthashOptions | EthashVerifier = DEFAULT_ETHASH) {
    this.verifier = options instanceof EthashVerifier ? options : new EthashVerifier(options)
  }

  verifyHeader(header: BlockHeader, ctx: EngineContext): ValidationError[] {
    const errors: ValidationError[] = []
    const parent = ctx.parent
    if (parent) {
      const expected = calcDifficulty(ctx.rules, header.timestamp, {
        number: parent.number,
        timestamp: parent.timestamp,
        difficulty: parent.difficulty,
        hasOmmers: !equalBytes(parent.ommersHash, EMPTY_LIST_HASH),
      })
      if (header.difficulty !== expected) {
        errors.push(
          sealError(SEAL_ERRORS.POW_DIFFICULTY, `difficulty ${header.difficulty} differs from the expected ${expected}`, {
            have: header.difficulty.toString(),
            want: expected.toString(),
          }),
        )
      }
    }
    const seal = this.verifier.verify(header)
    if (!seal.ok) errors.push(sealError(SEAL_ERRORS.ETHASH_INVALID_SEAL, seal.message, { hash: bytesToHex(header.hash), reason: seal.reason }))
    return errors
  }
}

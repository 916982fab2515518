/**
 * Proof of stake (post-merge, EIP-3675): no seal in the execution header. The header validator
 * applies the merge rules itself (difficulty 0, nonce 0, no ommers, extraData <= 32 bytes) for any
 * chain once Paris is active, so this engine only serves chains that were born proof-of-stake.
 */
import type { ValidationError } from '../../errors.js'
import type { ConsensusAdapter } from './types.js'

export class PosEngine implements ConsensusAdapter {
  readonly kind = 'pos' as const
  readonly maxExtraData = 32

  verifyHeader(): ValidationError[] {
    return []
  }
}

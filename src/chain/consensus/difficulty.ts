/**
 * Proof-of-work difficulty per fork (go-ethereum's CalcDifficulty): Frontier, Homestead (EIP-2),
 * Byzantium (EIP-100, uncles count) and the difficulty-bomb delays of Byzantium (EIP-649, 3M),
 * Constantinople (EIP-1234, 5M), Muir Glacier (EIP-2384, 9M), London (EIP-3554, 9.7M), Arrow
 * Glacier (EIP-4345, 10.7M) and Gray Glacier (EIP-5133, 11.4M).
 */
import type { ForkRules } from '../forks.js'

const MINIMUM_DIFFICULTY = 131072n
const BOUND_DIVISOR = 2048n
const EXP_DIFF_PERIOD = 100000n

/** What the formula needs from the parent. */
export interface DifficultyParent {
  number: number
  timestamp: number
  difficulty: bigint
  /** The parent has ommers (ommersHash != keccak(rlp([]))). */
  hasOmmers: boolean
}

/** Euclidean division, as Go's big.Int.Div does it (matters for negative numerators). */
function divEuclid(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b < 0n ? q - 1n : q
}

function bombDelay(rules: ForkRules): bigint {
  if (rules.isActive('grayGlacier')) return 11_400_000n
  if (rules.isActive('arrowGlacier')) return 10_700_000n
  if (rules.isActive('london')) return 9_700_000n
  if (rules.isActive('muirGlacier')) return 9_000_000n
  if (rules.isActive('constantinople')) return 5_000_000n
  return 3_000_000n
}

function bomb(periodCount: bigint): bigint {
  return periodCount > 1n ? 2n ** (periodCount - 2n) : 0n
}

/** Expected difficulty of a block at `timestamp` whose parent is `parent`, under `rules`. */
export function calcDifficulty(rules: ForkRules, timestamp: number, parent: DifficultyParent): bigint {
  const pd = parent.difficulty
  const timeDelta = BigInt(timestamp) - BigInt(parent.timestamp)
  const adjust = pd / BOUND_DIVISOR
  if (rules.isActive('byzantium')) {
    let x = (parent.hasOmmers ? 2n : 1n) - divEuclid(timeDelta, 9n)
    if (x < -99n) x = -99n
    let diff = pd + adjust * x
    if (diff < MINIMUM_DIFFICULTY) diff = MINIMUM_DIFFICULTY
    const delayFromParent = bombDelay(rules) - 1n
    const parentNumber = BigInt(parent.number)
    const fake = parentNumber >= delayFromParent ? parentNumber - delayFromParent : 0n
    return diff + bomb(fake / EXP_DIFF_PERIOD)
  }
  let diff: bigint
  if (rules.isActive('homestead')) {
    let x = 1n - divEuclid(timeDelta, 10n)
    if (x < -99n) x = -99n
    diff = pd + adjust * x
  } else {
    diff = timeDelta < 13n ? pd + adjust : pd - adjust
  }
  if (diff < MINIMUM_DIFFICULTY) diff = MINIMUM_DIFFICULTY
  diff += bomb((BigInt(parent.number) + 1n) / EXP_DIFF_PERIOD)
  return diff < MINIMUM_DIFFICULTY ? MINIMUM_DIFFICULTY : diff
}

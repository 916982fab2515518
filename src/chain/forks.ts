/**
 * Ethereum hardforks in activation order. Chain adapters map their own schedule (block numbers,
 * timestamps, BSC's named forks) onto this list; validator rules ask `rules.isActive(fork)` and never
 * look at chain ids.
 */
export const HARDFORKS = [
  'frontier',
  'homestead',
  'dao',
  'tangerineWhistle',
  'spuriousDragon',
  'byzantium',
  'constantinople',
  'petersburg',
  'istanbul',
  'muirGlacier',
  'berlin',
  'london',
  'arrowGlacier',
  'grayGlacier',
  'paris',
  'shanghai',
  'cancun',
  'prague',
  'osaka',
] as const

export type Hardfork = (typeof HARDFORKS)[number]

export function forkIndex(fork: Hardfork): number {
  return HARDFORKS.indexOf(fork)
}

/** The rules in force for one block: which forks are active, and the chain id for replay protection. */
export interface ForkRules {
  readonly chainId: bigint
  /** The latest active fork. */
  readonly fork: Hardfork
  isActive(fork: Hardfork): boolean
}

export function rulesAt(chainId: bigint, fork: Hardfork): ForkRules {
  const idx = forkIndex(fork)
  if (idx < 0) throw new RangeError(`unknown hardfork ${fork}`)
  return { chainId, fork, isActive: (f) => forkIndex(f) <= idx }
}

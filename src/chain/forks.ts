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
  // EIP-7892 blob-parameter-only forks: they change nothing but the blob schedule.
  'bpo1',
  'bpo2',
  'bpo3',
  'bpo4',
  'bpo5',
] as const

export type Hardfork = (typeof HARDFORKS)[number]

const FORK_INDEX = new Map<string, number>(HARDFORKS.map((fork, i) => [fork, i]))

export function forkIndex(fork: Hardfork): number {
  return FORK_INDEX.get(fork) ?? -1
}

/** EIP-4844 / EIP-7691 / EIP-7892 blob parameters in force for a block (counts in blobs). */
export interface BlobParams {
  readonly target: number
  readonly max: number
  readonly baseFeeUpdateFraction: bigint
}

/** Gas per blob (EIP-4844). */
export const GAS_PER_BLOB = 131072n

/** The rules in force for one block: which forks are active, and the chain id for replay protection. */
export interface ForkRules {
  readonly chainId: bigint
  /** The latest active fork. */
  readonly fork: Hardfork
  isActive(fork: Hardfork): boolean
  /** Blob parameters from the chain's blob schedule; set from Cancun on. */
  readonly blob?: BlobParams
}

export function rulesAt(chainId: bigint, fork: Hardfork, blob?: BlobParams): ForkRules {
  const idx = forkIndex(fork)
  if (idx < 0) throw new RangeError(`unknown hardfork ${fork}`)
  return { chainId, fork, isActive: (f) => forkIndex(f) <= idx, blob }
}

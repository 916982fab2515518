/**
 * Fork of a block in the conformance fixtures, for body validation tests. The chain adapters own the
 * real schedules; these tests only need the fork each fixture block was built for.
 */
import type { Hardfork } from '../../src/chain/forks.js'
import type { BlockHeader } from '../../src/primitives/header.js'

/** Fork names of the ethereum/tests fillers. */
export const TEST_FORKS: Record<string, Hardfork> = {
  Frontier: 'frontier',
  Homestead: 'homestead',
  EIP150: 'tangerineWhistle',
  EIP158: 'spuriousDragon',
  Byzantium: 'byzantium',
  Constantinople: 'constantinople',
  ConstantinopleFix: 'petersburg',
  Istanbul: 'istanbul',
  Berlin: 'berlin',
  London: 'london',
  ArrowGlacier: 'arrowGlacier',
  Paris: 'paris',
  Shanghai: 'shanghai',
  Cancun: 'cancun',
  Prague: 'prague',
}

/** Fork of `header` under a BlockchainTests network name, including the transition networks. */
export function blockchainTestFork(network: string, header: BlockHeader): Hardfork {
  const simple = TEST_FORKS[network]
  if (simple) return simple
  const m = /^(\w+?)To(\w+?)At(Time15k|DiffC0000|\d+)$/.exec(network)
  if (!m || !TEST_FORKS[m[1]] || !TEST_FORKS[m[2]]) throw new Error(`unknown network ${network}`)
  const [, before, after, at] = m
  const switched =
    at === 'Time15k' ? header.timestamp >= 15_000 : at === 'DiffC0000' ? header.difficulty === 0n : header.number >= Number(at)
  return TEST_FORKS[switched ? after : before]
}

/** Mainnet fork of each portal-spec-tests block (the blocks sit on both sides of fork boundaries). */
export const PORTAL_FORK: Record<number, Hardfork> = {
  14764013: 'arrowGlacier',
  15537393: 'grayGlacier',
  17034869: 'paris',
  17034870: 'shanghai',
  19426586: 'shanghai',
  19426587: 'cancun',
  22431083: 'cancun',
  22431084: 'prague',
}

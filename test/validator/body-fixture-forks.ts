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

/** A geth-style genesis `config`: fork activation by block number, then by timestamp. */
export interface GenesisConfig {
  chainId: number
  [key: string]: unknown
}

const BLOCK_FORKS: Array<[string, Hardfork]> = [
  ['homesteadBlock', 'homestead'],
  ['eip150Block', 'tangerineWhistle'],
  ['eip158Block', 'spuriousDragon'],
  ['byzantiumBlock', 'byzantium'],
  ['constantinopleBlock', 'constantinople'],
  ['petersburgBlock', 'petersburg'],
  ['istanbulBlock', 'istanbul'],
  ['muirGlacierBlock', 'muirGlacier'],
  ['berlinBlock', 'berlin'],
  ['londonBlock', 'london'],
  ['arrowGlacierBlock', 'arrowGlacier'],
  ['grayGlacierBlock', 'grayGlacier'],
]
const TIME_FORKS: Array<[string, Hardfork]> = [
  ['shanghaiTime', 'shanghai'],
  ['cancunTime', 'cancun'],
  ['pragueTime', 'prague'],
  ['osakaTime', 'osaka'],
]

export function genesisFork(config: GenesisConfig, header: BlockHeader): Hardfork {
  let fork: Hardfork = 'frontier'
  for (const [key, f] of BLOCK_FORKS) {
    const at = config[key]
    if (typeof at === 'number' && header.number >= at) fork = f
  }
  if (header.difficulty === 0n && header.number > 0) fork = 'paris'
  for (const [key, f] of TIME_FORKS) {
    const at = config[key]
    if (typeof at === 'number' && header.timestamp >= at) fork = f
  }
  return fork
}

/**
 * Chains for Ethereum BlockchainTests `network` names: a single fork active from genesis ("Cancun",
 * "ConstantinopleFix", "EIP158") or a transition ("FrontierToHomesteadAt5",
 * "ParisToShanghaiAtTime15k", "ArrowGlacierToParisAtDiffC0000" = merge at TTD 0xC0000). Chain id 1,
 * default blob schedule, genesis as the test gives it.
 */
import { ConfigError } from '../errors.js'
import type { Bytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { Chain } from './chain.js'
import { atGenesis, FINALITY_DEPTH } from './chains.js'
import type { EthashOptions, EthashVerifier } from './consensus/ethash.js'
import { PosEngine } from './consensus/pos.js'
import { EthashEngine } from './consensus/pow.js'
import { forkIndex, HARDFORKS, type Hardfork } from './forks.js'
import type { ForkActivation } from './schedule.js'

const FORK_NAMES: Record<string, Hardfork> = {
  frontier: 'frontier',
  homestead: 'homestead',
  dao: 'dao',
  eip150: 'tangerineWhistle',
  tangerinewhistle: 'tangerineWhistle',
  eip158: 'spuriousDragon',
  spuriousdragon: 'spuriousDragon',
  byzantium: 'byzantium',
  constantinople: 'constantinople',
  constantinoplefix: 'petersburg',
  petersburg: 'petersburg',
  istanbul: 'istanbul',
  muirglacier: 'muirGlacier',
  berlin: 'berlin',
  london: 'london',
  arrowglacier: 'arrowGlacier',
  grayglacier: 'grayGlacier',
  merge: 'paris',
  paris: 'paris',
  shanghai: 'shanghai',
  cancun: 'cancun',
  prague: 'prague',
  osaka: 'osaka',
}

function forkNamed(name: string, network: string): Hardfork {
  const fork = FORK_NAMES[name.toLowerCase()]
  if (!fork) throw new ConfigError('UNKNOWN_TEST_NETWORK', `unknown fork "${name}" in network "${network}"`)
  return fork
}

function parseAmount(text: string): number {
  return text.endsWith('k') ? Number(text.slice(0, -1)) * 1000 : Number(text)
}

interface NetworkSchedule {
  activations: ForkActivation[]
  terminalTotalDifficulty?: bigint
  mergeBlock?: number
  daoForkBlock?: number
  postMergeOnly: boolean
}

function parseNetwork(network: string): NetworkSchedule {
  const m = /^(\w+?)To(\w+?)At(Time|Diff)?([0-9A-Fa-fk]+)$/.exec(network)
  if (!m) {
    const fork = forkNamed(network, network)
    const merged = forkIndex(fork) >= forkIndex('paris')
    return {
      activations: atGenesis(fork),
      terminalTotalDifficulty: merged ? 0n : undefined,
      mergeBlock: merged ? 0 : undefined,
      postMergeOnly: merged,
    }
  }
  const [, fromName, toName, kind, amount] = m
  const from = forkNamed(fromName, network)
  const to = forkNamed(toName, network)
  const base = atGenesis(from)
  const later = HARDFORKS.slice(forkIndex(from) + 1, forkIndex(to) + 1).filter((f) => f !== 'paris' && (f !== 'dao' || to === 'dao'))
  if (kind === 'Diff') {
    // "AtDiffC0000": the merge happens when total difficulty reaches 0xC0000.
    return { activations: base, terminalTotalDifficulty: BigInt(`0x${amount}`), postMergeOnly: false }
  }
  const at = parseAmount(amount)
  const activations = [...base, ...later.map((fork) => (kind === 'Time' ? { fork, time: at } : { fork, block: at }))]
  const merged = forkIndex(from) >= forkIndex('paris')
  return {
    activations,
    terminalTotalDifficulty: merged ? 0n : undefined,
    mergeBlock: merged ? 0 : undefined,
    daoForkBlock: to === 'dao' ? at : undefined,
    postMergeOnly: merged,
  }
}

/** A chain for a BlockchainTests network; `ethash` selects seal checking (sealEngine Ethash vs NoProof). */
export function testNetworkChain(network: string, genesisHeaderRaw: Bytes, ethash: EthashOptions | EthashVerifier): Chain {
  const s = parseNetwork(network)
  const genesis = BlockHeader.decode(genesisHeaderRaw)
  return new Chain({
    name: `blockchaintest-${network}`,
    schedule: {
      chainId: 1n,
      activations: s.activations,
      terminalTotalDifficulty: s.terminalTotalDifficulty,
      mergeBlock: s.mergeBlock,
      genesisTime: genesis.timestamp,
    },
    genesisHeader: genesisHeaderRaw,
    consensus: s.postMergeOnly ? new PosEngine() : new EthashEngine(ethash),
    finalityDepth: s.postMergeOnly ? FINALITY_DEPTH.pos : FINALITY_DEPTH.pow,
    daoForkBlock: s.daoForkBlock,
  })
}

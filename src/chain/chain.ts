/**
 * The chain adapter: everything chain-specific the rest of the syncer needs (DESIGN.md: "no
 * `if (chainId === …)` outside chain/"). A Chain is built from a fork schedule, a genesis header and
 * a consensus engine; named chains, geth genesis.json files, BlockchainTests networks and dev chains
 * (Anvil) all end up here.
 */
import type { Bytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import type { BlobParams, ForkRules } from './forks.js'
import { type ForkId, ForkSchedule, type ScheduleConfig } from './schedule.js'
import type { ConsensusAdapter } from './consensus/types.js'

/** Header rules that differ between EVM chains (BSC: 1/256 gas-limit steps and a zero base fee). */
export interface HeaderParams {
  /** The gas limit may move by less than parent/divisor per block (1024 on Ethereum). */
  gasLimitBoundDivisor: bigint
  /**
   * 'eip1559': base fee from the parent (Ethereum); 'zero': always 0 (BSC); 'operator': any value
   * (dev chains: Anvil starts its fee market at block 1, mines reorged blocks with the fee of the
   * branch they replace, and lets the operator set the next base fee).
   */
  baseFee: 'eip1559' | 'zero' | 'operator'
  /** Dev chains (Anvil, Hardhat) mine several blocks within one second with equal timestamps. */
  sameSecondBlocks: boolean
}

export const ETHEREUM_HEADER_PARAMS: HeaderParams = { gasLimitBoundDivisor: 1024n, baseFee: 'eip1559', sameSecondBlocks: false }

export interface ChainSpec {
  name: string
  networkId?: bigint
  schedule: ScheduleConfig
  genesisHeader: Bytes
  consensus: ConsensusAdapter
  finalityDepth: number
  bootnodes?: string[]
  /** DAO hard-fork block: the 10 blocks from it must carry "dao-hard-fork" as extraData. */
  daoForkBlock?: number
  header?: Partial<HeaderParams>
}

export class Chain {
  readonly name: string
  readonly chainId: bigint
  readonly networkId: bigint
  readonly genesis: { readonly header: Bytes; readonly hash: Bytes }
  readonly genesisHeader: BlockHeader
  readonly schedule: ForkSchedule
  readonly consensus: ConsensusAdapter
  /**
   * Reorg window (blocks) used when the source cannot tell us what is finalized: blocks deeper than
   * this below the head are treated as final. Set per chain with the reason in chains.ts.
   */
  readonly finalityDepth: number
  readonly bootnodes: readonly string[]
  readonly terminalTotalDifficulty: bigint | undefined
  readonly daoForkBlock: number | undefined
  readonly headerParams: HeaderParams

  constructor(spec: ChainSpec) {
    this.name = spec.name
    this.schedule = new ForkSchedule(spec.schedule)
    this.chainId = spec.schedule.chainId
    this.networkId = spec.networkId ?? spec.schedule.chainId
    this.genesisHeader = BlockHeader.decode(spec.genesisHeader)
    this.genesis = { header: spec.genesisHeader, hash: this.genesisHeader.hash }
    this.consensus = spec.consensus
    this.finalityDepth = spec.finalityDepth
    this.bootnodes = spec.bootnodes ?? []
    this.terminalTotalDifficulty = spec.schedule.terminalTotalDifficulty
    this.daoForkBlock = spec.daoForkBlock
    this.headerParams = { ...ETHEREUM_HEADER_PARAMS, ...spec.header }
  }

  /**
   * Fork rules for a block. Pass `parentTotalDifficulty` when known (pre-merge sync, BlockchainTests):
   * the block is proof-of-stake exactly when its parent's total difficulty reached the TTD.
   */
  rulesAt(number: number, timestamp: number, parentTotalDifficulty?: bigint): ForkRules {
    return this.schedule.rulesAt(number, timestamp, this.postMerge(parentTotalDifficulty))
  }

  private postMerge(parentTotalDifficulty: bigint | undefined): boolean | undefined {
    if (parentTotalDifficulty === undefined || this.terminalTotalDifficulty === undefined) return undefined
    return parentTotalDifficulty >= this.terminalTotalDifficulty
  }

  /** EIP-2124 / EIP-6122 fork id for the eth Status handshake. */
  forkId(headNumber: number, headTime: number): ForkId {
    return this.schedule.forkId(this.genesis.hash, headNumber, headTime)
  }

  /** EIP-2124 filter for peers' fork ids, against our (moving) head. */
  forkFilter(head: () => { number: number; time: number }): (remote: ForkId) => string | undefined {
    return this.schedule.forkFilter(this.genesis.hash, head)
  }

  /** Blob parameters in force at (number, timestamp), from Cancun on. */
  blobParamsAt(number: number, timestamp: number): BlobParams | undefined {
    return this.rulesAt(number, timestamp).blob
  }
}

/**
 * A chain's fork schedule: which hardfork rules hold at (block number, timestamp), the blob
 * parameters per fork, and the EIP-2124 fork id. Block-activated forks (Frontier..Gray Glacier) and
 * time-activated forks (Shanghai..BPO5) share one ordered list; the merge (Paris) is decided by total
 * difficulty, so callers that know the parent's TD pass `postMerge` explicitly.
 */
import { crc32 } from 'node:zlib'
import { bigIntToFixed, equalBytes, type Bytes } from '../primitives/bytes.js'
import { type BlobParams, forkIndex, HARDFORKS, type Hardfork, type ForkRules, rulesAt } from './forks.js'

export interface ForkActivation {
  readonly fork: Hardfork
  /** Activation block (block-based forks). */
  readonly block?: number
  /** Activation timestamp in seconds (time-based forks, Shanghai on). */
  readonly time?: number
}

export type BlobSchedule = Partial<Record<Hardfork, BlobParams>>

/** Defaults used when a chain's config has no `blobSchedule` entry for a fork (EIP-4844, EIP-7691). */
export const DEFAULT_BLOB_SCHEDULE: BlobSchedule = {
  cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477n },
  prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716n },
}

export interface ScheduleConfig {
  readonly chainId: bigint
  /** Forks that activate on this chain, in any order; forks absent here never activate. */
  readonly activations: readonly ForkActivation[]
  readonly terminalTotalDifficulty?: bigint
  /** First proof-of-stake block, when known (named chains, or TTD reached at genesis). */
  readonly mergeBlock?: number
  /** Extra fork-id-only activations (mergeNetsplitBlock, BSC's own forks): not consensus rules here. */
  readonly forkIdBlocks?: readonly number[]
  readonly forkIdTimes?: readonly number[]
  readonly blobSchedule?: BlobSchedule
  /** Genesis timestamp: time forks at or before it are not part of the fork id (EIP-6122). */
  readonly genesisTime: number
}

export interface ForkId {
  /** CRC32 checksum of the genesis hash and passed fork activations (4 bytes, big-endian). */
  hash: Bytes
  /** Next scheduled activation (block or time), 0 when none. */
  next: bigint
}

const PARIS = forkIndex('paris')
const SHANGHAI = forkIndex('shanghai')
const CANCUN = forkIndex('cancun')

export class ForkSchedule {
  private readonly byBlock: Array<{ index: number; block: number }>
  private readonly byTime: Array<{ index: number; time: number }>
  readonly chainId: bigint
  readonly terminalTotalDifficulty: bigint | undefined
  readonly mergeBlock: number | undefined
  private readonly blobSchedule: BlobSchedule
  private readonly rulesByFork = new Map<Hardfork, ForkRules>()

  constructor(private readonly config: ScheduleConfig) {
    this.chainId = config.chainId
    this.terminalTotalDifficulty = config.terminalTotalDifficulty
    this.mergeBlock = config.mergeBlock
    this.blobSchedule = { ...DEFAULT_BLOB_SCHEDULE, ...config.blobSchedule }
    this.byBlock = []
    this.byTime = []
    for (const a of config.activations) {
      const index = forkIndex(a.fork)
      if (index < 0) throw new RangeError(`unknown hardfork ${a.fork}`)
      if (a.block !== undefined) this.byBlock.push({ index, block: a.block })
      else if (a.time !== undefined) this.byTime.push({ index, time: a.time })
    }
  }

  /** Activation of `fork` on this chain, if scheduled. */
  activation(fork: Hardfork): ForkActivation | undefined {
    return this.config.activations.find((a) => a.fork === fork)
  }

  /**
   * The latest fork active at (number, timestamp). `postMerge` overrides the merge decision (the
   * caller knows the parent's total difficulty); otherwise the merge block or time forks decide.
   */
  forkAt(number: number, timestamp: number, postMerge?: boolean): Hardfork {
    let latest = 0
    for (const a of this.byBlock) if (number >= a.block && a.index > latest) latest = a.index
    for (const a of this.byTime) if (timestamp >= a.time && a.index > latest) latest = a.index
    const merged = postMerge ?? this.isMergedByNumber(number, latest)
    if (merged && latest < PARIS) latest = PARIS
    if (!merged && latest === PARIS) latest = PARIS - 1
    return HARDFORKS[latest]
  }

  private isMergedByNumber(number: number, latest: number): boolean {
    // No TTD: the chain never merges (BSC takes Shanghai/Cancun/Prague without proof of stake).
    if (this.terminalTotalDifficulty === undefined) return false
    if (latest >= SHANGHAI) return true
    if (this.mergeBlock !== undefined) return number >= this.mergeBlock
    return this.terminalTotalDifficulty === 0n
  }

  rulesAt(number: number, timestamp: number, postMerge?: boolean): ForkRules {
    const fork = this.forkAt(number, timestamp, postMerge)
    // Rules depend on the fork alone: one object per fork, not one per header.
    let cached = this.rulesByFork.get(fork)
    if (cached === undefined) {
      const rules = rulesAt(this.chainId, fork, this.blobParams(fork))
      // A never-merging chain past Shanghai: every later fork applies, proof of stake does not.
      const neverMerges = forkIndex(fork) > PARIS && this.terminalTotalDifficulty === undefined
      cached = neverMerges ? { ...rules, isActive: (f) => f !== 'paris' && rules.isActive(f) } : rules
      this.rulesByFork.set(fork, cached)
    }
    return cached
  }

  /** Blob parameters of the latest fork at or before `fork` that defines them (from Cancun on). */
  blobParams(fork: Hardfork): BlobParams | undefined {
    const idx = forkIndex(fork)
    for (let i = idx; i >= CANCUN; i--) {
      const p = this.blobSchedule[HARDFORKS[i]]
      if (p) return p
    }
    return undefined
  }

  /** Fork activations in fork-id order: block numbers first, then timestamps (EIP-2124, EIP-6122). */
  private forkIdPoints(): Array<{ at: number; byTime: boolean }> {
    const blocks = new Set<number>(this.config.forkIdBlocks ?? [])
    for (const a of this.byBlock) blocks.add(a.block)
    const times = new Set<number>(this.config.forkIdTimes ?? [])
    for (const a of this.byTime) times.add(a.time)
    return [
      ...[...blocks].filter((b) => b > 0).sort((a, b) => a - b).map((at) => ({ at, byTime: false })),
      ...[...times].filter((t) => t > this.config.genesisTime).sort((a, b) => a - b).map((at) => ({ at, byTime: true })),
    ]
  }

  /** EIP-2124 fork id (with EIP-6122 time-based forks) for a node whose head is (number, time). */
  forkId(genesisHash: Bytes, headNumber: number, headTime: number): ForkId {
    let sum = crc32(genesisHash)
    for (const p of this.forkIdPoints()) {
      if (p.at > (p.byTime ? headTime : headNumber)) return { hash: checksumBytes(sum), next: BigInt(p.at) }
      sum = crc32(bigIntToFixed(BigInt(p.at), 8), sum)
    }
    return { hash: checksumBytes(sum), next: 0n }
  }

  /**
   * EIP-2124 validation of a remote fork id against our head (read on every check, as it moves):
   * returns why the remote is incompatible, or undefined to accept it. A remote ahead of us (we are
   * syncing) and a remote behind us that knows our next fork are both accepted.
   */
  forkFilter(genesisHash: Bytes, head: () => { number: number; time: number }): (remote: ForkId) => string | undefined {
    const points = this.forkIdPoints()
    const sums: Bytes[] = []
    let sum = crc32(genesisHash)
    sums.push(checksumBytes(sum))
    for (const p of points) {
      sum = crc32(bigIntToFixed(BigInt(p.at), 8), sum)
      sums.push(checksumBytes(sum))
    }
    return (remote) => {
      const { number, time } = head()
      const passed = points.filter((p) => p.at <= (p.byTime ? time : number)).length
      const i = sums.findIndex((s) => equalBytes(s, remote.hash))
      if (i < 0) return 'fork hash is not on our chain'
      if (i === passed) {
        // Same fork as ours: the remote must not expect a fork we have already passed without it.
        const next = Number(remote.next)
        const nextPassed = next > 0 && (next > TIMESTAMP_THRESHOLD ? time >= next : number >= next)
        return nextPassed ? 'remote expects a fork we passed without it' : undefined
      }
      if (i < passed) return remote.next === BigInt(points[i].at) ? undefined : 'remote is stale (missed a fork)'
      return undefined // remote is ahead of us: we are syncing towards it
    }
  }
}

/** Fork-id `next` values above this are timestamps, below it block numbers (geth's rule). */
const TIMESTAMP_THRESHOLD = 1_438_269_973

function checksumBytes(sum: number): Bytes {
  return bigIntToFixed(BigInt(sum >>> 0), 4)
}

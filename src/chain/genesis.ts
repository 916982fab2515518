/**
 * Genesis blocks. A geth-style genesis.json (its `config` block and header fields plus `alloc`) is
 * turned into a fork schedule and the exact genesis header: the state root is computed from the
 * alloc (secure trie of rlp([nonce, balance, storageRoot, codeHash]) with per-account storage tries),
 * and the fork-dependent fields (baseFee, withdrawalsRoot, blob fields, parentBeaconBlockRoot,
 * requestsHash) are present exactly when the fork active at genesis requires them.
 */
import { ConfigError } from '../errors.js'
import { bigIntToFixed, type Bytes, EMPTY_BYTES, hexToBytes } from '../primitives/bytes.js'
import { EMPTY_LIST_HASH, EMPTY_TRIE_ROOT, keccak256 } from '../primitives/keccak.js'
import { encode, type RlpInput } from '../primitives/rlp.js'
import { secureTrieRoot } from '../primitives/trie.js'
import type { BlobParams, ForkRules, Hardfork } from './forks.js'
import type { BlobSchedule, ForkActivation, ScheduleConfig } from './schedule.js'

/** EIP-1559 initial base fee (1 gwei) for a genesis at or after London. */
export const INITIAL_BASE_FEE = 1_000_000_000n
/** EIP-7685: sha256 of nothing, the requests hash of a block without requests. */
export const EMPTY_REQUESTS_HASH = hexToBytes('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
const ZERO32 = new Uint8Array(32)

/** Header fields a genesis block takes from its spec; everything else is fixed or derived. */
export interface GenesisFields {
  nonce: bigint
  timestamp: number
  extraData: Bytes
  gasLimit: bigint
  difficulty: bigint
  mixHash: Bytes
  coinbase: Bytes
  stateRoot: Bytes
  baseFeePerGas?: bigint
  blobGasUsed?: bigint
  excessBlobGas?: bigint
}

/** Raw genesis header RLP for the rules active at block 0. */
export function buildGenesisHeader(g: GenesisFields, rules: ForkRules): Bytes {
  const fields: RlpInput[] = [
    ZERO32,
    EMPTY_LIST_HASH,
    g.coinbase,
    g.stateRoot,
    EMPTY_TRIE_ROOT,
    EMPTY_TRIE_ROOT,
    new Uint8Array(256),
    g.difficulty,
    0,
    g.gasLimit,
    0,
    g.timestamp,
    g.extraData,
    g.mixHash,
    bigIntToFixed(g.nonce, 8),
  ]
  if (rules.isActive('london')) fields.push(g.baseFeePerGas ?? INITIAL_BASE_FEE)
  if (rules.isActive('shanghai')) fields.push(EMPTY_TRIE_ROOT)
  if (rules.isActive('cancun')) fields.push(g.blobGasUsed ?? 0n, g.excessBlobGas ?? 0n, ZERO32)
  if (rules.isActive('prague')) fields.push(EMPTY_REQUESTS_HASH)
  return encode(fields)
}

export interface AllocAccount {
  balance?: string | number
  nonce?: string | number
  code?: string
  storage?: Record<string, string>
}

/** State root of a genesis alloc. */
export function allocStateRoot(alloc: Record<string, AllocAccount>): Bytes {
  const entries: Array<[Bytes, Bytes]> = []
  for (const [addr, acct] of Object.entries(alloc)) {
    const address = hexToBytes(addr)
    if (address.length !== 20) throw new ConfigError('GENESIS_BAD_ALLOC', `alloc address ${addr} is not 20 bytes`)
    const slots: Array<[Bytes, Bytes]> = []
    for (const [k, v] of Object.entries(acct.storage ?? {})) {
      const value = toBigInt(v, `storage value of ${addr}`)
      if (value === 0n) continue
      slots.push([bigIntToFixed(toBigInt(k, `storage key of ${addr}`), 32), encode(value)])
    }
    const code = acct.code ? hexToBytes(acct.code) : EMPTY_BYTES
    const account = encode([
      toBigInt(acct.nonce ?? 0, `nonce of ${addr}`),
      toBigInt(acct.balance ?? 0, `balance of ${addr}`),
      secureTrieRoot(slots),
      keccak256(code),
    ])
    entries.push([address, account])
  }
  return secureTrieRoot(entries)
}

/** A JSON quantity: hex string, decimal string or number. */
export function toBigInt(v: string | number | bigint | undefined | null, what: string): bigint {
  if (v === undefined || v === null) throw new ConfigError('GENESIS_MISSING_FIELD', `${what} is missing`)
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError('GENESIS_BAD_NUMBER', `${what}: ${v} is not an unsigned integer`)
    return BigInt(v)
  }
  const s = v.trim().replace(/_/g, '')
  if (/^0x[0-9a-fA-F]*$/.test(s)) return s.length === 2 ? 0n : BigInt(s)
  if (/^[0-9]+$/.test(s)) return BigInt(s)
  throw new ConfigError('GENESIS_BAD_NUMBER', `${what}: ${JSON.stringify(v)} is not a number`)
}

function toSafeNumber(v: string | number, what: string): number {
  const n = toBigInt(v, what)
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfigError('GENESIS_BAD_NUMBER', `${what} exceeds 2^53`)
  return Number(n)
}

// ------------------------------------------------------------------------------------------------
// geth genesis.json `config` block

/** geth config keys of block-activated forks, in activation order. */
const BLOCK_FORK_KEYS: ReadonlyArray<readonly [string, Hardfork]> = [
  ['homesteadBlock', 'homestead'],
  ['daoForkBlock', 'dao'],
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

const TIME_FORK_KEYS: ReadonlyArray<readonly [string, Hardfork]> = [
  ['shanghaiTime', 'shanghai'],
  ['cancunTime', 'cancun'],
  ['pragueTime', 'prague'],
  ['osakaTime', 'osaka'],
  ['bpo1Time', 'bpo1'],
  ['bpo2Time', 'bpo2'],
  ['bpo3Time', 'bpo3'],
  ['bpo4Time', 'bpo4'],
  ['bpo5Time', 'bpo5'],
]

/** Fork-id-only keys geth counts (EIP-2124 uses every *Block / *Time field of the config). */
const FORK_ID_ONLY_BLOCK_KEYS = ['eip155Block', 'mergeNetsplitBlock']

export type ConsensusConfig =
  | { kind: 'ethash' }
  | { kind: 'clique'; period: number; epoch: number }
  | { kind: 'parlia'; period: number; epoch: number }

export interface GethGenesis {
  config: Record<string, unknown>
  nonce?: string | number
  timestamp?: string | number
  extraData?: string
  gasLimit?: string | number
  difficulty?: string | number
  mixHash?: string
  coinbase?: string
  baseFeePerGas?: string | number | null
  blobGasUsed?: string | number | null
  excessBlobGas?: string | number | null
  alloc?: Record<string, AllocAccount>
  /** Some tools write the state root instead of (or besides) the alloc. */
  stateRoot?: string
}

export interface ParsedGenesis {
  chainId: bigint
  schedule: ScheduleConfig
  consensus: ConsensusConfig
  fields: GenesisFields
  daoForkBlock?: number
}

function optNumber(config: Record<string, unknown>, key: string): number | undefined {
  const v = config[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' && typeof v !== 'string') throw new ConfigError('GENESIS_BAD_CONFIG', `config.${key} must be a number`)
  return toSafeNumber(v, `config.${key}`)
}

function parseBlobSchedule(raw: unknown): BlobSchedule {
  const out: BlobSchedule = {}
  if (raw === undefined || raw === null) return out
  if (typeof raw !== 'object') throw new ConfigError('GENESIS_BAD_CONFIG', 'config.blobSchedule must be an object')
  for (const [name, entry] of Object.entries(raw as Record<string, Record<string, string | number>>)) {
    const fork = name.toLowerCase() as Hardfork
    const params: BlobParams = {
      target: toSafeNumber(entry.target, `blobSchedule.${name}.target`),
      max: toSafeNumber(entry.max, `blobSchedule.${name}.max`),
      baseFeeUpdateFraction: toBigInt(entry.baseFeeUpdateFraction, `blobSchedule.${name}.baseFeeUpdateFraction`),
    }
    out[fork] = params
  }
  return out
}

/** Reads a geth genesis.json object into a schedule, consensus config and genesis header fields. */
export function parseGethGenesis(json: GethGenesis): ParsedGenesis {
  const config = json.config
  if (!config || typeof config !== 'object') throw new ConfigError('GENESIS_BAD_CONFIG', 'genesis.json has no config block')
  const chainIdRaw = config.chainId
  if (typeof chainIdRaw !== 'number' && typeof chainIdRaw !== 'string') throw new ConfigError('GENESIS_BAD_CONFIG', 'config.chainId is missing')
  const chainId = toBigInt(chainIdRaw, 'config.chainId')
  const activations: ForkActivation[] = []
  for (const [key, fork] of BLOCK_FORK_KEYS) {
    if (key === 'daoForkBlock' && config.daoForkSupport === false) continue
    const block = optNumber(config, key)
    if (block !== undefined) activations.push({ fork, block })
  }
  // Petersburg defaults to Constantinople's block when absent (geth's rule).
  const constantinople = activations.find((a) => a.fork === 'constantinople')
  if (constantinople && !activations.some((a) => a.fork === 'petersburg')) activations.push({ fork: 'petersburg', block: constantinople.block })
  for (const [key, fork] of TIME_FORK_KEYS) {
    const time = optNumber(config, key)
    if (time !== undefined) activations.push({ fork, time })
  }
  const forkIdBlocks = FORK_ID_ONLY_BLOCK_KEYS.map((k) => optNumber(config, k)).filter((b): b is number => b !== undefined)
  const ttdRaw = config.terminalTotalDifficulty
  const terminalTotalDifficulty =
    ttdRaw === undefined || ttdRaw === null ? undefined : toBigInt(ttdRaw as string | number, 'config.terminalTotalDifficulty')
  const fields = genesisFields(json)
  // A genesis whose own difficulty already reaches the TTD is the terminal block: PoS from block 1.
  const mergeBlock =
    terminalTotalDifficulty !== undefined && fields.difficulty >= terminalTotalDifficulty
      ? terminalTotalDifficulty === 0n
        ? 0
        : 1
      : optNumber(config, 'mergeNetsplitBlock')
  let consensus: ConsensusConfig = { kind: 'ethash' }
  const clique = config.clique as { period?: number; epoch?: number } | undefined
  const parlia = config.parlia as { period?: number; epoch?: number } | undefined
  if (clique) consensus = { kind: 'clique', period: clique.period ?? 15, epoch: clique.epoch ?? 30000 }
  else if (parlia) consensus = { kind: 'parlia', period: parlia.period ?? 3, epoch: parlia.epoch ?? 200 }
  const schedule: ScheduleConfig = {
    chainId,
    activations,
    terminalTotalDifficulty,
    mergeBlock,
    forkIdBlocks,
    blobSchedule: parseBlobSchedule(config.blobSchedule),
    genesisTime: fields.timestamp,
  }
  const daoForkBlock = activations.find((a) => a.fork === 'dao')?.block
  return { chainId, schedule, consensus, fields, daoForkBlock }
}

function genesisFields(json: GethGenesis): GenesisFields {
  const opt = (v: string | number | undefined | null, what: string) => (v === undefined || v === null ? undefined : toBigInt(v, what))
  let stateRoot: Bytes
  if (json.alloc) stateRoot = allocStateRoot(json.alloc)
  else if (json.stateRoot) stateRoot = hexToBytes(json.stateRoot)
  else stateRoot = EMPTY_TRIE_ROOT
  const timestamp = toBigInt(json.timestamp ?? 0, 'timestamp')
  return {
    nonce: toBigInt(json.nonce ?? 0, 'nonce'),
    timestamp: Number(timestamp),
    extraData: hexToBytes(json.extraData ?? '0x'),
    gasLimit: toBigInt(json.gasLimit ?? 0, 'gasLimit'),
    difficulty: toBigInt(json.difficulty ?? 0, 'difficulty'),
    mixHash: json.mixHash ? hexToBytes(json.mixHash) : ZERO32,
    coinbase: json.coinbase ? hexToBytes(json.coinbase) : new Uint8Array(20),
    stateRoot,
    baseFeePerGas: opt(json.baseFeePerGas, 'baseFeePerGas'),
    blobGasUsed: opt(json.blobGasUsed, 'blobGasUsed'),
    excessBlobGas: opt(json.excessBlobGas, 'excessBlobGas'),
  }
}

/**
 * Named chains (mainnet, sepolia, holesky, hoodi, goerli, bsc), custom chains from a geth
 * genesis.json, and dev chains (Anvil). Schedules, genesis fields and bootnodes are go-ethereum's
 * (bnb-chain/bsc's for BSC); the genesis state roots are constants because the allocs are large
 * (mainnet: 8,893 accounts) — each named genesis header is rebuilt from them and its hash is checked
 * against the chain's published genesis hash in test/chain/chains.test.ts.
 */
import { readFileSync } from 'node:fs'
import { ConfigError, errorMessage } from '../errors.js'
import { type Bytes, hexToBytes, utf8ToBytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { Chain, type HeaderParams } from './chain.js'
import { CliqueEngine } from './consensus/clique.js'
import type { EthashOptions } from './consensus/ethash.js'
import { ParliaEngine } from './consensus/parlia.js'
import { PosEngine } from './consensus/pos.js'
import { DEFAULT_ETHASH, EthashEngine } from './consensus/pow.js'
import type { ConsensusAdapter } from './consensus/types.js'
import { forkIndex, HARDFORKS, type Hardfork } from './forks.js'
import { buildGenesisHeader, type GenesisFields, type GethGenesis, parseGethGenesis, type ParsedGenesis } from './genesis.js'
import { type ForkActivation, ForkSchedule, type ScheduleConfig } from './schedule.js'

/**
 * Reorg windows used when a source has no `finalized` tag:
 * - PoS (mainnet-like): 64 blocks = two beacon epochs, the depth Casper FFG finalizes within when
 *   the chain is healthy; anything deeper is a finality failure the operator must see.
 * - PoW (Ethash): 256 blocks. Finality is only probabilistic; mainnet PoW reorgs stayed below ~10
 *   blocks, and 256 leaves room for a long private fork while staying cheap to keep in memory.
 * - Clique / Parlia: 128 blocks. A signer majority can rewrite history at any depth; in practice
 *   forks resolve within a few rounds of the signer set (Goerli 7 signers, BSC 21 validators), so a
 *   window of several full rounds is kept.
 */
export const FINALITY_DEPTH = { pos: 64, pow: 256, poa: 128 } as const

export interface ChainOptions {
  /** Ethash seal checking for pre-merge PoW headers (default: sampled, 1 in 32). */
  ethash?: EthashOptions
}

const blocks = (entries: ReadonlyArray<readonly [Hardfork, number]>): ForkActivation[] => entries.map(([fork, block]) => ({ fork, block }))
const times = (entries: ReadonlyArray<readonly [Hardfork, number]>): ForkActivation[] => entries.map(([fork, time]) => ({ fork, time }))
/** Every fork after Frontier up to `upTo` active from genesis (block 0 / time 0); no DAO rule, Paris by TTD. */
export const atGenesis = (upTo: Hardfork): ForkActivation[] =>
  HARDFORKS.slice(1, forkIndex(upTo) + 1)
    .filter((f) => f !== 'dao' && f !== 'paris')
    .map((fork) => (forkIndex(fork) >= forkIndex('shanghai') ? { fork, time: 0 } : { fork, block: 0 }))

const BPO_BLOBS = {
  bpo1: { target: 10, max: 15, baseFeeUpdateFraction: 8346193n },
  bpo2: { target: 14, max: 21, baseFeeUpdateFraction: 11684671n },
}

const MAINNET_BOOTNODES = [
  'enode://d860a01f9722d78051619d1e2351aba3f43f943f6f00718d1b9baa4101932a1f5011f16bb2b1bb35db20d6fe28fa0bf09636d26a87d31de9ec6203eeedb1f666@18.138.108.67:30303',
  'enode://22a8232c3abc76a16ae9d6c3b164f98775fe226f0917b0ca871128a74a8e9630b458460865bab457221f1d448dd9791d24c4e5d88786180ac185df813a68d4de@3.209.45.79:30303',
  'enode://2b252ab6a1d0f971d9722cb839a42cb81db019ba44c08754628ab4a823487071b5695317c8ccd085219c3a03af063495b2f1da8d18218da2d6a82981b45e6ffc@65.108.70.101:30303',
  'enode://4aeb4ab6c14b23e2c4cfdce879c04b0748a20d8e9b59e25ded2a08143e265c6c25936e74cbc8e641e3312ca288673d91f2f93f8e277de3cfa444ecdaaf982052@157.90.35.166:30303',
]
const SEPOLIA_BOOTNODES = [
  'enode://4e5e92199ee224a01932a377160aa432f31d0b351f84ab413a8e0a42f4f36476f8fb1cbe914af0d9aef0d51665c214cf653c651c4bbd9d5550a934f241f1682b@138.197.51.181:30303',
  'enode://143e11fb766781d22d92a2e33f8f104cddae4411a122295ed1fdb6638de96a6ce65f5b7c964ba3763bba27961738fef7d3ecc739268f3e5e771fb4c87b6234ba@146.190.1.103:30303',
  'enode://8b61dc2d06c3f96fddcbebb0efb29d60d3598650275dc469c22229d3e5620369b0d3dedafd929835fe7f489618f19f456fe7c0df572bf2d914a9f4e006f783a9@170.64.250.88:30303',
  'enode://10d62eff032205fcef19497f35ca8477bea0eadfff6d769a147e895d8b2b8f8ae6341630c645c30f5df6e67547c03494ced3d9c5764e8622a26587b083b028e8@139.59.49.206:30303',
  'enode://9e9492e2e8836114cc75f5b929784f4f46c324ad01daf87d956f98b3b6c5fcba95524d6e5cf9861dc96a2c8a171ea7105bb554a197455058de185fa870970c7c@138.68.123.152:30303',
]
const HOLESKY_BOOTNODES = [
  'enode://ac906289e4b7f12df423d654c5a962b6ebe5b3a74cc9e06292a85221f9a64a6f1cfdd6b714ed6dacef51578f92b34c60ee91e9ede9c7f8fadc4d347326d95e2b@146.190.13.128:30303',
  'enode://a3435a0155a3e837c02f5e7f5662a2f1fbc25b48e4dc232016e1c51b544cb5b4510ef633ea3278c0e970fa8ad8141e2d4d0f9f95456c537ff05fdf9b31c15072@178.128.136.233:30303',
]
const HOODI_BOOTNODES = [
  'enode://2112dd3839dd752813d4df7f40936f06829fc54c0e051a93967c26e5f5d27d99d886b57b4ffcc3c475e930ec9e79c56ef1dbb7d86ca5ee83a9d2ccf36e5c240c@134.209.138.84:30303',
  'enode://60203fcb3524e07c5df60a14ae1c9c5b24023ea5d47463dfae051d2c9f3219f309657537576090ca0ae641f73d419f53d8e8000d7a464319d4784acd7d2abc41@209.38.124.160:30303',
  'enode://8ae4a48101b2299597341263da0deb47cc38aa4d3ef4b7430b897d49bfa10eb1ccfe1655679b1ed46928ef177fbf21b86837bd724400196c508427a6f41602cd@134.199.184.23:30303',
]
const GOERLI_BOOTNODES = [
  'enode://011f758e6552d105183b1761c5e2dea0111bc20fd5f6422bc7f91e0fabbec9a6595caf6239b37feb773dddd3f87240d99d859431891e4a642cf2a0a9e6cbb98a@51.141.78.53:30303',
  'enode://176b9417f511d05b6b2cf3e34b756cf0a7096b3094572a8f6ef4cdcb9d1f9d00683bf0f83347eebdf3b81c3521c2332086d9592802230bf528eaf606a1d9677b@13.93.54.137:30303',
  'enode://46add44b9f13965f7b9875ac6b85f016f341012d84f975377573800a863526f4da19ae2c620ec73d11591fa9510e992ecc03ad0751f53cc02f7c7ed6d55c7291@94.237.54.114:30313',
  'enode://b5948a2d3e9d486c4d75bf32713221c2bd6cf86463302339299bd227dc2e276cd5a1c7ca4f43a0e9122fe9af884efed563bd2a1fd28661f3b5f5ad7bf1de5949@18.218.250.66:30303',
  'enode://a61215641fb8714a373c80edbfa0ea8878243193f57c96eeb44d0bc019ef295abd4e044fd619bfc4c59731a73fb79afe84e9ab6da0c743ceb479cbb6d263fa91@3.11.147.67:30303',
  'enode://d4f764a48ec2a8ecf883735776fdefe0a3949eb0ca476bd7bc8d0954a9defe8fea15ae5da7d40b5d2d59ce9524a99daedadf6da6283fca492cc80b53689fb3b3@46.4.99.122:32109',
  'enode://d2b720352e8216c9efc470091aa91ddafc53e222b32780f505c817ceef69e01d5b0b0797b69db254c586f493872352f5a022b4d8479a00fc92ec55f9ad46a27e@88.99.70.182:30303',
]
const BSC_BOOTNODES = [
  'enode://433c8bfdf53a3e2268ccb1b829e47f629793291cbddf0c76ae626da802f90532251fc558e2e0d10d6725e759088439bf1cd4714716b03a259a35d4b2e4acfa7f@52.69.102.73:30311',
  'enode://571bee8fb902a625942f10a770ccf727ae2ba1bab2a2b64e121594a99c9437317f6166a395670a00b7d93647eacafe598b6bbcef15b40b6d1a10243865a3e80f@35.73.84.120:30311',
  'enode://fac42fb0ba082b7d1eebded216db42161163d42e4f52c9e47716946d64468a62da4ba0b1cac0df5e8bf1e5284861d757339751c33d51dfef318be5168803d0b5@18.203.152.54:30311',
  'enode://3063d1c9e1b824cfbb7c7b6abafa34faec6bb4e7e06941d218d760acdd7963b274278c5c3e63914bd6d1b58504c59ec5522c56f883baceb8538674b92da48a96@34.250.32.100:30311',
  'enode://ad78c64a4ade83692488aa42e4c94084516e555d3f340d9802c2bf106a3df8868bc46eae083d2de4018f40e8d9a9952c32a0943cd68855a9bc9fd07aac982a6d@34.204.214.24:30311',
  'enode://5db798deb67df75d073f8e2953dad283148133acb520625ea804c9c4ad09a35f13592a762d8f89056248f3889f6dcc33490c145774ea4ff2966982294909b37a@107.20.191.97:30311',
]

interface NamedChainDef {
  name: string
  schedule: ScheduleConfig
  genesis: GenesisFields
  engine: (opts: ChainOptions) => ConsensusAdapter
  finalityDepth: number
  bootnodes: string[]
  daoForkBlock?: number
  header?: Partial<HeaderParams>
}

const ZERO32 = new Uint8Array(32)
const ZERO20 = new Uint8Array(20)
const fields = (f: Partial<GenesisFields> & Pick<GenesisFields, 'stateRoot' | 'gasLimit' | 'difficulty'>): GenesisFields => ({
  nonce: 0n,
  timestamp: 0,
  extraData: new Uint8Array(0),
  mixHash: ZERO32,
  coinbase: ZERO20,
  ...f,
})
const ethash = (opts: ChainOptions) => new EthashEngine(opts.ethash ?? DEFAULT_ETHASH)

const NAMED: Record<string, NamedChainDef> = {
  mainnet: {
    name: 'mainnet',
    schedule: {
      chainId: 1n,
      activations: [
        ...blocks([
          ['homestead', 1_150_000],
          ['dao', 1_920_000],
          ['tangerineWhistle', 2_463_000],
          ['spuriousDragon', 2_675_000],
          ['byzantium', 4_370_000],
          ['constantinople', 7_280_000],
          ['petersburg', 7_280_000],
          ['istanbul', 9_069_000],
          ['muirGlacier', 9_200_000],
          ['berlin', 12_244_000],
          ['london', 12_965_000],
          ['arrowGlacier', 13_773_000],
          ['grayGlacier', 15_050_000],
        ]),
        ...times([
          ['shanghai', 1681338455],
          ['cancun', 1710338135],
          ['prague', 1746612311],
          ['osaka', 1764798551],
          ['bpo1', 1765290071],
          ['bpo2', 1767747671],
        ]),
      ],
      terminalTotalDifficulty: 58_750_000_000_000_000_000_000n,
      mergeBlock: 15_537_394,
      blobSchedule: BPO_BLOBS,
      genesisTime: 0,
    },
    genesis: fields({
      nonce: 66n,
      extraData: hexToBytes('0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa'),
      gasLimit: 5000n,
      difficulty: 17_179_869_184n,
      stateRoot: hexToBytes('0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544'),
    }),
    engine: ethash,
    finalityDepth: FINALITY_DEPTH.pos,
    bootnodes: MAINNET_BOOTNODES,
    daoForkBlock: 1_920_000,
  },
  sepolia: {
    name: 'sepolia',
    schedule: {
      chainId: 11155111n,
      activations: [
        ...atGenesis('london').filter((a) => a.fork !== 'arrowGlacier' && a.fork !== 'grayGlacier'),
        ...times([
          ['shanghai', 1677557088],
          ['cancun', 1706655072],
          ['prague', 1741159776],
          ['osaka', 1760427360],
          ['bpo1', 1761017184],
          ['bpo2', 1761607008],
        ]),
      ],
      terminalTotalDifficulty: 17_000_000_000_000_000n,
      mergeBlock: 1_450_409,
      forkIdBlocks: [1_735_371],
      blobSchedule: BPO_BLOBS,
      genesisTime: 1633267481,
    },
    genesis: fields({
      extraData: utf8ToBytes('Sepolia, Athens, Attica, Greece!'),
      gasLimit: 0x1c9c380n,
      difficulty: 0x20000n,
      timestamp: 1633267481,
      stateRoot: hexToBytes('0x5eb6e371a698b8d68f665192350ffcecbbbf322916f4b51bd79bb6887da3f494'),
    }),
    engine: ethash,
    finalityDepth: FINALITY_DEPTH.pos,
    bootnodes: SEPOLIA_BOOTNODES,
  },
  holesky: {
    name: 'holesky',
    schedule: {
      chainId: 17000n,
      activations: [
        ...atGenesis('london'),
        ...times([
          ['shanghai', 1696000704],
          ['cancun', 1707305664],
          ['prague', 1740434112],
          ['osaka', 1759308480],
          ['bpo1', 1759800000],
          ['bpo2', 1760389824],
        ]),
      ],
      terminalTotalDifficulty: 0n,
      mergeBlock: 0,
      blobSchedule: BPO_BLOBS,
      genesisTime: 1695902100,
    },
    genesis: fields({
      nonce: 0x1234n,
      gasLimit: 0x17d7840n,
      difficulty: 1n,
      timestamp: 1695902100,
      stateRoot: hexToBytes('0x69d8c9d72f6fa4ad42d4702b433707212f90db395eb54dc20bc85de253788783'),
    }),
    engine: () => new PosEngine(),
    finalityDepth: FINALITY_DEPTH.pos,
    bootnodes: HOLESKY_BOOTNODES,
  },
  hoodi: {
    name: 'hoodi',
    schedule: {
      chainId: 560048n,
      activations: [
        ...atGenesis('cancun'),
        ...times([
          ['prague', 1742999832],
          ['osaka', 1761677592],
          ['bpo1', 1762365720],
          ['bpo2', 1762955544],
        ]),
      ],
      terminalTotalDifficulty: 0n,
      mergeBlock: 0,
      blobSchedule: BPO_BLOBS,
      genesisTime: 1742212800,
    },
    genesis: fields({
      nonce: 0x1234n,
      gasLimit: 0x2255100n,
      difficulty: 1n,
      timestamp: 1742212800,
      stateRoot: hexToBytes('0xda87d7f5f91c51508791bbcbd4aa5baf04917830b86985eeb9ad3d5bfb657576'),
    }),
    engine: () => new PosEngine(),
    finalityDepth: FINALITY_DEPTH.pos,
    bootnodes: HOODI_BOOTNODES,
  },
  goerli: {
    name: 'goerli',
    schedule: {
      chainId: 5n,
      activations: [
        ...atGenesis('petersburg'),
        ...blocks([
          ['istanbul', 1_561_651],
          ['berlin', 4_460_644],
          ['london', 5_062_605],
        ]),
        ...times([
          ['shanghai', 1678832736],
          ['cancun', 1705473120],
        ]),
      ],
      terminalTotalDifficulty: 10_790_000n,
      mergeBlock: 7_382_819,
      genesisTime: 1548854791,
    },
    genesis: fields({
      timestamp: 1548854791,
      extraData: hexToBytes(
        '0x22466c6578692069732061207468696e6722202d204166726900000000000000e0a2bd4258d2768837baa26a28fe71dc079f84c70000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
      ),
      gasLimit: 10_485_760n,
      difficulty: 1n,
      stateRoot: hexToBytes('0x5d6cded585e73c4e322c30c2f782a336316f17dd85a4863b9d838d2d4b8b3008'),
    }),
    engine: () => new CliqueEngine({ period: 15, epoch: 30000 }),
    finalityDepth: FINALITY_DEPTH.poa,
    bootnodes: GOERLI_BOOTNODES,
  },
  bsc: {
    name: 'bsc',
    schedule: {
      chainId: 56n,
      activations: [
        ...atGenesis('muirGlacier'),
        ...blocks([
          ['berlin', 31_302_048],
          ['london', 31_302_048],
        ]),
        // BSC's Pascal is its Prague; its blob schedule is Cancun's (3/6) for both.
        ...times([
          ['shanghai', 1705996800],
          ['cancun', 1718863500],
          ['prague', 1742436600],
        ]),
      ],
      // BSC's own forks count in its fork id (Ramanujan..Hertzfix by block, Kepler by time).
      forkIdBlocks: [5184000, 13082000, 18907621, 21962149, 22107423, 23846001, 27281024, 29020050, 30720096, 34140700],
      blobSchedule: { prague: { target: 3, max: 6, baseFeeUpdateFraction: 3338477n } },
      genesisTime: 1587390414,
    },
    genesis: fields({
      timestamp: 1587390414,
      extraData: hexToBytes(
        '0x00000000000000000000000000000000000000000000000000000000000000002a7cdd959bfe8d9487b2a43b33565295a698f7e26488aa4d1955ee33403f8ccb1d4de5fb97c7ade29ef9f4360c606c7ab4db26b016007d3ad0ab86a0ee01c3b1283aa067c58eab4709f85e99d46de5fe685b1ded8013785d6623cc18d214320b6bb6475978f3adfc719c99674c072166708589033e2d9afec2be4ec20253b8642161bc3f444f53679c1f3d472f7be8361c80a4c1e7e9aaf001d0877f1cfde218ce2fd7544e0b2cc94692d4a704debef7bcb61328b8f7166496996a7da21cf1f1b04d9b3e26a3d0772d4c407bbe49438ed859fe965b140dcf1aab71a96bbad7cf34b5fa511d8e963dbba288b1960e75d64430b3230294d12c6ab2aac5c2cd68e80b16b581ea0a6e3c511bbd10f4519ece37dc24887e11b55d7ae2f5b9e386cd1b50a4550696d957cb4900f03a82012708dafc9e1b880fd083b32182b869be8e0922b81f8e175ffde54d797fe11eb03f9e3bf75f1d68bf0b8b6fb4e317a0f9d6f03eaf8ce6675bc60d8c4d90829ce8f72d0163c1d5cf348a862d55063035e7a025f4da968de7e4d7e4004197917f4070f1d6caa02bbebaebb5d7e581e4b66559e635f805ff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
      ),
      gasLimit: 40_000_000n,
      difficulty: 1n,
      coinbase: hexToBytes('0xfffffffffffffffffffffffffffffffffffffffe'),
      stateRoot: hexToBytes('0x919fcc7ad870b53db0aa76eb588da06bacb6d230195100699fc928511003b422'),
    }),
    engine: () => new ParliaEngine({ chainId: 56n, period: 3, epoch: 200, lubanBlock: 29_020_050, bohrTime: 1727317200 }),
    finalityDepth: FINALITY_DEPTH.poa,
    bootnodes: BSC_BOOTNODES,
    header: { gasLimitBoundDivisor: 256n, baseFee: 'zero' },
  },
}

export const NAMED_CHAINS = Object.keys(NAMED)

function genesisRaw(fieldsOf: GenesisFields, schedule: ScheduleConfig): Bytes {
  return buildGenesisHeader(fieldsOf, new ForkSchedule(schedule).rulesAt(0, fieldsOf.timestamp))
}

function namedChain(def: NamedChainDef, opts: ChainOptions): Chain {
  return new Chain({
    name: def.name,
    schedule: def.schedule,
    genesisHeader: genesisRaw(def.genesis, def.schedule),
    consensus: def.engine(opts),
    finalityDepth: def.finalityDepth,
    bootnodes: def.bootnodes,
    daoForkBlock: def.daoForkBlock,
    header: def.header,
  })
}

/** A chain from a parsed geth genesis.json. */
export function chainFromGenesis(parsed: ParsedGenesis, name: string, opts: ChainOptions = {}): Chain {
  let consensus: ConsensusAdapter
  let finalityDepth: number
  switch (parsed.consensus.kind) {
    case 'clique':
      consensus = new CliqueEngine(parsed.consensus)
      finalityDepth = FINALITY_DEPTH.poa
      break
    case 'parlia':
      consensus = new ParliaEngine({ chainId: parsed.chainId, ...parsed.consensus })
      finalityDepth = FINALITY_DEPTH.poa
      break
    case 'ethash':
      consensus = parsed.schedule.mergeBlock === 0 ? new PosEngine() : ethash(opts)
      finalityDepth = parsed.schedule.terminalTotalDifficulty === undefined ? FINALITY_DEPTH.pow : FINALITY_DEPTH.pos
      break
  }
  return new Chain({
    name,
    schedule: parsed.schedule,
    genesisHeader: genesisRaw(parsed.fields, parsed.schedule),
    consensus,
    finalityDepth,
    daoForkBlock: parsed.daoForkBlock,
  })
}

/** A named chain (mainnet, sepolia, holesky, hoodi, goerli, bsc) or a path to a geth genesis.json. */
export function loadChain(nameOrGenesisJsonPath: string, opts: ChainOptions = {}): Chain {
  const def = NAMED[nameOrGenesisJsonPath.toLowerCase()]
  if (def) return namedChain(def, opts)
  if (!nameOrGenesisJsonPath.endsWith('.json')) {
    throw new ConfigError('UNKNOWN_CHAIN', `unknown chain "${nameOrGenesisJsonPath}" (known: ${NAMED_CHAINS.join(', ')}, or a genesis.json path)`)
  }
  let json: GethGenesis
  try {
    json = JSON.parse(readFileSync(nameOrGenesisJsonPath, 'utf8')) as GethGenesis
  } catch (err) {
    throw new ConfigError('GENESIS_UNREADABLE', `cannot read ${nameOrGenesisJsonPath}: ${errorMessage(err)}`, { cause: err })
  }
  return chainFromGenesis(parseGethGenesis(json), nameOrGenesisJsonPath, opts)
}

/** The named chain with this chain id, if any. */
export function chainById(chainId: bigint, opts: ChainOptions = {}): Chain | undefined {
  const def = Object.values(NAMED).find((d) => d.schedule.chainId === chainId)
  return def && namedChain(def, opts)
}

/**
 * A development chain (Anvil, chain id 31337): every fork up to `hardfork` active from genesis,
 * the genesis header taken from the source as received.
 */
export function devChain(chainId: bigint, genesisHeaderRaw: Bytes, hardfork: Hardfork, opts: ChainOptions = {}): Chain {
  const genesis = BlockHeader.decode(genesisHeaderRaw)
  const merged = forkIndex(hardfork) >= forkIndex('paris')
  return new Chain({
    name: `dev-${chainId}`,
    schedule: {
      chainId,
      activations: atGenesis(hardfork),
      terminalTotalDifficulty: merged ? 0n : undefined,
      mergeBlock: merged ? 0 : undefined,
      genesisTime: genesis.timestamp,
    },
    genesisHeader: genesisHeaderRaw,
    consensus: merged ? new PosEngine() : new EthashEngine(opts.ethash ?? { mode: 'off' }),
    finalityDepth: merged ? FINALITY_DEPTH.pos : FINALITY_DEPTH.pow,
    header: { baseFee: 'operator', sameSecondBlocks: true },
  })
}


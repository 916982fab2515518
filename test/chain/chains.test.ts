import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { chainById, devChain, loadChain, NAMED_CHAINS } from '../../src/chain/chains.js'
import { ConfigError } from '../../src/errors.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { readItem, rawOf } from '../../src/primitives/rlp.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { fixturePath, readFixtureJson } from '../fixtures.js'

/** Published genesis hashes (go-ethereum params, bnb-chain/bsc params). */
const GENESIS_HASHES: Record<string, string> = {
  mainnet: '0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
  sepolia: '0x25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9',
  holesky: '0xb5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4',
  hoodi: '0xbbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b',
  goerli: '0xbf7e331f7f7c1dd2e05159666b3bf8bc7a8a3a9eb1d518969eab529dd9b88c1a',
  bsc: '0x0d21840abff46b96c84b2ac9e10e4f5cdaeb5693cb665db62a2f3b02d2d57b5b',
}

/** EIP-2124 / EIP-6122 vectors from go-ethereum core/forkid/forkid_test.go: [head number, head time, hash, next]. */
const FORK_IDS: Record<string, Array<[number, number, string, bigint]>> = {
  mainnet: [
    [0, 0, '0xfc64ec04', 1150000n],
    [1149999, 0, '0xfc64ec04', 1150000n],
    [1150000, 0, '0x97c2c34c', 1920000n],
    [1919999, 0, '0x97c2c34c', 1920000n],
    [1920000, 0, '0x91d1f948', 2463000n],
    [2463000, 0, '0x7a64da13', 2675000n],
    [2675000, 0, '0x3edd5b10', 4370000n],
    [4370000, 0, '0xa00bc324', 7280000n],
    [7280000, 0, '0x668db0af', 9069000n],
    [9069000, 0, '0x879d6e30', 9200000n],
    [9200000, 0, '0xe029e991', 12244000n],
    [12244000, 0, '0x0eb440f6', 12965000n],
    [12965000, 0, '0xb715077d', 13773000n],
    [13773000, 0, '0x20c327fc', 15050000n],
    [15050000, 0, '0xf0afd0e3', 1681338455n],
    [20000000, 1681338454, '0xf0afd0e3', 1681338455n],
    [20000000, 1681338455, '0xdce96c2d', 1710338135n],
    [30000000, 1710338135, '0x9f3d2254', 1746612311n],
    [30000000, 1746612311, '0xc376cf8b', 1764798551n],
    [30000000, 1764798551, '0x5167e2a6', 1765290071n],
    [30000000, 1765290071, '0xcba2a1c0', 1767747671n],
    [30000000, 1767747671, '0x07c9462e', 0n],
    [50000000, 2000000000, '0x07c9462e', 0n],
  ],
  sepolia: [
    [0, 0, '0xfe3366e7', 1735371n],
    [1735370, 0, '0xfe3366e7', 1735371n],
    [1735371, 0, '0xb96cbd13', 1677557088n],
    [1735372, 1677557087, '0xb96cbd13', 1677557088n],
    [1735372, 1677557088, '0xf7f9bc08', 1706655072n],
    [1735372, 1706655072, '0x88cf81d9', 1741159776n],
    [1735372, 1741159776, '0xed88b5fd', 1760427360n],
    [1735372, 1760427360, '0xe2ae4999', 1761017184n],
    [1735372, 1761017184, '0x56078a1e', 1761607008n],
    [1735372, 1761607008, '0x268956b6', 0n],
  ],
  holesky: [
    [0, 0, '0xc61a6098', 1696000704n],
    [123, 1696000704, '0xfd4f016b', 1707305664n],
    [123, 1707305664, '0x9b192ad0', 1740434112n],
    [123, 1740434112, '0xdfbd9bed', 1759308480n],
    [123, 1759308480, '0x783def52', 1759800000n],
    [123, 1759800000, '0xa280a45c', 1760389824n],
    [123, 1760389824, '0x9bc6cb31', 0n],
  ],
  hoodi: [
    [0, 0, '0xbef71d30', 1742999832n],
    [123, 1742999832, '0x0929e24e', 1761677592n],
    [123, 1761677592, '0xe7e0e7ff', 1762365720n],
    [123, 1762365720, '0x3893353e', 1762955544n],
    [123, 1762955544, '0x23aa1351', 0n],
  ],
  // Goerli vectors from go-ethereum before Shanghai was scheduled: only the block forks are compared.
  goerli: [
    [0, 0, '0xa3f5ab08', 1561651n],
    [1561651, 0, '0xc25efa5c', 4460644n],
    [4460644, 0, '0x757a1c47', 5062605n],
  ],
}

describe('named chains', () => {
  it.each(NAMED_CHAINS)('%s genesis header hashes to the published genesis hash', (name) => {
    const chain = loadChain(name)
    expect(bytesToHex(chain.genesis.hash)).toBe(GENESIS_HASHES[name])
    expect(chain.bootnodes.length).toBeGreaterThan(0)
    for (const enode of chain.bootnodes) expect(enode).toMatch(/^enode:\/\/[0-9a-f]{128}@\d+\.\d+\.\d+\.\d+:\d+$/)
  })

  it('mainnet genesis is byte-identical to ethereum-tests BasicTests/genesishashestest.json', () => {
    const t = readFixtureJson<{ genesis_rlp_hex: string; genesis_hash: string; genesis_state_root: string }>('ethereum-tests', 'BasicTests', 'genesishashestest.json')
    const chain = loadChain('mainnet')
    const block = hexToBytes(t.genesis_rlp_hex)
    const headerItem = readItem(block, readItem(block, 0).start)
    expect(bytesToHex(chain.genesis.header)).toBe(bytesToHex(rawOf(block, headerItem)))
    expect(bytesToHex(chain.genesis.hash)).toBe(`0x${t.genesis_hash}`)
    expect(bytesToHex(chain.genesisHeader.stateRoot)).toBe(`0x${t.genesis_state_root}`)
  })

  it.each(Object.keys(FORK_IDS))('%s fork ids match the EIP-2124 vectors', (name) => {
    const chain = loadChain(name)
    for (const [head, time, hash, next] of FORK_IDS[name]) {
      const id = chain.forkId(head, time)
      if (name === 'goerli') {
        expect(bytesToHex(id.hash), `head ${head}`).toBe(hash)
        continue
      }
      expect({ head, time, hash: bytesToHex(id.hash), next: id.next }).toEqual({ head, time, hash, next })
    }
  })

  it('finds named chains by chain id and rejects unknown names with a ConfigError', () => {
    expect(chainById(1n)?.name).toBe('mainnet')
    expect(chainById(56n)?.name).toBe('bsc')
    expect(chainById(424242n)).toBeUndefined()
    expect(() => loadChain('nosuchchain')).toThrow(ConfigError)
    expect(() => loadChain('/nonexistent/genesis.json')).toThrow(ConfigError)
  })

  it('mainnet rules follow the schedule: blocks, the merge block, time forks and blob parameters', () => {
    const chain = loadChain('mainnet')
    expect(chain.rulesAt(1_149_999, 0).fork).toBe('frontier')
    expect(chain.rulesAt(1_920_000, 0).fork).toBe('dao')
    expect(chain.rulesAt(15_537_393, 1663224162).fork).toBe('grayGlacier')
    expect(chain.rulesAt(15_537_394, 1663224179).fork).toBe('paris')
    expect(chain.rulesAt(19_426_587, 1710338135).fork).toBe('cancun')
    expect(chain.rulesAt(19_426_587, 1710338135).blob).toEqual({ target: 3, max: 6, baseFeeUpdateFraction: 3338477n })
    // Osaka keeps Prague's blob parameters; BPO1 and BPO2 raise them (EIP-7892).
    expect(chain.rulesAt(23_000_000, 1764798551).blob?.max).toBe(9)
    expect(chain.rulesAt(23_000_000, 1765290071).blob?.max).toBe(15)
    expect(chain.rulesAt(23_000_000, 1767747671).blob?.max).toBe(21)
    // With the parent's total difficulty known, the TTD decides the merge.
    const ttd = chain.terminalTotalDifficulty as bigint
    expect(chain.rulesAt(15_537_394, 1663224179, ttd - 1n).isActive('paris')).toBe(false)
    expect(chain.rulesAt(15_537_394, 1663224179, ttd).isActive('paris')).toBe(true)
  })

  it('documents a finality depth per consensus kind', () => {
    expect(loadChain('mainnet').finalityDepth).toBe(64)
    expect(loadChain('goerli').finalityDepth).toBeGreaterThan(64)
    expect(loadChain('bsc').finalityDepth).toBeGreaterThan(64)
  })
})

const DEVP2P_CHAINS = ['go-ethereum/cmd/devp2p/internal/ethtest/testdata', 'go-ethereum/at-577be37e0e/cmd/devp2p/internal/ethtest/testdata']

describe('custom chains from geth genesis.json', () => {
  it.each(DEVP2P_CHAINS)('%s: the genesis built from genesis.json (alloc state root included) is the parent of chain.rlp block 1', (dir) => {
    const chain = loadChain(fixturePath(dir, 'genesis.json'))
    const rlp = new Uint8Array(readFileSync(fixturePath(dir, 'chain.rlp')))
    const first = readItem(rlp, 0)
    const header = BlockHeader.decode(rawOf(rlp, readItem(rlp, first.start)))
    expect(header.number).toBe(1)
    expect(bytesToHex(chain.genesis.hash)).toBe(bytesToHex(header.parentHash))
  })

  it.each(DEVP2P_CHAINS)('%s: the schedule matches forkenv.json', (dir) => {
    const chain = loadChain(fixturePath(dir, 'genesis.json'))
    const env = readFixtureJson<Record<string, string>>(dir, 'forkenv.json')
    expect(chain.chainId).toBe(BigInt(env.HIVE_CHAIN_ID))
    const blockForks = { HIVE_FORK_HOMESTEAD: 'homestead', HIVE_FORK_TANGERINE: 'tangerineWhistle', HIVE_FORK_SPURIOUS: 'spuriousDragon', HIVE_FORK_BYZANTIUM: 'byzantium', HIVE_FORK_CONSTANTINOPLE: 'constantinople', HIVE_FORK_PETERSBURG: 'petersburg', HIVE_FORK_ISTANBUL: 'istanbul', HIVE_FORK_MUIR_GLACIER: 'muirGlacier', HIVE_FORK_BERLIN: 'berlin', HIVE_FORK_LONDON: 'london', HIVE_FORK_ARROW_GLACIER: 'arrowGlacier', HIVE_FORK_GRAY_GLACIER: 'grayGlacier' } as const
    for (const [key, fork] of Object.entries(blockForks)) {
      expect(chain.schedule.activation(fork)?.block, key).toBe(Number(env[key]))
    }
    const timeForks = { HIVE_SHANGHAI_TIMESTAMP: 'shanghai', HIVE_CANCUN_TIMESTAMP: 'cancun', HIVE_PRAGUE_TIMESTAMP: 'prague' } as const
    for (const [key, fork] of Object.entries(timeForks)) {
      if (env[key] !== undefined) expect(chain.schedule.activation(fork)?.time, key).toBe(Number(env[key]))
    }
    expect(chain.terminalTotalDifficulty).toBe(BigInt(env.HIVE_TERMINAL_TOTAL_DIFFICULTY))
    if (env.HIVE_CANCUN_BLOB_MAX) {
      expect(chain.blobParamsAt(1000, Number(env.HIVE_CANCUN_TIMESTAMP))).toEqual({
        target: Number(env.HIVE_CANCUN_BLOB_TARGET),
        max: Number(env.HIVE_CANCUN_BLOB_MAX),
        baseFeeUpdateFraction: BigInt(env.HIVE_CANCUN_BLOB_BASE_FEE_UPDATE_FRACTION),
      })
    }
    // The merge block of the chain's data: the first block with difficulty 0.
    const rlp = new Uint8Array(readFileSync(fixturePath(dir, 'chain.rlp')))
    let mergeNumber: number | undefined
    for (let pos = 0; pos < rlp.length && mergeNumber === undefined; ) {
      const block = readItem(rlp, pos)
      const header = BlockHeader.decode(rawOf(rlp, readItem(rlp, block.start)))
      if (header.difficulty === 0n) mergeNumber = header.number
      pos = block.end
    }
    expect(chain.rulesAt(mergeNumber as number, 0).isActive('paris')).toBe(true)
    // Block 0 of a chain that merges at block 1 is the terminal block itself (Shanghai at time 0).
    if ((mergeNumber as number) > 1) expect(chain.rulesAt((mergeNumber as number) - 1, 0).isActive('paris')).toBe(false)
  })

  it('builds fork-dependent genesis fields: Shanghai genesis has a withdrawals root, hoodi (Cancun) has blob fields', () => {
    expect(loadChain(fixturePath(DEVP2P_CHAINS[0], 'genesis.json')).genesisHeader.fieldCount).toBe(17)
    const hoodi = loadChain('hoodi').genesisHeader
    expect(hoodi.fieldCount).toBe(20)
    expect(hoodi.baseFeePerGas).toBe(1_000_000_000n)
    expect(hoodi.parentBeaconBlockRoot?.every((b) => b === 0)).toBe(true)
  })

  it('devChain activates every fork up to the given one from genesis and keeps the given genesis', () => {
    const genesis = loadChain('hoodi').genesis.header
    const dev = devChain(31337n, genesis, 'prague')
    expect(dev.chainId).toBe(31337n)
    expect(dev.genesis.header).toBe(genesis)
    expect(dev.rulesAt(0, 0).fork).toBe('prague')
    expect(dev.rulesAt(5, 100).isActive('paris')).toBe(true)
    expect(dev.consensus.kind).toBe('pos')
  })
})

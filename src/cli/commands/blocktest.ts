/**
 * `evm-syncer blocktest FILE_OR_DIR...`: runs Ethereum BlockchainTests (EEST-style and legacy
 * retesteth format) through the validator without executing anything. For each block it prints
 * {"file","test","block","expect","result","error"}, and for each test the head chosen by fork
 * choice: {"file","test","head","lastblockhash"} (PoW: highest total difficulty; PoS: the last valid
 * block). Blocks may build on any earlier valid block (side chains, reorgs). A block given only as
 * `rlp` is an expected-invalid block: it is validated like any other and rejected even if no rule
 * catches it (error code BLOCKTEST_RLP_ONLY, so a test can tell the two apart). Ethash seals are
 * checked for sealEngine "Ethash" only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { Chain } from '../../chain/chain.js'
import type { EthashVerifier } from '../../chain/consensus/ethash.js'
import type { ValidationError } from '../../errors.js'
import type { Bytes } from '../../primitives/bytes.js'
import type { BlockHeader } from '../../primitives/header.js'
import type { Ancestry } from '../../validator/block.js'

export interface BlocktestBlockLine {
  file: string
  test: string
  block: number
  expect: 'valid' | 'invalid'
  result: 'accepted' | 'rejected'
  error: string | null
}

export interface BlocktestHeadLine {
  file: string
  test: string
  head: string
  lastblockhash: string
}

export interface BlocktestFileError {
  file: string
  error: string
}

export type BlocktestLine = BlocktestBlockLine | BlocktestHeadLine | BlocktestFileError

type JsonHeader = Record<string, string>

interface JsonBlock {
  rlp?: string
  blockHeader?: JsonHeader
  [key: string]: unknown
}

interface JsonTest {
  network: string
  sealEngine?: string
  genesisRLP?: string
  genesisBlockHeader: JsonHeader
  blocks: JsonBlock[]
  lastblockhash: string
}

/** Header fields in RLP order with their JSON names in BlockchainTests. */
const HEADER_JSON_FIELDS: ReadonlyArray<readonly [string, 'data' | 'quantity']> = [
  ['parentHash', 'data'],
  ['uncleHash', 'data'],
  ['coinbase', 'data'],
  ['stateRoot', 'data'],
  ['transactionsTrie', 'data'],
  ['receiptTrie', 'data'],
  ['bloom', 'data'],
  ['difficulty', 'quantity'],
  ['number', 'quantity'],
  ['gasLimit', 'quantity'],
  ['gasUsed', 'quantity'],
  ['timestamp', 'quantity'],
  ['extraData', 'data'],
  ['mixHash', 'data'],
  ['nonce', 'data'],
  ['baseFeePerGas', 'quantity'],
  ['withdrawalsRoot', 'data'],
  ['blobGasUsed', 'quantity'],
  ['excessBlobGas', 'quantity'],
  ['parentBeaconBlockRoot', 'data'],
  ['requestsHash', 'data'],
]

interface Modules {
  hexToBytes: (hex: string) => Bytes
  bytesToHex: (b: Bytes) => string
  encode: typeof import('../../primitives/rlp.js').encode
  decodeBlock: typeof import('../../primitives/body.js').decodeBlock
  BlockHeader: typeof import('../../primitives/header.js').BlockHeader
  keccak256: (b: Bytes) => Bytes
  testNetworkChain: typeof import('../../chain/test-networks.js').testNetworkChain
  validateBlock: typeof import('../../validator/block.js').validateBlock
  sharedVerifier: EthashVerifier
}

async function loadModules(): Promise<Modules> {
  const [bytes, rlp, body, header, keccak, networks, block, ethash] = await Promise.all([
    import('../../primitives/bytes.js'),
    import('../../primitives/rlp.js'),
    import('../../primitives/body.js'),
    import('../../primitives/header.js'),
    import('../../primitives/keccak.js'),
    import('../../chain/test-networks.js'),
    import('../../validator/block.js'),
    import('../../chain/consensus/ethash.js'),
  ])
  return {
    hexToBytes: bytes.hexToBytes,
    bytesToHex: bytes.bytesToHex,
    encode: rlp.encode,
    decodeBlock: body.decodeBlock,
    BlockHeader: header.BlockHeader,
    keccak256: keccak.keccak256,
    testNetworkChain: networks.testNetworkChain,
    validateBlock: block.validateBlock,
    // One verifier for the whole run: the epoch cache (~1 s to build) is shared by every Ethash test.
    sharedVerifier: new ethash.EthashVerifier({ mode: 'all' }),
  }
}

function listJsonFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const p = join(path, name)
      return statSync(p).isDirectory() ? listJsonFiles(p) : name.endsWith('.json') ? [p] : []
    })
}

function genesisFromJson(m: Modules, h: JsonHeader): Bytes {
  const fields = HEADER_JSON_FIELDS.filter(([name]) => h[name] !== undefined).map(([name, kind]) =>
    kind === 'quantity' ? BigInt(h[name]) : m.hexToBytes(h[name]),
  )
  return m.encode(fields)
}

function isExpectedInvalid(block: JsonBlock): boolean {
  return block.blockHeader === undefined || Object.keys(block).some((k) => k.startsWith('expectException'))
}

function formatErrors(errors: readonly ValidationError[]): string {
  return errors.map((e) => `${e.code}: ${e.message}`).join('; ')
}

interface Stored {
  header: BlockHeader
  totalDifficulty: bigint
  ommerHashes: Bytes[]
}

function runTest(m: Modules, file: string, name: string, test: JsonTest, emit: (line: BlocktestLine) => void): void {
  const genesisRaw = test.genesisRLP ? m.decodeBlock(m.hexToBytes(test.genesisRLP)).header.raw : genesisFromJson(m, test.genesisBlockHeader)
  const chain: Chain = m.testNetworkChain(test.network, genesisRaw, test.sealEngine === 'Ethash' ? m.sharedVerifier : { mode: 'off' })
  const genesis = chain.genesisHeader
  const store = new Map<string, Stored>([[m.bytesToHex(genesis.hash), { header: genesis, totalDifficulty: genesis.difficulty, ommerHashes: [] }]])
  const ancestry: Ancestry = {
    header: (hash) => store.get(m.bytesToHex(hash))?.header,
    ommerHashes: (hash) => store.get(m.bytesToHex(hash))?.ommerHashes,
  }
  let head = store.get(m.bytesToHex(genesis.hash)) as Stored
  test.blocks.forEach((jsonBlock, index) => {
    const expect = isExpectedInvalid(jsonBlock) ? 'invalid' : 'valid'
    const line = { file, test: name, block: index, expect } as const
    let error: string | null = null
    try {
      const { header, body } = m.decodeBlock(m.hexToBytes(jsonBlock.rlp ?? ''))
      const parent = store.get(m.bytesToHex(header.parentHash))
      if (!parent) {
        error = `BLOCK_UNKNOWN_PARENT: parent ${m.bytesToHex(header.parentHash)} is not a known valid block`
      } else {
        const errors = m.validateBlock(chain, { header, body }, parent.header, { parentTotalDifficulty: parent.totalDifficulty, ancestry })
        if (errors.length > 0) error = formatErrors(errors)
        else if (jsonBlock.blockHeader === undefined) error = 'BLOCKTEST_RLP_ONLY: block given only as rlp (expected invalid), no rule rejected it'
        else {
          const stored: Stored = {
            header,
            totalDifficulty: parent.totalDifficulty + header.difficulty,
            ommerHashes: body.ommerHeadersRaw().map((raw) => m.keccak256(raw)),
          }
          store.set(m.bytesToHex(header.hash), stored)
          const postMerge = chain.rulesAt(header.number, header.timestamp, parent.totalDifficulty).isActive('paris')
          // PoS: the newest valid block is the head (the tests' forkchoice); PoW: the heaviest chain.
          if (postMerge || stored.totalDifficulty > head.totalDifficulty) head = stored
        }
      }
    } catch (err) {
      const e = err as { code?: string; message?: string }
      error = `${e.code ?? 'BLOCK_DECODE'}: ${e.message ?? String(err)}`
    }
    emit({ ...line, result: error === null ? 'accepted' : 'rejected', error })
  })
  emit({ file, test: name, head: m.bytesToHex(head.header.hash), lastblockhash: test.lastblockhash })
}

/** Runs every test in `paths`; returns the exit code (0 when every file could be read and run). */
export async function runBlocktests(paths: readonly string[], emit: (line: BlocktestLine) => void): Promise<number> {
  const m = await loadModules()
  let exitCode = 0
  for (const path of paths) {
    let files: string[]
    try {
      files = listJsonFiles(path)
    } catch (err) {
      emit({ file: path, error: `cannot read: ${(err as Error).message}` })
      exitCode = 1
      continue
    }
    for (const file of files) {
      let tests: Record<string, JsonTest>
      try {
        tests = JSON.parse(readFileSync(file, 'utf8')) as Record<string, JsonTest>
      } catch (err) {
        emit({ file, error: `not a BlockchainTests JSON file: ${(err as Error).message}` })
        exitCode = 1
        continue
      }
      for (const [name, test] of Object.entries(tests)) {
        if (!test || !Array.isArray(test.blocks) || typeof test.network !== 'string') {
          emit({ file, error: `${name} is not a BlockchainTests test (no blocks/network)` })
          exitCode = 1
          continue
        }
        try {
          runTest(m, file, name, test, emit)
        } catch (err) {
          emit({ file, error: `${name}: ${(err as Error).message}` })
          exitCode = 1
        }
      }
    }
  }
  return exitCode
}

export function register(program: Command): void {
  program
    .command('blocktest')
    .description('run Ethereum BlockchainTests JSON files through the validator (no execution); one JSON line per block and per test')
    .argument('<paths...>', 'BlockchainTests JSON files or directories (searched recursively for *.json)')
    .action(async (paths: string[]) => {
      process.exitCode = await runBlocktests(paths, (line) => process.stdout.write(JSON.stringify(line) + '\n'))
    })
}

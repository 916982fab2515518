/**
 * Generates the small chain `npm run demo:p2p` serves from a local EthereumJS peer: a geth-style
 * genesis.json (proof of stake from genesis, Prague, a few prefunded accounts) and `chain.rlp`
 * (blocks 1..N, each block's RLP, concatenated: what `--loadBlocksFromRlp` imports), plus
 * `receipts.rlp` (each block's receipt list in the eth/68 wire form, concatenated) for checks.
 *
 * Every block is executed by `@ethereumjs/vm` (`buildBlock`), so state roots, receipts roots, logs
 * blooms, gas used, base fees and requests hashes are real, and the client's re-execution on import
 * agrees with them. Transactions: types 0 (EIP-155 and pre-155), 1, 2 and 4 (EIP-7702 authorizations),
 * signed with viem, in the same mix as the Anvil chain generator (test/helpers/chain-gen.ts): calls to
 * a tiny logging contract (LOG3), reverted calls, contract creations (successful and failing); plus
 * beacon-chain withdrawals every few blocks. Deterministic: the same options give the same bytes.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBlock, type Block } from '@ethereumjs/block'
import { createCommonFromGethGenesis, parseGethGenesisState, type Common, type GethGenesis } from '@ethereumjs/common'
import { createTxFromRLP } from '@ethereumjs/tx'
import { KECCAK256_RLP, SHA256_NULL, type WithdrawalData } from '@ethereumjs/util'
import { buildBlock, createVM, encodeReceipt, type VM } from '@ethereumjs/vm'
import { bytesToHex, hexToBytes, keccak256, toHex, type Hex, type TransactionSerializable } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { encode, encodeListOfEncoded } from '../../src/primitives/rlp.js'
import { DEFAULT_MIX, FAILING_INITCODE, GAS, LOGGER_INITCODE, pickKind, prng, word, type TxKind, type TxMix } from '../../test/helpers/chain-gen.js'

export const DEMO_CHAIN_ID = 271_828
const GENESIS_TIME = 1_735_689_600 // 2025-01-01T00:00:00Z
const BLOCK_TIME = 12
const GAS_LIMIT = 30_000_000n
const GWEI = 1_000_000_000n
const FEES = { gasPrice: 20n * GWEI, maxFeePerGas: 20n * GWEI, maxPriorityFeePerGas: GWEI }
const FEE_RECIPIENT: Hex = '0x000000000000000000000000000000000000fee5'
/** Mainnet's deposit contract address: no code here, so no deposit requests (EIP-6110). */
const DEPOSIT_CONTRACT: Hex = '0x00000000219ab540356cbb839cbe05303d7705fa'
const WITHDRAWAL_EVERY = 8

export interface P2pChainOptions {
  /** Blocks after genesis (block 1 deploys the logging contract). */
  blocks: number
  /** Transactions per block: a [min, max] range. */
  txsPerBlock: readonly [min: number, max: number]
  /** Prefunded senders (one more account deploys and signs the pre-155 transactions). */
  senders?: number
  seed?: number
  mix?: Partial<TxMix>
  onBlock?: (number: number, txs: number) => void
}

/** What was generated; also written beside the chain as chain.json. */
export interface P2pChain {
  name: string
  dir: string
  genesisPath: string
  chainRlpPath: string
  receiptsRlpPath: string
  chainId: number
  genesisHash: Hex
  head: { number: number; hash: Hex; timestamp: number }
  txs: number
  /** Transactions per envelope type (0, 1, 2, 4). */
  byType: Record<number, number>
  logs: number
  withdrawals: number
}

const key = (label: string): Hex => keccak256(toHex(`evm-syncer demo ${label}`))

function genesisJson(accounts: readonly PrivateKeyAccount[]): GethGenesis {
  const alloc: GethGenesis['alloc'] = {}
  for (const a of accounts) alloc[a.address.toLowerCase()] = { balance: toHex(10n ** 24n) }
  return {
    config: {
      chainId: DEMO_CHAIN_ID,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      mergeNetsplitBlock: 0,
      terminalTotalDifficulty: 0,
      terminalTotalDifficultyPassed: true,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      depositContractAddress: DEPOSIT_CONTRACT,
      blobSchedule: {
        cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
        prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
      },
    } as GethGenesis['config'],
    nonce: '0x0',
    timestamp: toHex(GENESIS_TIME),
    extraData: toHex('evm-syncer demo'),
    gasLimit: toHex(GAS_LIMIT),
    difficulty: '0x0',
    mixHash: `0x${'00'.repeat(32)}`,
    coinbase: `0x${'00'.repeat(20)}`,
    baseFeePerGas: toHex(GWEI),
    alloc,
  }
}

/** The genesis block as the EthereumJS client builds it from the same genesis.json. */
async function genesisBlock(vm: VM, common: Common, genesis: GethGenesis): Promise<Block> {
  await vm.stateManager.generateCanonicalGenesis!(parseGethGenesisState(genesis))
  const header = { ...common.genesis(), number: 0, stateRoot: await vm.stateManager.getStateRoot(), withdrawalsRoot: KECCAK256_RLP, requestsHash: SHA256_NULL }
  return createBlock({ header, withdrawals: [] }, { common })
}

interface TxContext {
  contract: Hex
  value: bigint
  nonce: number
  nextAuthority: () => PrivateKeyAccount
}

async function buildTx(kind: Exclude<TxKind, 'legacyPre155'>, c: TxContext): Promise<TransactionSerializable> {
  const chainId = DEMO_CHAIN_ID
  const call = { to: c.contract, data: word(c.value), gas: GAS.call, nonce: c.nonce }
  const dynamic = { type: 'eip1559', chainId, nonce: c.nonce, maxFeePerGas: FEES.maxFeePerGas, maxPriorityFeePerGas: FEES.maxPriorityFeePerGas } as const
  switch (kind) {
    case 'legacy':
      return { ...call, type: 'legacy', chainId, gasPrice: FEES.gasPrice }
    case 'accessList':
    case 'revert':
      // A zero argument makes the contract revert: a failed receipt (status 0) with no logs.
      return {
        ...call,
        type: 'eip2930',
        chainId,
        data: word(kind === 'revert' ? 0n : c.value),
        gasPrice: FEES.gasPrice,
        accessList: [{ address: c.contract, storageKeys: [word(c.value), word(c.value + 1n)] }],
      }
    case 'dynamic':
      return { ...dynamic, to: c.contract, data: word(c.value), gas: GAS.call }
    case 'create':
      return { ...dynamic, data: LOGGER_INITCODE, gas: GAS.create }
    case 'failedCreate':
      return { ...dynamic, data: FAILING_INITCODE, gas: GAS.failedCreate }
    case 'setCode': {
      // Fresh authorities delegate to the logger; the call runs the logger's code at the last one.
      const authorities = Array.from({ length: c.value % 2n === 0n ? 2 : 1 }, c.nextAuthority)
      const authorizationList = await Promise.all(authorities.map((a) => a.signAuthorization({ address: c.contract, chainId, nonce: 0 })))
      const to = authorities[authorities.length - 1].address
      return { ...dynamic, type: 'eip7702', to, data: word(c.value), gas: GAS.call + GAS.setCodePerAuth * BigInt(authorities.length), authorizationList }
    }
  }
}

/** Builds the chain into `dir` (created; must not exist). */
export async function generateP2pChain(dir: string, opts: P2pChainOptions): Promise<P2pChain> {
  const rand = prng(opts.seed ?? 1)
  const mix: TxMix = { ...DEFAULT_MIX, ...opts.mix }
  const deployer = privateKeyToAccount(key('deployer'))
  const senders = Array.from({ length: opts.senders ?? 8 }, (_, i) => privateKeyToAccount(key(`sender ${i}`)))
  const genesis = genesisJson([deployer, ...senders])
  const common = createCommonFromGethGenesis(genesis, { chain: 'evm-syncer-demo' })
  const vm = await createVM({ common })
  let parent = await genesisBlock(vm, common, genesis)
  const genesisHash = bytesToHex(parent.hash())

  const nonces = new Map<string, number>()
  const nextNonce = (a: PrivateKeyAccount) => {
    const n = nonces.get(a.address) ?? 0
    nonces.set(a.address, n + 1)
    return n
  }
  let authorities = 0
  const nextAuthority = () => privateKeyToAccount(key(`authority ${authorities++}`))
  let withdrawalIndex = 0
  const summary = { txs: 0, byType: {} as Record<number, number>, logs: 0, withdrawals: 0 }
  const blocks: Uint8Array[] = []
  const receipts: Uint8Array[] = []
  let contract: Hex | undefined

  for (let n = 1; n <= opts.blocks; n++) {
    const withdrawals: WithdrawalData[] = []
    if (n % WITHDRAWAL_EVERY === 0) {
      for (let i = 0; i < 2; i++) {
        withdrawals.push({ index: withdrawalIndex, validatorIndex: 1000 + (withdrawalIndex % 64), address: senders[withdrawalIndex % senders.length].address, amount: 32n * 10n ** 6n })
        withdrawalIndex++
      }
    }
    const builder = await buildBlock(vm, {
      parentBlock: parent,
      withdrawals,
      headerData: {
        timestamp: GENESIS_TIME + n * BLOCK_TIME,
        coinbase: FEE_RECIPIENT,
        mixHash: hexToBytes(key(`randao ${n}`)),
        parentBeaconBlockRoot: hexToBytes(key(`beacon ${n}`)),
        extraData: toHex('evm-syncer demo'),
      },
      blockOpts: { putBlockIntoBlockchain: false },
    })
    const signed: Hex[] = []
    if (contract === undefined) {
      const nonce = nextNonce(deployer)
      signed.push(await deployer.signTransaction({ type: 'eip1559', chainId: DEMO_CHAIN_ID, nonce, data: LOGGER_INITCODE, gas: GAS.create, maxFeePerGas: FEES.maxFeePerGas, maxPriorityFeePerGas: FEES.maxPriorityFeePerGas }))
      contract = contractAddress(deployer.address, nonce)
    } else {
      const [min, max] = opts.txsPerBlock
      const count = min + Math.floor(rand() * (max - min + 1))
      for (let i = 0; i < count; i++) {
        const kind = pickKind(mix, rand())
        const value = BigInt(1 + Math.floor(rand() * 1_000_000))
        if (kind === 'legacyPre155') {
          // No chain id: v = 27/28.
          signed.push(await deployer.signTransaction({ type: 'legacy', to: contract, data: word(value), gas: GAS.call, gasPrice: FEES.gasPrice, nonce: nextNonce(deployer) }))
        } else {
          const from = senders[Math.floor(rand() * senders.length)]
          signed.push(await from.signTransaction(await buildTx(kind, { contract, value, nonce: nextNonce(from), nextAuthority })))
        }
      }
    }
    const blockReceipts: Uint8Array[] = []
    for (const raw of signed) {
      const tx = createTxFromRLP(hexToBytes(raw), { common })
      const result = await builder.addTransaction(tx)
      const receipt = encodeReceipt(result.receipt, tx.type)
      // eth/68 form: legacy receipts inline, typed ones (type || rlp) as byte strings.
      blockReceipts.push(tx.type === 0 ? receipt : encode(receipt))
      summary.txs++
      summary.byType[tx.type] = (summary.byType[tx.type] ?? 0) + 1
      summary.logs += result.receipt.logs.length
    }
    const { block } = await builder.build()
    summary.withdrawals += withdrawals.length
    blocks.push(block.serialize())
    receipts.push(encodeListOfEncoded(blockReceipts))
    parent = block
    opts.onBlock?.(n, signed.length)
  }

  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  const info: Omit<P2pChain, keyof ChainFiles> = {
    name: 'evm-syncer-demo',
    chainId: DEMO_CHAIN_ID,
    genesisHash,
    head: { number: Number(parent.header.number), hash: bytesToHex(parent.hash()), timestamp: Number(parent.header.timestamp) },
    ...summary,
  }
  writeFileSync(join(tmp, 'genesis.json'), JSON.stringify(genesis, null, 2) + '\n')
  writeFileSync(join(tmp, 'chain.rlp'), Buffer.concat(blocks))
  writeFileSync(join(tmp, 'receipts.rlp'), Buffer.concat(receipts))
  writeFileSync(join(tmp, 'chain.json'), JSON.stringify(info, null, 2) + '\n')
  renameSync(tmp, dir)
  return { ...info, ...files(dir) }
}

type ChainFiles = Pick<P2pChain, 'dir' | 'genesisPath' | 'chainRlpPath' | 'receiptsRlpPath'>

function files(dir: string): ChainFiles {
  return { dir, genesisPath: join(dir, 'genesis.json'), chainRlpPath: join(dir, 'chain.rlp'), receiptsRlpPath: join(dir, 'receipts.rlp') }
}

/** CREATE address: keccak256(rlp([sender, nonce]))[12:], for the small nonces used here. */
function contractAddress(sender: Hex, nonce: number): Hex {
  if (nonce > 0x7f) throw new Error('contractAddress: nonce too large for this helper')
  const nonceRlp = nonce === 0 ? '80' : nonce.toString(16).padStart(2, '0')
  return `0x${keccak256(`0xd694${sender.slice(2)}${nonceRlp}`).slice(26)}`
}

/**
 * The chain for these options, generated once into `cacheRoot` and reused: the directory name hashes
 * the options and the generator's sources, so a changed generator makes a new chain.
 */
export async function cachedP2pChain(cacheRoot: string, opts: P2pChainOptions): Promise<{ chain: P2pChain; generated: boolean }> {
  const h = createHash('sha256')
  h.update(JSON.stringify({ ...opts, onBlock: undefined }))
  for (const source of ['./p2p-chain.ts', '../../test/helpers/chain-gen.ts']) h.update(readFileSync(fileURLToPath(new URL(source, import.meta.url))))
  const dir = join(cacheRoot, `chain-${h.digest('hex').slice(0, 16)}`)
  if (existsSync(join(dir, 'chain.json'))) {
    const info = JSON.parse(readFileSync(join(dir, 'chain.json'), 'utf8')) as Omit<P2pChain, keyof ChainFiles>
    return { chain: { ...info, ...files(dir) }, generated: false }
  }
  mkdirSync(cacheRoot, { recursive: true })
  return { chain: await generateP2pChain(dir, opts), generated: true }
}

/**
 * Fills an Anvil chain with realistic, varied blocks for source/syncer tests and benchmark chains:
 * transaction types 0 (EIP-155 and pre-155), 1 (access lists), 2 and 4 (EIP-7702 authorizations
 * signed with viem), logs from a tiny hand-written contract (SSTORE + LOG3, no solc), contract
 * creations (successful and failing) and reverted calls. No blob transactions: Anvil 1.7.1 computes
 * their blocks' tx root over the network wrapper (foundry-rs/foundry#15132).
 *
 * Each block: the transactions are sent in JSON-RPC batches (Anvil signs for its dev accounts), then
 * `evm_mine` seals them; a block that lost a transaction (Anvil drops some silently) is an error.
 * Deterministic for a given seed (same tx mix; hashes also depend on Anvil's genesis timestamp).
 */
import { existsSync } from 'node:fs'
import { keccak256, toHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ANVIL_CHAIN_ID, ANVIL_KEY_0, jsonRpcClient, startAnvil, type Anvil, type AnvilOptions, type JsonRpcRequest } from './anvil.js'

/** Topic 0 of the logger contract's LOG3. */
export const LOG_TOPIC: Hex = keccak256(toHex('Logged(address,uint256)'))

/**
 * Runtime: v = calldata[0:32]; if v == 0 revert; sstore(caller, v); mstore(0, v);
 * log3(0, 32, LOG_TOPIC, caller, v); stop.
 */
const LOGGER_RUNTIME_OPS = [
  '6000', '35', //          PUSH1 0, CALLDATALOAD            -> v
  '80', '15', //            DUP1, ISZERO                     -> v==0, v
  '6037', '57', //          PUSH1 revert, JUMPI              -> v
  '80', '33', '55', //      DUP1, CALLER, SSTORE             (slot caller := v)
  '80', '6000', '52', //    DUP1, PUSH1 0, MSTORE            (mem[0..32] := v)
  '33', //                  CALLER                           -> caller, v
  '7f' + LOG_TOPIC.slice(2), // PUSH32 topic                 -> topic, caller, v
  '6020', '6000', 'a3', //  PUSH1 32, PUSH1 0, LOG3          (data = v, topics = topic, caller, v)
  '00', //                  STOP
  '5b', '6000', '6000', 'fd', // 0x37: JUMPDEST, REVERT(0, 0)
]
export const LOGGER_RUNTIME: Hex = `0x${LOGGER_RUNTIME_OPS.join('')}`

/** Init code: CODECOPY the runtime (which follows these 11 bytes) to memory and RETURN it. */
export const LOGGER_INITCODE: Hex = (() => {
  const len = (LOGGER_RUNTIME.length - 2) / 2
  const lenHex = len.toString(16).padStart(2, '0')
  return `0x60${lenHex}80600b6000396000f3${LOGGER_RUNTIME.slice(2)}`
})()

/** Init code that reverts: a failed contract creation. */
export const FAILING_INITCODE: Hex = '0x60006000fd'

export type TxKind = 'legacy' | 'legacyPre155' | 'accessList' | 'dynamic' | 'setCode' | 'create' | 'failedCreate' | 'revert'

/** Relative weights of the transaction kinds in a block. */
export type TxMix = Record<TxKind, number>

export const DEFAULT_MIX: TxMix = {
  legacy: 20,
  legacyPre155: 2,
  accessList: 15,
  dynamic: 35,
  setCode: 8,
  create: 5,
  failedCreate: 3,
  revert: 12,
}

export interface ChainGenOptions {
  /** Blocks with transactions to add (after the block deploying the logger contract). */
  blocks: number
  /** Transactions per block, fixed or a [min, max] range. */
  txsPerBlock: number | readonly [min: number, max: number]
  seed?: number
  /** Seconds between block timestamps (anvil_setBlockTimestampInterval). */
  blockTimeSeconds?: number
  mix?: Partial<TxMix>
  /** Dev accounts used as senders (1..n; account 0 deploys and signs pre-155 txs). */
  senders?: number
  /** Called after each mined block. */
  onBlock?: (number: number, txs: number) => void
}

export interface ChainGenSummary {
  head: number
  blocks: number
  txs: number
  /** Transactions per envelope type (0, 1, 2, 4). */
  byType: Record<number, number>
  byKind: Record<TxKind, number>
  authorizations: number
  /** The logger contract every call targets. */
  contract: Hex
}

const GWEI = 1_000_000_000n
const FEES = { gasPrice: toHex(20n * GWEI), maxFeePerGas: toHex(20n * GWEI), maxPriorityFeePerGas: toHex(GWEI) }
/** Explicit gas for each kind: estimation would fail on reverts and cost a round trip per tx. */
export const GAS = { call: 100_000n, create: 250_000n, failedCreate: 80_000n, setCodePerAuth: 25_000n }

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function pickKind(mix: TxMix, r: number): TxKind {
  const total = Object.values(mix).reduce((a, b) => a + b, 0)
  let x = r * total
  for (const [kind, w] of Object.entries(mix) as Array<[TxKind, number]>) {
    if (x < w) return kind
    x -= w
  }
  return 'dynamic'
}

export const word = (v: bigint): Hex => toHex(v, { size: 32 })

type Client = Pick<Anvil, 'rpc' | 'batch'>

/** Sends one tx and mines it; returns its receipt. */
async function mineOne(client: Client, tx: Record<string, unknown>): Promise<{ contractAddress: Hex; status: Hex }> {
  const hash = await client.rpc<Hex>('eth_sendTransaction', [tx])
  await client.rpc('evm_mine')
  return client.rpc('eth_getTransactionReceipt', [hash])
}

export async function generateChain(node: Pick<Anvil, 'url'>, opts: ChainGenOptions): Promise<ChainGenSummary> {
  const client = jsonRpcClient(node.url)
  const rand = prng(opts.seed ?? 1)
  const mix: TxMix = { ...DEFAULT_MIX, ...opts.mix }
  const accounts = await client.rpc<Hex[]>('eth_accounts')
  const senders = accounts.slice(1, 1 + Math.min(opts.senders ?? accounts.length - 1, accounts.length - 1))
  if (senders.length === 0) throw new Error('chain-gen needs at least 2 dev accounts')
  const key0 = privateKeyToAccount(ANVIL_KEY_0)
  if (key0.address.toLowerCase() !== accounts[0].toLowerCase()) throw new Error('anvil account 0 is not the default mnemonic key')
  await client.rpc('anvil_setBlockTimestampInterval', [opts.blockTimeSeconds ?? 12])

  const nonces = new Map<string, bigint>()
  for (const [i, n] of (await client.batch<Hex>(accounts.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'pending'] })))).entries()) {
    nonces.set(accounts[i], BigInt(n))
  }
  const nextNonce = (a: Hex) => {
    const n = nonces.get(a)!
    nonces.set(a, n + 1n)
    return n
  }

  const deploy = await mineOne(client, { from: accounts[0], data: LOGGER_INITCODE, gas: toHex(GAS.create), type: '0x2', ...pick(FEES, 'maxFeePerGas', 'maxPriorityFeePerGas'), nonce: toHex(nextNonce(accounts[0])) })
  if (deploy.status !== '0x1') throw new Error('logger contract deployment failed')
  const contract = deploy.contractAddress

  const summary: ChainGenSummary = {
    head: 0,
    blocks: 0,
    txs: 0,
    byType: {},
    byKind: { legacy: 0, legacyPre155: 0, accessList: 0, dynamic: 0, setCode: 0, create: 1, failedCreate: 0, revert: 0 },
    authorizations: 0,
    contract,
  }
  let senderIndex = 0
  let authorityIndex = 0
  const [min, max] = typeof opts.txsPerBlock === 'number' ? [opts.txsPerBlock, opts.txsPerBlock] : opts.txsPerBlock

  for (let b = 0; b < opts.blocks; b++) {
    const count = min + Math.floor(rand() * (max - min + 1))
    const requests: JsonRpcRequest[] = []
    for (let i = 0; i < count; i++) {
      const kind = pickKind(mix, rand())
      const value = BigInt(1 + Math.floor(rand() * 1_000_000))
      if (kind === 'legacyPre155') {
        // Pre-EIP-155 (v = 27/28, no chain id): signed here, sent raw.
        const raw = await key0.signTransaction({ type: 'legacy', to: contract, data: word(value), gas: GAS.call, gasPrice: 20n * GWEI, nonce: Number(nextNonce(accounts[0])) })
        requests.push({ method: 'eth_sendRawTransaction', params: [raw] })
      } else {
        const from = senders[senderIndex++ % senders.length]
        requests.push({ method: 'eth_sendTransaction', params: [await buildTx(kind, from, nextNonce(from), value, contract, () => authorityIndex++, opts.seed ?? 1, summary)] })
      }
      summary.byKind[kind]++
    }
    for (let i = 0; i < requests.length; i += 100) await client.batch(requests.slice(i, i + 100))
    await client.rpc('evm_mine')
    const mined = Number(await client.rpc<Hex>('eth_getBlockTransactionCountByNumber', ['latest']))
    const head = Number(await client.rpc<Hex>('eth_blockNumber'))
    if (mined !== count) throw new Error(`block ${head}: anvil mined ${mined} of ${count} transactions (dropped)`)
    summary.txs += count
    summary.blocks++
    summary.head = head
    opts.onBlock?.(head, count)
  }
  // The deployment (a type-2 creation) is part of the chain too.
  summary.txs += 1
  summary.blocks += 1
  const k = summary.byKind
  summary.byType = { 0: k.legacy + k.legacyPre155, 1: k.accessList + k.revert, 2: k.dynamic + k.create + k.failedCreate, 4: k.setCode }
  return summary
}

function pick<T extends object, K extends keyof T>(obj: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, obj[k]])) as Pick<T, K>
}

async function buildTx(
  kind: Exclude<TxKind, 'legacyPre155'>,
  from: Hex,
  nonce: bigint,
  value: bigint,
  contract: Hex,
  nextAuthority: () => number,
  seed: number,
  summary: ChainGenSummary,
): Promise<Record<string, unknown>> {
  const base = { from, nonce: toHex(nonce) }
  const dynamicFees = pick(FEES, 'maxFeePerGas', 'maxPriorityFeePerGas')
  switch (kind) {
    case 'legacy':
      return { ...base, type: '0x0', to: contract, data: word(value), gas: toHex(GAS.call), gasPrice: FEES.gasPrice }
    case 'accessList':
    case 'revert':
      // A zero argument makes the contract revert: a failed receipt (status 0) with no logs.
      return {
        ...base,
        type: '0x1',
        to: contract,
        data: word(kind === 'revert' ? 0n : value),
        gas: toHex(GAS.call),
        gasPrice: FEES.gasPrice,
        accessList: [{ address: contract, storageKeys: [word(value), word(value + 1n)] }],
      }
    case 'dynamic':
      return { ...base, type: '0x2', to: contract, data: word(value), gas: toHex(GAS.call), ...dynamicFees }
    case 'create':
      return { ...base, type: '0x2', data: LOGGER_INITCODE, gas: toHex(GAS.create), ...dynamicFees }
    case 'failedCreate':
      return { ...base, type: '0x2', data: FAILING_INITCODE, gas: toHex(GAS.failedCreate), ...dynamicFees }
    case 'setCode': {
      // A fresh authority delegates to the logger; the call then runs the logger's code at the authority's address.
      const auths = 1 + (value % 2n === 0n ? 1 : 0)
      const authorizationList = []
      let target: Hex = contract
      for (let a = 0; a < auths; a++) {
        const authority = privateKeyToAccount(keccak256(toHex(`chain-gen-authority-${seed}-${nextAuthority()}`)))
        const auth = await authority.signAuthorization({ address: contract, chainId: ANVIL_CHAIN_ID, nonce: 0 })
        authorizationList.push({ chainId: toHex(ANVIL_CHAIN_ID), address: contract, nonce: '0x0', yParity: toHex(auth.yParity ?? 0), r: auth.r, s: auth.s })
        target = authority.address
      }
      summary.authorizations += auths
      return { ...base, type: '0x4', to: target, data: word(value), gas: toHex(GAS.call + GAS.setCodePerAuth * BigInt(auths)), ...dynamicFees, authorizationList }
    }
  }
}

/** Empty blocks (e.g. to move the head) with the configured timestamp interval. */
export async function mineEmpty(node: Pick<Anvil, 'url'>, count: number): Promise<void> {
  await jsonRpcClient(node.url).rpc('anvil_mine', [toHex(count)])
}

/**
 * An Anvil node serving a generated chain, cached on disk by `key`: the first call generates and
 * dumps the state (`--dump-state`), later calls start from it (`--load-state`; hashes identical).
 * Useful for large benchmark chains (thousands of blocks take minutes to generate).
 */
export async function cachedChain(
  cacheFile: string,
  gen: ChainGenOptions,
  anvilOptions: AnvilOptions = {},
): Promise<{ anvil: Anvil; generated: ChainGenSummary | undefined }> {
  if (existsSync(cacheFile)) return { anvil: await startAnvil({ ...anvilOptions, loadState: cacheFile }), generated: undefined }
  const writer = await startAnvil({ ...anvilOptions, dumpState: cacheFile })
  let generated: ChainGenSummary
  try {
    generated = await generateChain(writer, gen)
  } finally {
    await writer.stop()
  }
  return { anvil: await startAnvil({ ...anvilOptions, loadState: cacheFile }), generated }
}

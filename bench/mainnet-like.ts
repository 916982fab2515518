/**
 * Mainnet-like blocks for the validation benchmark: 200 signed transactions of types 0/1/2 from 50
 * real keys, ~150 KB of body, ~500 logs (ERC-20 Transfer shaped), 16 withdrawals, and a Prague
 * header whose roots, bloom and gas used match. A seeded PRNG makes every run build the same blocks.
 */
import { createHash } from 'node:crypto'
import { type Bytes } from '../src/primitives/bytes.js'
import { BLOOM_BYTES, bloomOr, logsBloom, type Log } from '../src/primitives/receipt.js'
import { type EncodableInput, encode, encodeListOfEncoded } from '../src/primitives/rlp.js'
import type { Transaction } from '../src/primitives/transaction.js'
import { orderedTrieRoot } from '../src/primitives/trie.js'
import { keccak256 } from '../src/primitives/keccak.js'
import { intrinsicGas } from '../src/validator/transaction.js'
import { rulesAt } from '../src/chain/forks.js'
import { buildTx } from '../test/validator/transaction-builder.js'

export const BENCH_RULES = rulesAt(1n, 'prague')

export interface RawBenchBlock {
  header: Bytes
  /** rlp([txs, ommers, withdrawals]) */
  body: Bytes
  /** eth/68 form: consensus encodings with blooms. */
  receiptsEth68: Bytes
  /** eth/69 form: [type, status, cumulativeGas, logs], no blooms. */
  receiptsEth69: Bytes
  /** rlp([header, txs, ommers, withdrawals]) for the reference implementation. */
  block: Bytes
  txCount: number
  logCount: number
}

/** Deterministic xorshift PRNG. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x1_0000_0000
  }
}

const sha = (label: string): Bytes => new Uint8Array(createHash('sha256').update(label).digest())
const KEYS = Array.from({ length: 50 }, (_, i) => sha(`bench key ${i}`))
const TOKENS = Array.from({ length: 30 }, (_, i) => sha(`token ${i}`).subarray(0, 20))
const TRANSFER_TOPIC = keccak256(new TextEncoder().encode('Transfer(address,address,uint256)'))
const BASE_FEE = 12n * 10n ** 9n

/** Calldata shaped like ABI encoding: 4-byte selector, then 32-byte words with leading zeros. */
function calldata(rand: () => number, size: number): Bytes {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    const inWord = (i - 4) % 32
    out[i] = i < 4 || inWord >= 12 || rand() < 0.1 ? 1 + Math.floor(rand() * 255) : 0
  }
  return out
}

function calldataSize(rand: () => number): number {
  const r = rand()
  if (r < 0.62) return 68 // ERC-20 transfer
  if (r < 0.88) return 260 + Math.floor(rand() * 740)
  return 2_000 + Math.floor(rand() * 2_200)
}

function randomTx(rand: () => number, index: number): Transaction {
  const r = rand()
  const type = r < 0.3 ? 0 : r < 0.4 ? 1 : 2
  const data = calldata(rand, calldataSize(rand))
  const accessList: EncodableInput[] =
    type === 1 || (type === 2 && rand() < 0.15)
      ? [[TOKENS[Math.floor(rand() * TOKENS.length)], Array.from({ length: 1 + Math.floor(rand() * 3) }, () => sha(`slot ${rand()}`))]]
      : []
  const tip = BigInt(1 + Math.floor(rand() * 3)) * 10n ** 9n
  return buildTx(
    type,
    {
      nonce: BigInt(index),
      gasPrice: BASE_FEE + tip,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: 2n * BASE_FEE + tip,
      gasLimit: 60_000n + BigInt(data.length) * 40n + BigInt(Math.floor(rand() * 200_000)),
      to: TOKENS[Math.floor(rand() * TOKENS.length)],
      value: rand() < 0.3 ? BigInt(Math.floor(rand() * 1e9)) * 10n ** 9n : 0n,
      data,
      accessList,
    },
    undefined,
    KEYS[Math.floor(rand() * KEYS.length)],
  )
}

function randomLogs(rand: () => number, count: number): Log[] {
  return Array.from({ length: count }, () => ({
    address: TOKENS[Math.floor(rand() * TOKENS.length)],
    topics: [TRANSFER_TOPIC, sha(`from ${rand()}`), sha(`to ${rand()}`)],
    data: sha(`amount ${rand()}`),
  }))
}

export function mainnetLikeBlock(seed: number, txCount = 200, targetLogs = 500): RawBenchBlock {
  const rand = prng(seed * 7919 + 1)
  const txs = Array.from({ length: txCount }, (_, i) => randomTx(rand, i))
  /** Trie values: legacy rlp(receipt), typed type || rlp(receipt). */
  const receiptValues: Bytes[] = []
  const receipts68: Bytes[] = []
  const receipts69: Bytes[] = []
  const blockBloom = new Uint8Array(BLOOM_BYTES)
  let cumulative = 0n
  let logCount = 0
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]
    const n = Math.min(Math.floor(rand() * ((2 * targetLogs) / txCount + 1)), 12)
    const logs = randomLogs(rand, n)
    logCount += n
    const d = tx.decode()
    const min = intrinsicGas(d, BENCH_RULES).intrinsic
    cumulative += BigInt(min + Math.floor(rand() * (Number(d.gasLimit) - min)))
    const status = rand() < 0.97 ? 1 : 0
    const bloom = logsBloom(logs)
    bloomOr(blockBloom, bloom)
    const logsRlp = logs.map((l) => [l.address, l.topics, l.data])
    const consensus = encode([status, cumulative, bloom, logsRlp])
    const value = tx.type === 0 ? consensus : new Uint8Array([tx.type, ...consensus])
    receiptValues.push(value)
    receipts68.push(tx.type === 0 ? value : encode(value))
    receipts69.push(encode([tx.type, status, cumulative, logsRlp]))
  }
  const withdrawals = Array.from({ length: 16 }, (_, i) => encode([BigInt(seed * 16 + i), BigInt(1000 + i), TOKENS[i % TOKENS.length], 32_000_000_000n]))
  const ommers = encodeListOfEncoded([])
  const bodyParts = [encodeListOfEncoded(txs.map((t) => t.bodyItem())), ommers, encodeListOfEncoded(withdrawals)]
  const header = encode([
    sha(`parent ${seed}`),
    keccak256(ommers),
    TOKENS[0],
    sha(`state ${seed}`),
    orderedTrieRoot(txs.map((t) => t.envelope)),
    orderedTrieRoot(receiptValues),
    blockBloom,
    0n,
    BigInt(22_000_000 + seed),
    36_000_000n,
    cumulative,
    BigInt(1_750_000_000 + 12 * seed),
    new TextEncoder().encode('bench'),
    sha(`mix ${seed}`),
    new Uint8Array(8),
    BASE_FEE,
    orderedTrieRoot(withdrawals),
    0n,
    0n,
    sha(`beacon ${seed}`),
    sha(`requests ${seed}`),
  ])
  return {
    header,
    body: encodeListOfEncoded(bodyParts),
    receiptsEth68: encodeListOfEncoded(receipts68),
    receiptsEth69: encodeListOfEncoded(receipts69),
    block: encodeListOfEncoded([header, ...bodyParts]),
    txCount,
    logCount,
  }
}

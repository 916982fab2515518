/**
 * A stored block rendered as JSON-RPC renders it: `eth_getBlockByNumber(n, true)` (full transactions
 * with hash and sender) and `eth_getBlockReceipts` (with sender, contract address, gas used, effective
 * gas price, log indexes and blooms derived from the stored eth/69 receipts). Everything comes from
 * the stored bytes; what they cannot give is left out: totalDifficulty, and blobGasPrice (it depends
 * on the chain's blob schedule).
 */
import { StoreError } from '../errors.js'
import { BlockBody } from '../primitives/body.js'
import { type Bytes, bytesToBigInt, bytesToHex, toQuantity } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { keccak256 } from '../primitives/keccak.js'
import { decodeBlockReceipts } from '../primitives/receipt.js'
import { type RlpItem, bigIntOf, encode, encodedLength, fixedOf, listItems } from '../primitives/rlp.js'
import { type DecodedTransaction, type Transaction, TxType } from '../primitives/transaction.js'
import type { StoredBlock } from './types.js'

type Json = Record<string, unknown>

/** EIP-4844: blob gas per blob. */
const GAS_PER_BLOB = 131_072n

function accessListJson(payload: Bytes, item: RlpItem): Json[] {
  return listItems(payload, item).map((entry) => {
    const [address, keys] = listItems(payload, entry, 2)
    return {
      address: bytesToHex(fixedOf(payload, address, 20, 'access list address')),
      storageKeys: listItems(payload, keys).map((k) => bytesToHex(fixedOf(payload, k, 32, 'storage key'))),
    }
  })
}

function authorizationListJson(payload: Bytes, item: RlpItem): Json[] {
  return listItems(payload, item).map((auth) => {
    const [chainId, address, nonce, yParity, r, s] = listItems(payload, auth, 6)
    return {
      chainId: toQuantity(bigIntOf(payload, chainId, 'authorization chainId')),
      address: bytesToHex(fixedOf(payload, address, 20, 'authorization address')),
      nonce: toQuantity(bigIntOf(payload, nonce, 'authorization nonce', 8)),
      yParity: toQuantity(bigIntOf(payload, yParity, 'authorization yParity', 1)),
      r: toQuantity(bigIntOf(payload, r, 'authorization r')),
      s: toQuantity(bigIntOf(payload, s, 'authorization s')),
    }
  })
}

/** The price the sender paid per gas: gasPrice, or min(maxFee, baseFee + tip) for dynamic-fee types. */
function effectiveGasPrice(d: DecodedTransaction, baseFee: bigint | undefined): bigint {
  if (d.gasPrice !== undefined) return d.gasPrice
  const tip = d.maxPriorityFeePerGas ?? 0n
  const max = d.maxFeePerGas ?? 0n
  return baseFee === undefined ? max : max < baseFee + tip ? max : baseFee + tip
}

interface TxContext {
  tx: Transaction
  decoded: DecodedTransaction
  sender: Bytes | undefined
  index: number
}

function transactionJson(c: TxContext, header: BlockHeader, blockHash: string): Json {
  const { tx, decoded: d } = c
  const typed = tx.type !== TxType.Legacy
  const out: Json = {
    blockHash,
    blockNumber: toQuantity(header.number),
    blockTimestamp: toQuantity(header.timestamp),
    from: c.sender ? bytesToHex(c.sender) : null,
    gas: toQuantity(d.gasLimit),
    gasPrice: toQuantity(effectiveGasPrice(d, header.baseFeePerGas)),
  }
  if (d.maxFeePerGas !== undefined) {
    out.maxFeePerGas = toQuantity(d.maxFeePerGas)
    out.maxPriorityFeePerGas = toQuantity(d.maxPriorityFeePerGas ?? 0n)
  }
  if (d.maxFeePerBlobGas !== undefined) out.maxFeePerBlobGas = toQuantity(d.maxFeePerBlobGas)
  Object.assign(out, {
    hash: bytesToHex(tx.hash),
    input: bytesToHex(d.data),
    nonce: toQuantity(d.nonce),
    to: d.to ? bytesToHex(d.to) : null,
    transactionIndex: toQuantity(c.index),
    value: toQuantity(d.value),
    type: toQuantity(tx.type),
  })
  if (d.accessListItem) out.accessList = accessListJson(d.payload, d.accessListItem)
  if (d.chainId !== undefined) out.chainId = toQuantity(d.chainId)
  if (d.blobVersionedHashes) out.blobVersionedHashes = d.blobVersionedHashes.map(bytesToHex)
  if (d.authorizationListItem) out.authorizationList = authorizationListJson(d.payload, d.authorizationListItem)
  Object.assign(out, { v: toQuantity(d.v), r: toQuantity(bytesToBigInt(d.rBytes)), s: toQuantity(bytesToBigInt(d.sBytes)) })
  if (typed) out.yParity = toQuantity(d.v)
  return out
}

function contractAddress(sender: Bytes, nonce: bigint): string {
  return bytesToHex(keccak256(encode([sender, nonce])).subarray(12))
}

function receiptsJson(storedReceipts: Bytes, header: BlockHeader, txs: TxContext[], blockHash: string): Json[] {
  const receipts = decodeBlockReceipts(storedReceipts)
  let previousGas = 0n
  let logIndex = 0
  return receipts.map((r, i) => {
    const c = txs[i]
    const d = c?.decoded
    const txHash = c ? bytesToHex(c.tx.hash) : null
    const logs = r.logs().map((log) => ({
      address: bytesToHex(log.address),
      topics: log.topics.map(bytesToHex),
      data: bytesToHex(log.data),
      blockNumber: toQuantity(header.number),
      blockTimestamp: toQuantity(header.timestamp),
      transactionHash: txHash,
      transactionIndex: toQuantity(i),
      blockHash,
      logIndex: toQuantity(logIndex++),
      removed: false,
    }))
    const out: Json = {
      blockHash,
      blockNumber: toQuantity(header.number),
      blockTimestamp: toQuantity(header.timestamp),
      contractAddress: d && d.to === undefined && c.sender ? contractAddress(c.sender, d.nonce) : null,
      cumulativeGasUsed: toQuantity(r.cumulativeGasUsed),
      effectiveGasPrice: d ? toQuantity(effectiveGasPrice(d, header.baseFeePerGas)) : null,
      from: c?.sender ? bytesToHex(c.sender) : null,
      gasUsed: toQuantity(r.cumulativeGasUsed - previousGas),
      logs,
      logsBloom: bytesToHex(r.computeBloom()),
      ...(r.hasStatus ? { status: toQuantity(r.statusOrRoot.length === 0 ? 0 : r.statusOrRoot[0]) } : { root: bytesToHex(r.statusOrRoot) }),
      to: d?.to ? bytesToHex(d.to) : null,
      transactionHash: txHash,
      transactionIndex: toQuantity(i),
      type: toQuantity(r.type),
    }
    if (d?.blobVersionedHashes) out.blobGasUsed = toQuantity(GAS_PER_BLOB * BigInt(d.blobVersionedHashes.length))
    previousGas = r.cumulativeGasUsed
    return out
  })
}

export interface BlockJson {
  block: Json
  receipts?: Json[]
}

/**
 * A stored block as JSON-RPC prints it. A headers-only store has no body: the block then carries the
 * header fields only (no transactions, uncles, withdrawals or size), and receipts cannot be asked for.
 */
export function blockJson(stored: StoredBlock, options: { receipts?: boolean } = {}): BlockJson {
  const header = BlockHeader.decode(stored.header)
  const blockHash = bytesToHex(stored.hash)
  const q = toQuantity
  const block = headerJson(header, blockHash)
  if (!stored.body) {
    if (options.receipts) throw new StoreError('STORE_NO_RECEIPTS', `block ${header.number} has no receipts: the store holds headers only`)
    return { block }
  }
  const body = BlockBody.decode(stored.body)
  const txs: TxContext[] = body.transactions().map((tx, index) => ({ tx, decoded: tx.decode(), sender: tx.sender(), index }))
  block.size = q(encodedLength(header.raw.length + body.byteLength))
  block.transactions = txs.map((c) => transactionJson(c, header, blockHash))
  block.uncles = body.ommerHeadersRaw().map((raw) => bytesToHex(keccak256(raw)))
  if (header.withdrawalsRoot !== undefined) {
    block.withdrawals = body.withdrawals().map((w) => ({
      index: q(w.index),
      validatorIndex: q(w.validatorIndex),
      address: bytesToHex(w.address),
      amount: q(w.amount),
    }))
  }
  return options.receipts ? { block, receipts: receiptsJson(stored.receipts!, header, txs, blockHash) } : { block }
}

function headerJson(header: BlockHeader, blockHash: string): Json {
  const q = toQuantity
  const block: Json = {
    number: q(header.number),
    hash: blockHash,
    parentHash: bytesToHex(header.parentHash),
    mixHash: bytesToHex(header.mixHash),
    nonce: bytesToHex(header.nonce),
    sha3Uncles: bytesToHex(header.ommersHash),
    logsBloom: bytesToHex(header.logsBloom),
    transactionsRoot: bytesToHex(header.transactionsRoot),
    stateRoot: bytesToHex(header.stateRoot),
    receiptsRoot: bytesToHex(header.receiptsRoot),
    miner: bytesToHex(header.coinbase),
    difficulty: q(header.difficulty),
    extraData: bytesToHex(header.extraData),
    gasLimit: q(header.gasLimit),
    gasUsed: q(header.gasUsed),
    timestamp: q(header.timestamp),
  }
  if (header.baseFeePerGas !== undefined) block.baseFeePerGas = q(header.baseFeePerGas)
  if (header.withdrawalsRoot !== undefined) block.withdrawalsRoot = bytesToHex(header.withdrawalsRoot)
  if (header.blobGasUsed !== undefined) block.blobGasUsed = q(header.blobGasUsed)
  if (header.excessBlobGas !== undefined) block.excessBlobGas = q(header.excessBlobGas)
  if (header.parentBeaconBlockRoot !== undefined) block.parentBeaconBlockRoot = bytesToHex(header.parentBeaconBlockRoot)
  if (header.requestsHash !== undefined) block.requestsHash = bytesToHex(header.requestsHash)
  return block
}

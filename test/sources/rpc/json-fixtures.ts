/**
 * Turns other fixture formats into JSON-RPC shaped objects, so the JSON -> RLP rebuild can be checked
 * byte for byte against blocks and receipts whose raw RLP the fixtures ship:
 *  - ethereum/tests BlockchainTests blocks (blockHeader / transactions / uncleHeaders / withdrawals
 *    JSON next to the block's `rlp`);
 *  - consensus-encoded receipts (portal fixtures) rendered the way eth_getBlockReceipts prints them.
 */
import { bytesToHex, type Bytes } from '../../../src/primitives/bytes.js'
import type { Receipt } from '../../../src/primitives/receipt.js'

type Json = Record<string, unknown>

const HEADER_RENAMES: Record<string, string> = {
  uncleHash: 'sha3Uncles',
  coinbase: 'miner',
  transactionsTrie: 'transactionsRoot',
  receiptTrie: 'receiptsRoot',
  bloom: 'logsBloom',
}

/** A BlockchainTests / ethereumjs BlockData header as an eth_getBlockByNumber header object. */
export function headerToRpc(header: Json): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(header)) out[HEADER_RENAMES[k] ?? k] = v
  return out
}

/** A BlockchainTests transaction as JSON-RPC prints it (`gas`, `input`). */
export function txToRpc(tx: Json): Json {
  const { gasLimit, data, sender, to, ...rest } = tx
  return { ...rest, gas: gasLimit, input: data, from: sender, to: to === '' ? null : to }
}

/** A BlockchainTests block as the full-transaction block object of eth_getBlockByNumber. */
export function blockchainTestBlockToRpc(block: Json): { block: Json; uncles: Json[] } {
  const header = headerToRpc(block.blockHeader as Json)
  const uncles = ((block.uncleHeaders as Json[] | undefined) ?? []).map(headerToRpc)
  const rpc: Json = {
    ...header,
    transactions: ((block.transactions as Json[] | undefined) ?? []).map(txToRpc),
    uncles: uncles.map((u) => u.hash),
  }
  if (block.withdrawals !== undefined) rpc.withdrawals = block.withdrawals
  return { block: rpc, uncles }
}

/** A decoded consensus receipt as eth_getBlockReceipts prints it. */
export function receiptToRpc(r: Receipt, extra: Json = {}): Json {
  const out: Json = {
    type: '0x' + r.type.toString(16),
    cumulativeGasUsed: '0x' + r.cumulativeGasUsed.toString(16),
    logsBloom: bytesToHex(r.receivedBloom ?? r.computeBloom()),
    logs: r.logs().map((l) => ({ address: bytesToHex(l.address), topics: l.topics.map(bytesToHex), data: bytesToHex(l.data) })),
    ...extra,
  }
  if (r.hasStatus) out.status = r.statusOrRoot.length === 0 ? '0x0' : '0x1'
  else out.root = bytesToHex(r.statusOrRoot)
  return out
}

/** SSZ List[ByteList]: 4-byte little-endian offsets, then the items (Portal's legacy wrapping). */
export function sszByteLists(buf: Bytes): Bytes[] {
  if (buf.length === 0) return []
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const first = view.getUint32(0, true)
  const count = first / 4
  const offsets = Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true))
  return offsets.map((start, i) => buf.subarray(start, i + 1 < count ? offsets[i + 1] : buf.length))
}

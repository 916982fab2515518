/**
 * Root checks for data fetched from untrusted peers (test side; the validator component does the
 * same in production): headers must link by hash, bodies and receipts are matched to headers by the
 * roots they reproduce, never by position.
 */
import { bytesToHex, equalBytes, type Bytes } from '../../src/primitives/bytes.js'
import { BlockBody } from '../../src/primitives/body.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { bloomOr, BLOOM_BYTES, decodeBlockReceipts } from '../../src/primitives/receipt.js'
import { orderedTrieRoot } from '../../src/primitives/trie.js'

/** Decodes headers and checks they form one chain (each parentHash is the previous block's hash). */
export function linkedHeaders(raws: readonly Bytes[], parent?: BlockHeader): BlockHeader[] {
  const out: BlockHeader[] = []
  let prev = parent
  for (const raw of raws) {
    const h = BlockHeader.decode(raw)
    if (prev && (h.number !== prev.number + 1 || !equalBytes(h.parentHash, prev.hash))) {
      throw new Error(`header ${h.number} does not extend ${prev.number}`)
    }
    out.push(h)
    prev = h
  }
  return out
}

/** Key of the roots a body reproduces: transactions root, ommers hash, withdrawals root (if any). */
export function bodyRootsKey(raw: Bytes): string | undefined {
  try {
    const body = BlockBody.decode(raw)
    const withdrawals = body.withdrawalsRoot()
    return [body.transactionsRoot(), body.ommersHash(), withdrawals ?? new Uint8Array()].map(bytesToHex).join('/')
  } catch {
    return undefined
  }
}

export function headerBodyKey(h: BlockHeader): string {
  return [h.transactionsRoot, h.ommersHash, h.withdrawalsRoot ?? new Uint8Array()].map(bytesToHex).join('/')
}

/** Key of a receipt list: its receipts root (bloom derived from the logs for eth/69) and the block bloom. */
export function receiptsRootsKey(raw: Bytes): string | undefined {
  try {
    const receipts = decodeBlockReceipts(raw)
    const bloom = new Uint8Array(BLOOM_BYTES)
    const values = receipts.map((r) => {
      const b = r.computeBloom()
      bloomOr(bloom, b)
      return r.consensusEncoding(b)
    })
    return `${bytesToHex(orderedTrieRoot(values))}/${bytesToHex(bloom)}`
  } catch {
    return undefined
  }
}

export function headerReceiptsKey(h: BlockHeader): string {
  return `${bytesToHex(h.receiptsRoot)}/${bytesToHex(h.logsBloom)}`
}

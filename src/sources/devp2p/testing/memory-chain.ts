/**
 * A chain held in memory as raw RLP, for the eth server used by tests and benchmarks. Receipts are
 * stored in the form given (eth/68 or eth/69) and converted per peer version on first use.
 */
import { bytesToHex, type Bytes } from '../../../primitives/bytes.js'
import { BlockHeader } from '../../../primitives/header.js'
import { decodeBlockReceipts, encodeReceiptsEth68, encodeReceiptsEth69 } from '../../../primitives/receipt.js'
import { decodeItem, encodeListOfEncoded, listItems, rawOf, readItem } from '../../../primitives/rlp.js'
import type { EthVersion } from '../messages.js'

export interface StoredBlock {
  number: number
  hash: Bytes
  header: Bytes
  /** rlp([txs, ommers, withdrawals?]) */
  body: Bytes
  /** The block's receipt list, eth/68 or eth/69 form; undefined = not available. */
  receipts?: Bytes
}

export class MemoryChain {
  private readonly byHash = new Map<string, StoredBlock>()
  private readonly byNumber = new Map<number, StoredBlock>()
  private readonly receiptForms = new Map<string, { eth68: Bytes; eth69: Bytes }>()

  get size(): number {
    return this.byHash.size
  }

  add(header: Bytes, body: Bytes, receipts?: Bytes): StoredBlock {
    const h = BlockHeader.decode(header)
    const block: StoredBlock = { number: h.number, hash: h.hash, header, body, receipts }
    this.byHash.set(bytesToHex(block.hash), block)
    this.byNumber.set(block.number, block)
    return block
  }

  /** A full block rlp([header, txs, ommers, withdrawals?]) as in chain.rlp files. */
  addBlock(blockRlp: Bytes, receipts?: Bytes): StoredBlock {
    const parts = listItems(blockRlp, decodeItem(blockRlp), 4)
    const body = encodeListOfEncoded(parts.slice(1).map((p) => rawOf(blockRlp, p)))
    return this.add(rawOf(blockRlp, parts[0]), body, receipts)
  }

  /** Concatenated block RLPs (geth's `chain.rlp` export format). */
  addBlocksFile(data: Bytes): StoredBlock[] {
    const out: StoredBlock[] = []
    for (let pos = 0; pos < data.length; ) {
      const item = readItem(data, pos)
      out.push(this.addBlock(data.subarray(item.offset, item.end)))
      pos = item.end
    }
    return out
  }

  setReceipts(hash: Bytes, receipts: Bytes): void {
    const block = this.get(hash)
    if (!block) throw new RangeError(`unknown block ${bytesToHex(hash)}`)
    block.receipts = receipts
    this.receiptForms.delete(bytesToHex(hash))
  }

  get(hash: Bytes): StoredBlock | undefined {
    return this.byHash.get(bytesToHex(hash))
  }

  byNumberOf(n: number): StoredBlock | undefined {
    return this.byNumber.get(n)
  }

  head(): StoredBlock {
    let best: StoredBlock | undefined
    for (const b of this.byNumber.values()) if (!best || b.number > best.number) best = b
    if (!best) throw new RangeError('empty chain')
    return best
  }

  earliest(): StoredBlock {
    let first: StoredBlock | undefined
    for (const b of this.byNumber.values()) if (!first || b.number < first.number) first = b
    if (!first) throw new RangeError('empty chain')
    return first
  }

  /** The block's receipts in the form the peer's version uses. */
  receiptsFor(block: StoredBlock, version: EthVersion): Bytes | undefined {
    if (block.receipts === undefined) return undefined
    const key = bytesToHex(block.hash)
    let forms = this.receiptForms.get(key)
    if (!forms) {
      const decoded = decodeBlockReceipts(block.receipts)
      forms = { eth68: encodeReceiptsEth68(decoded), eth69: encodeReceiptsEth69(decoded) }
      this.receiptForms.set(key, forms)
    }
    return version >= 69 ? forms.eth69 : forms.eth68
  }
}

import { describe, expect, it } from 'vitest'
import { BlockBody } from '../../src/primitives/body.js'
import { bytesToHex, equalBytes, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { bloomOr, decodeBlockReceipts, encodeReceiptsEth68, encodeReceiptsEth69 } from '../../src/primitives/receipt.js'
import { orderedTrieRoot } from '../../src/primitives/trie.js'
import { PORTAL_BLOCKS, readPortalBlock } from '../fixtures.js'

describe('header, body and receipt views on real mainnet blocks', () => {
  for (const n of PORTAL_BLOCKS) {
    it(`block ${n}: every commitment reproduces from the received bytes`, () => {
      const data = readPortalBlock(n)
      const header = BlockHeader.decode(hexToBytes(data.header))
      const body = BlockBody.decode(hexToBytes(data.body))
      const receipts = decodeBlockReceipts(hexToBytes(data.receipts))
      expect(header.number).toBe(n)
      expect(equalBytes(body.transactionsRoot(), header.transactionsRoot)).toBe(true)
      expect(equalBytes(body.ommersHash(), header.ommersHash)).toBe(true)
      if (header.withdrawalsRoot) expect(equalBytes(body.withdrawalsRoot()!, header.withdrawalsRoot)).toBe(true)
      else expect(body.hasWithdrawals()).toBe(false)

      expect(receipts.length).toBe(body.transactions().length)
      const bloom = new Uint8Array(256)
      const values = receipts.map((r) => {
        const b = r.computeBloom()
        bloomOr(bloom, b)
        return r.consensusEncoding(b)
      })
      expect(bytesToHex(orderedTrieRoot(values))).toBe(bytesToHex(header.receiptsRoot))
      expect(bytesToHex(bloom)).toBe(bytesToHex(header.logsBloom))
      expect(receipts.at(-1)?.cumulativeGasUsed ?? 0n).toBe(header.gasUsed)
      for (const tx of body.transactions()) expect(tx.recoverSender()).toBeDefined()

      // eth/69 -> eth/68 -> eth/69 round trip keeps the same bytes and the same root.
      const eth68 = decodeBlockReceipts(encodeReceiptsEth68(receipts))
      expect(eth68.every((r) => r.encoding === 'eth68')).toBe(true)
      expect(bytesToHex(orderedTrieRoot(eth68.map((r) => r.consensusEncoding())))).toBe(bytesToHex(header.receiptsRoot))
      expect(bytesToHex(encodeReceiptsEth69(eth68))).toBe(data.receipts)
    })
  }
})

/**
 * Early mainnet blocks (Frontier, Homestead, Spurious Dragon) from nimbus-eth1's Portal fixtures:
 * raw header, body and consensus-encoded receipts (pre-Byzantium: post-state roots, not statuses).
 * The Portal wrapping is SSZ; it is unpacked here into the RLP forms the syncer receives.
 */
import { describe, expect, it } from 'vitest'
import { type Hardfork, rulesAt } from '../../src/chain/forks.js'
import { BlockBody } from '../../src/primitives/body.js'
import { type Bytes, bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { decodeBlockReceipts, encodeReceiptsEth69 } from '../../src/primitives/receipt.js'
import { encodeListOfEncoded } from '../../src/primitives/rlp.js'
import { validateBody } from '../../src/validator/body.js'
import { ReceiptErrorCode, validateRawReceipts, validateReceipts } from '../../src/validator/receipts.js'
import { readFixtureJson } from '../fixtures.js'

const u32 = (b: Bytes, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)

/** SSZ List[ByteList]: a table of 4-byte little-endian offsets, then the items. */
function sszByteLists(b: Bytes): Bytes[] {
  if (b.length === 0) return []
  const first = u32(b, 0)
  const offsets = Array.from({ length: first / 4 }, (_, i) => u32(b, i * 4))
  return offsets.map((start, i) => b.subarray(start, offsets[i + 1] ?? b.length))
}

/** Portal body container {transactions: List[ByteList], uncles: ByteList} -> rlp([txs, uncles]). */
function portalBodyToRlp(b: Bytes): Bytes {
  const txsAt = u32(b, 0)
  const unclesAt = u32(b, 4)
  const txs = sszByteLists(b.subarray(txsAt, unclesAt))
  return encodeListOfEncoded([encodeListOfEncoded(txs), b.subarray(unclesAt)])
}

function mainnetFork(n: number): Hardfork {
  if (n >= 2_675_000) return 'spuriousDragon'
  if (n >= 2_463_000) return 'tangerineWhistle'
  return n >= 1_150_000 ? 'homestead' : 'frontier'
}

type PortalFile = Record<string, { header: string; body: string; receipts: string }>

describe('pre-Byzantium mainnet blocks from Portal fixtures', () => {
  for (const file of ['mainnet_blocks_1-2.json', 'mainnet_blocks_1000001_1000010.json', 'mainnet_blocks_selected.json']) {
    const blocks = readFixtureJson<PortalFile>('nimbus-eth1', 'portal', 'tests', 'blocks', file)
    for (const [hash, data] of Object.entries(blocks)) {
      const header = BlockHeader.decode(hexToBytes(data.header))
      it(`${file} block ${header.number}: body and post-state receipts valid`, () => {
        expect(bytesToHex(header.hash)).toBe(hash)
        const rules = rulesAt(1n, mainnetFork(header.number))
        const body = BlockBody.decode(portalBodyToRlp(hexToBytes(data.body)))
        expect(validateBody(header, body, rules, { recoverSenders: true })).toEqual([])

        const receiptsRlp = encodeListOfEncoded(sszByteLists(hexToBytes(data.receipts)))
        const txCount = body.transactions().length
        const txTypes = body.transactions().map((t) => t.type)
        expect(validateRawReceipts(header, receiptsRlp, txCount, { rules, txTypes })).toEqual([])
        const receipts = decodeBlockReceipts(receiptsRlp)
        expect(receipts.every((r) => !r.hasStatus && r.encoding === 'eth68')).toBe(true)

        // The same receipts in eth/69 form (no bloom) reproduce the root with derived blooms.
        expect(validateRawReceipts(header, encodeReceiptsEth69(receipts), txCount, { rules, txTypes })).toEqual([])
        if (txCount > 0) {
          // Judged as Byzantium receipts, post-state roots are the wrong form.
          const byzantium = validateReceipts(header, receipts, txCount, { rules: rulesAt(1n, 'byzantium') })
          expect(byzantium.map((e) => e.code)).toContain(ReceiptErrorCode.StatusForm)
        }
      })
    }
  }
})

import { describe, expect, it } from 'vitest'
import { rulesAt, type Hardfork } from '../../src/chain/forks.js'
import { BlockBody } from '../../src/primitives/body.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { validateBody } from '../../src/validator/body.js'
import { validateRawReceipts } from '../../src/validator/receipts.js'
import { recoverSenders } from '../../src/validator/senders.js'
import { PORTAL_BLOCKS, readPortalBlock } from '../fixtures.js'

/** Mainnet fork of each portal block (the blocks sit on both sides of fork boundaries). */
const PORTAL_FORK: Record<number, Hardfork> = {
  14764013: 'arrowGlacier',
  15537393: 'grayGlacier',
  17034869: 'paris',
  17034870: 'shanghai',
  19426586: 'shanghai',
  19426587: 'cancun',
  22431083: 'cancun',
  22431084: 'prague',
}

describe('validateBody and validateReceipts on real mainnet blocks', () => {
  for (const n of PORTAL_BLOCKS) {
    it(`block ${n} (${PORTAL_FORK[n]}) is valid, senders recovered`, () => {
      const data = readPortalBlock(n)
      const rules = rulesAt(1n, PORTAL_FORK[n])
      const header = BlockHeader.decode(hexToBytes(data.header))
      const body = BlockBody.decode(hexToBytes(data.body))
      expect(validateBody(header, body, rules, { recoverSenders: true })).toEqual([])
      const txTypes = body.transactions().map((t) => t.type)
      expect(validateRawReceipts(header, hexToBytes(data.receipts), txTypes.length, { rules, txTypes })).toEqual([])
      const senders = recoverSenders(body)
      expect(senders.length).toBe(txTypes.length)
      expect(senders.every((s) => s.length === 20)).toBe(true)
      expect(new Set(senders.map(bytesToHex)).size).toBeGreaterThan(0)
    })
  }
})

import { describe, expect, it } from 'vitest'
import { rulesAt } from '../../src/chain/forks.js'
import { hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { BlockBody } from '../../src/primitives/body.js'
import { type Receipt, decodeBlockReceipts, encodeReceiptsEth68 } from '../../src/primitives/receipt.js'
import { decodeItem, listItems, encode, encodeListOfEncoded } from '../../src/primitives/rlp.js'
import { ReceiptErrorCode, validateRawReceipts, validateReceipts } from '../../src/validator/receipts.js'
import { readPortalBlock } from '../fixtures.js'
import { buildBlock } from './body-builder.js'

/** Cancun mainnet block 19426587: typed receipts with logs, eth/69 form in the fixture. */
function realBlock() {
  const data = readPortalBlock(19426587)
  const header = BlockHeader.decode(hexToBytes(data.header))
  const body = BlockBody.decode(hexToBytes(data.body))
  const receipts = decodeBlockReceipts(hexToBytes(data.receipts))
  return { header, body, receipts, txTypes: body.transactions().map((t) => t.type), rules: rulesAt(1n, 'cancun') }
}

const codes = (errs: { code: string }[]) => errs.map((e) => e.code)

/** eth/69 receipt list from explicit fields: [type, status, cumulativeGas, logs]. */
function eth69(receipts: Array<[number, number, bigint]>): Receipt[] {
  return decodeBlockReceipts(encode(receipts.map(([type, status, gas]) => [type, status, gas, []])))
}

describe('validateReceipts', () => {
  it('accepts the real receipts in both wire forms', () => {
    const { header, receipts, txTypes, rules } = realBlock()
    expect(receipts.length).toBeGreaterThan(30)
    expect(validateReceipts(header, receipts, txTypes.length, { rules, txTypes })).toEqual([])
    const eth68 = encodeReceiptsEth68(receipts)
    expect(validateRawReceipts(header, eth68, txTypes.length, { rules, txTypes })).toEqual([])
  })

  it('reports a missing receipt: count, root, bloom and gas used', () => {
    const { header, receipts, txTypes } = realBlock()
    const errs = codes(validateReceipts(header, receipts.slice(0, -1), txTypes.length))
    expect(errs).toContain(ReceiptErrorCode.CountMismatch)
    expect(errs).toContain(ReceiptErrorCode.RootMismatch)
    expect(errs).toContain(ReceiptErrorCode.GasUsedMismatch)
  })

  it('detects an eth/68 receipt whose bloom was tampered with', () => {
    const { header, receipts, txTypes } = realBlock()
    const raw = encodeReceiptsEth68(receipts)
    // Flip one bit inside the first receipt's bloom (typed receipt: string wrapping type || rlp(list)).
    const items = listItems(raw, decodeItem(raw))
    const first = items.find((it) => !it.list)!
    const envelope = raw.subarray(first.start, first.end)
    const list = envelope.subarray(1)
    const f = listItems(list, decodeItem(list))
    const tampered = raw.slice()
    tampered[first.start + 1 + f[2].start + 10] ^= 0x01
    const errs = codes(validateRawReceipts(header, tampered, txTypes.length))
    expect(errs).toEqual([ReceiptErrorCode.ReceiptBloomMismatch, ReceiptErrorCode.RootMismatch])
  })

  it('checks gasUsed, monotone cumulative gas, types and the status form', () => {
    const good = eth69([
      [2, 1, 21_000n],
      [0, 0, 42_000n],
    ])
    const byzantium = rulesAt(1n, 'cancun')
    const header = (gasUsed: bigint) => buildBlock([], { override: { gasUsed } }).header
    const onlyRule = (errs: { code: string }[]) =>
      codes(errs).filter((c) => c !== ReceiptErrorCode.RootMismatch && c !== ReceiptErrorCode.LogsBloomMismatch)
    expect(onlyRule(validateReceipts(header(42_000n), good, 2, { rules: byzantium, txTypes: [2, 0] }))).toEqual([])
    expect(onlyRule(validateReceipts(header(41_000n), good, 2))).toEqual([ReceiptErrorCode.GasUsedMismatch])
    expect(onlyRule(validateReceipts(header(42_000n), good, 2, { txTypes: [2, 2] }))).toEqual([ReceiptErrorCode.TypeMismatch])
    expect(onlyRule(validateReceipts(header(42_000n), good, 2, { rules: rulesAt(1n, 'spuriousDragon') }))).toEqual([
      ReceiptErrorCode.StatusForm,
      ReceiptErrorCode.StatusForm,
    ])
    const decreasing = eth69([
      [2, 1, 42_000n],
      [2, 1, 21_000n],
    ])
    expect(onlyRule(validateReceipts(header(21_000n), decreasing, 2))).toEqual([ReceiptErrorCode.CumulativeGasDecreasing])
  })

  it('reports the header logsBloom when it differs from the receipts', () => {
    const { header, receipts, txTypes } = realBlock()
    const logsBloom = header.logsBloom.slice()
    logsBloom[0] ^= 0x80
    const { receiptsRoot, gasUsed } = header
    const changed = buildBlock([], { override: { logsBloom, receiptsRoot, gasUsed } }).header
    expect(codes(validateReceipts(changed, receipts, txTypes.length))).toEqual([ReceiptErrorCode.LogsBloomMismatch])
  })

  it('reports malformed receipts and malformed logs instead of throwing', () => {
    const { header } = realBlock()
    expect(codes(validateRawReceipts(header, Uint8Array.of(0xc5, 1), 1))).toEqual([ReceiptErrorCode.Malformed])
    // A log whose address is 19 bytes: decodes lazily, reported per receipt.
    const badLog = encodeListOfEncoded([encode([2, 1, 21_000n, [[new Uint8Array(19), [], new Uint8Array(0)]]])])
    const errs = validateRawReceipts(header, badLog, 1)
    expect(errs[0].code).toBe(ReceiptErrorCode.Malformed)
    expect(errs[0].details?.receiptIndex).toBe(0)
  })
})

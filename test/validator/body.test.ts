import { describe, expect, it } from 'vitest'
import { rulesAt } from '../../src/chain/forks.js'
import { BlockBody } from '../../src/primitives/body.js'
import { bytesToBigInt, bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { encode, encodeListOfEncoded } from '../../src/primitives/rlp.js'
import { Transaction } from '../../src/primitives/transaction.js'
import { orderedTrieRoot } from '../../src/primitives/trie.js'
import { BodyErrorCode, MAX_RLP_BLOCK_SIZE, validateBody } from '../../src/validator/body.js'
import { validateRawReceipts } from '../../src/validator/receipts.js'
import { recoverSenders } from '../../src/validator/senders.js'
import { TxErrorCode } from '../../src/validator/transaction.js'
import { PORTAL_BLOCKS, readPortalBlock } from '../fixtures.js'
import { buildBlock } from './body-builder.js'
import { PORTAL_FORK } from './body-fixture-forks.js'
import { TEST_ADDRESS, buildTx } from './transaction-builder.js'

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

describe('validateBody: each rule on its own', () => {
  const prague = rulesAt(1n, 'prague')
  const codes = (errs: { code: string }[]) => errs.map((e) => e.code)
  const withdrawal = [1n, 2n, new Uint8Array(20).fill(9), 32n]

  it('accepts a consistent block with every transaction type', () => {
    const { header, body } = buildBlock([0, 1, 2, 3, 4].map((t) => buildTx(t, { nonce: BigInt(t) })), { withdrawals: [withdrawal] })
    expect(validateBody(header, body, prague, { recoverSenders: true })).toEqual([])
    expect(recoverSenders(body).map(bytesToHex)).toEqual(Array(5).fill(bytesToHex(TEST_ADDRESS)))
  })

  it('reports wrong transactions root, ommers hash and withdrawals root together', () => {
    const zero = new Uint8Array(32)
    const { header, body } = buildBlock([buildTx(2)], {
      withdrawals: [withdrawal],
      override: { transactionsRoot: zero, ommersHash: zero, withdrawalsRoot: zero },
    })
    expect(codes(validateBody(header, body, prague))).toEqual([
      BodyErrorCode.TransactionsRootMismatch,
      BodyErrorCode.OmmersHashMismatch,
      BodyErrorCode.WithdrawalsRootMismatch,
    ])
  })

  it('requires withdrawals from Shanghai and forbids them before', () => {
    const without = buildBlock([], { withdrawals: undefined })
    expect(codes(validateBody(without.header, without.body, prague))).toEqual([BodyErrorCode.WithdrawalsMissing])
    expect(validateBody(without.header, without.body, rulesAt(1n, 'paris'))).toEqual([])
    const withList = buildBlock([], { withdrawals: [] })
    expect(codes(validateBody(withList.header, withList.body, rulesAt(1n, 'paris')))).toEqual([BodyErrorCode.WithdrawalsUnexpected])
  })

  it('reports malformed withdrawals as BODY_MALFORMED', () => {
    const { header, body } = buildBlock([], { withdrawals: [[1n, 2n, new Uint8Array(19), 3n]] })
    expect(codes(validateBody(header, body, prague))).toEqual([BodyErrorCode.Malformed])
  })

  it('tags transaction errors with their index and keeps checking the rest', () => {
    const txs = [buildTx(2, { nonce: 0n }), buildTx(2, { nonce: 1n, gasLimit: 20_000n }), buildTx(2, { nonce: 2n, chainId: 5n })]
    const { header, body } = buildBlock(txs)
    const errors = validateBody(header, body, prague, { recoverSenders: true })
    expect(errors.map((e) => [e.code, e.details?.txIndex])).toEqual([
      [TxErrorCode.IntrinsicGasTooLow, 1],
      [TxErrorCode.InvalidChainId, 2],
    ])
    expect(errors[0].message).toMatch(/^tx 1: /)
  })

  it('turns an undecodable transaction into TX_MALFORMED, not a throw', () => {
    const good = buildTx(2)
    const broken = new Transaction(2, good.envelope.subarray(0, good.envelope.length - 2))
    const { header } = buildBlock([], { override: { transactionsRoot: orderedTrieRoot([good.envelope, broken.envelope]) } })
    const body = BlockBody.decode(encodeListOfEncoded([encodeListOfEncoded([good.bodyItem(), broken.bodyItem()]), encode([]), encode([])]))
    const errors = validateBody(header, body, prague, { recoverSenders: true })
    expect(errors.map((e) => [e.code, e.details?.txIndex])).toEqual([[TxErrorCode.Malformed, 1]])
  })

  it('reports a transactions list that does not decode as BODY_MALFORMED', () => {
    const { header } = buildBlock([])
    // 0x85 is neither a transaction type nor a list prefix.
    const body = BlockBody.decode(encodeListOfEncoded([encode([Uint8Array.of(0x85, 1)]), encode([]), encode([])]))
    expect(codes(validateBody(header, body, prague))).toEqual([BodyErrorCode.Malformed])
  })

  it('checks the blob gas of the block against the header and the per-block limit', () => {
    const blob = (n: number) => Array.from({ length: n }, () => Uint8Array.of(1, ...new Uint8Array(31)))
    const txs = [buildTx(3, { nonce: 0n, blobVersionedHashes: blob(6) }), buildTx(3, { nonce: 1n, blobVersionedHashes: blob(4) })]
    const { header, body } = buildBlock(txs)
    expect(codes(validateBody(header, body, prague))).toEqual([BodyErrorCode.BlobGasAboveLimit])
    const fits = buildBlock(txs.slice(0, 1), { override: { blobGasUsed: 131_072n * 5n } })
    expect(codes(validateBody(fits.header, fits.body, prague))).toEqual([BodyErrorCode.BlobGasUsedMismatch])
  })

  it('rejects a sender that does not recover only when asked to recover senders', () => {
    const d = buildTx(2).decode()
    const { header, body } = buildBlock([buildTx(2, {}, { v: 0n, r: 5n, s: bytesToBigInt(d.sBytes) })])
    expect(validateBody(header, body, prague)).toEqual([])
    expect(codes(validateBody(header, body, prague, { recoverSenders: true }))).toEqual([TxErrorCode.SenderUnrecoverable])
    expect(() => recoverSenders(body)).toThrow(/does not recover/)
  })

  it('limits the RLP block size from Osaka (EIP-7934)', () => {
    const data = new Uint8Array(MAX_RLP_BLOCK_SIZE)
    const { header, body } = buildBlock([buildTx(2, { data, gasLimit: 2n ** 24n })])
    expect(codes(validateBody(header, body, rulesAt(1n, 'osaka')))).toContain(BodyErrorCode.BlockTooLarge)
    expect(codes(validateBody(header, body, prague))).not.toContain(BodyErrorCode.BlockTooLarge)
  })
})

import { describe, expect, it } from 'vitest'
import { rulesAt } from '../../src/chain/forks.js'
import { bytesToBigInt, bytesToHex } from '../../src/primitives/bytes.js'
import { Transaction } from '../../src/primitives/transaction.js'
import {
  SECP256K1_N,
  Gas,
  MAX_INITCODE_SIZE,
  TxErrorCode,
  blobBaseFee,
  blobLimits,
  fakeExponential,
  intrinsicGas,
  recoverTransactionSender,
  validateTransaction,
  type TxBlockContext,
} from '../../src/validator/transaction.js'
import { TEST_ADDRESS, buildTx, highS } from './transaction-builder.js'

const prague = rulesAt(1n, 'prague')
const codes = (errs: { code: string }[]) => errs.map((e) => e.code)
const block: TxBlockContext = { gasLimit: 30_000_000n, baseFeePerGas: 10n ** 9n, blobBaseFee: 1n }

describe('validateTransaction: each rule on its own', () => {
  it('accepts a well-formed transaction of every type and recovers the sender', () => {
    for (const type of [0, 1, 2, 3, 4]) {
      const tx = buildTx(type)
      expect(validateTransaction(tx, prague, block), `type ${type}`).toEqual([])
      expect(bytesToHex(recoverTransactionSender(tx) as Uint8Array)).toBe(bytesToHex(TEST_ADDRESS))
    }
  })

  it('refuses types before their fork', () => {
    expect(codes(validateTransaction(buildTx(1), rulesAt(1n, 'istanbul')))).toEqual([TxErrorCode.TypeNotSupported])
    expect(codes(validateTransaction(buildTx(2), rulesAt(1n, 'berlin')))).toEqual([TxErrorCode.TypeNotSupported])
    expect(codes(validateTransaction(buildTx(3), rulesAt(1n, 'shanghai')))).toEqual([TxErrorCode.TypeNotSupported])
    expect(codes(validateTransaction(buildTx(4), rulesAt(1n, 'cancun')))).toEqual([TxErrorCode.TypeNotSupported])
    expect(validateTransaction(buildTx(4), prague)).toEqual([])
  })

  it('checks the chain id of typed and EIP-155 transactions, and EIP-155 only from Spurious Dragon', () => {
    expect(codes(validateTransaction(buildTx(2, { chainId: 5n }), prague))).toEqual([TxErrorCode.InvalidChainId])
    expect(codes(validateTransaction(buildTx(0, { chainId: 5n }), prague))).toEqual([TxErrorCode.InvalidChainId])
    expect(validateTransaction(buildTx(0, { eip155: false }), prague)).toEqual([])
    expect(codes(validateTransaction(buildTx(0), rulesAt(1n, 'tangerineWhistle')))).toEqual([TxErrorCode.InvalidV])
    expect(validateTransaction(buildTx(0), rulesAt(1n, 'spuriousDragon'))).toEqual([])
  })

  it('bounds r and s, and forbids high s from Homestead', () => {
    const tx = buildTx(0, { eip155: false })
    const high = buildTx(0, { eip155: false }, highS(tx))
    expect(codes(validateTransaction(high, prague))).toEqual([TxErrorCode.SignatureHighS])
    expect(validateTransaction(high, rulesAt(1n, 'frontier'))).toEqual([])
    const d = tx.decode()
    expect(codes(validateTransaction(buildTx(0, { eip155: false }, { v: d.v, r: 0n, s: bytesToBigInt(d.sBytes) }), prague))).toEqual([TxErrorCode.SignatureOutOfRange])
    expect(codes(validateTransaction(buildTx(2, {}, { v: 2n, r: bytesToBigInt(d.rBytes), s: bytesToBigInt(d.sBytes) }), prague))).toEqual([TxErrorCode.InvalidV])
    expect(codes(validateTransaction(buildTx(0, { eip155: false }, { v: 29n, r: bytesToBigInt(d.rBytes), s: bytesToBigInt(d.sBytes) }), prague))).toEqual([TxErrorCode.InvalidV])
  })

  it('puts the r and s bounds exactly at n and n/2 (compared as bytes)', () => {
    const d = buildTx(2).decode()
    const r = bytesToBigInt(d.rBytes)
    const half = SECP256K1_N >> 1n
    const withRs = (rv: bigint, sv: bigint) => codes(validateTransaction(buildTx(2, {}, { v: 0n, r: rv, s: sv }), prague))
    expect(withRs(SECP256K1_N - 1n, half)).toEqual([])
    expect(withRs(1n, 1n)).toEqual([])
    expect(withRs(SECP256K1_N, half)).toEqual([TxErrorCode.SignatureOutOfRange])
    expect(withRs(2n ** 256n - 1n, half)).toEqual([TxErrorCode.SignatureOutOfRange])
    expect(withRs(r, SECP256K1_N)).toEqual([TxErrorCode.SignatureOutOfRange])
    expect(withRs(r, 0n)).toEqual([TxErrorCode.SignatureOutOfRange])
    expect(withRs(r, half + 1n)).toEqual([TxErrorCode.SignatureHighS])
    expect(withRs(r, 2n ** 255n)).toEqual([TxErrorCode.SignatureHighS]) // same length as n/2, larger first byte
  })

  it('reports a signature that recovers no key', () => {
    // r = 5 is not the x coordinate of any curve point, so no public key recovers.
    const d = buildTx(2).decode()
    const bad = buildTx(2, {}, { v: 0n, r: 5n, s: bytesToBigInt(d.sBytes) })
    expect(validateTransaction(bad, prague)).toEqual([])
    expect((recoverTransactionSender(bad) as { code: string }).code).toBe(TxErrorCode.SenderUnrecoverable)
  })

  it('computes intrinsic gas per fork: creation, calldata, access list, initcode, authorizations, floor', () => {
    const data = Uint8Array.from([0, 0, 1, 2, 3])
    const call = buildTx(0, { data }).decode()
    expect(intrinsicGas(call, rulesAt(1n, 'frontier')).intrinsic).toBe(21_000 + 2 * 4 + 3 * 68)
    expect(intrinsicGas(call, rulesAt(1n, 'istanbul')).intrinsic).toBe(21_000 + 2 * 4 + 3 * 16)
    const create = buildTx(0, { data, to: undefined }).decode()
    expect(intrinsicGas(create, rulesAt(1n, 'frontier')).intrinsic).toBe(21_000 + 8 + 204)
    expect(intrinsicGas(create, rulesAt(1n, 'homestead')).intrinsic).toBe(53_000 + 8 + 204)
    expect(intrinsicGas(create, rulesAt(1n, 'shanghai')).intrinsic).toBe(53_000 + 8 + 48 + 2)
    const key = new Uint8Array(32)
    const withList = buildTx(1, { accessList: [[new Uint8Array(20), [key, key]]] }).decode()
    expect(intrinsicGas(withList, prague).intrinsic).toBe(21_000 + 2_400 + 2 * 1_900)
    expect(intrinsicGas(buildTx(4).decode(), prague).intrinsic).toBe(21_000 + Gas.authorization)
    expect(intrinsicGas(call, prague).floor).toBe(21_000 + 10 * (2 + 4 * 3))
    expect(intrinsicGas(call, rulesAt(1n, 'cancun')).floor).toBe(0)
  })

  it('rejects a gas limit below intrinsic gas or the EIP-7623 floor', () => {
    expect(codes(validateTransaction(buildTx(2, { gasLimit: 20_999n }), prague))).toEqual([TxErrorCode.IntrinsicGasTooLow])
    // 1000 non-zero bytes: standard cost 21000 + 16000 = 37000, floor 21000 + 40000 = 61000.
    const data = new Uint8Array(1000).fill(1)
    expect(validateTransaction(buildTx(2, { data, gasLimit: 40_000n }), rulesAt(1n, 'cancun'))).toEqual([])
    expect(codes(validateTransaction(buildTx(2, { data, gasLimit: 40_000n }), prague))).toEqual([TxErrorCode.IntrinsicGasTooLow])
    expect(validateTransaction(buildTx(2, { data, gasLimit: 61_000n }), prague)).toEqual([])
  })

  it('limits initcode size from Shanghai', () => {
    const data = new Uint8Array(MAX_INITCODE_SIZE + 1)
    const tx = buildTx(2, { data, to: undefined, gasLimit: 10_000_000n })
    expect(codes(validateTransaction(tx, rulesAt(1n, 'shanghai')))).toEqual([TxErrorCode.InitcodeTooLarge])
    expect(validateTransaction(tx, rulesAt(1n, 'paris'))).toEqual([])
  })

  it('checks fee caps, nonce and gas price product', () => {
    expect(codes(validateTransaction(buildTx(2, { maxPriorityFeePerGas: 3n, maxFeePerGas: 2n }), prague))).toEqual([TxErrorCode.PriorityFeeAboveMaxFee])
    expect(codes(validateTransaction(buildTx(0, { nonce: 2n ** 64n - 1n }), prague))).toEqual([TxErrorCode.NonceTooBig])
    expect(validateTransaction(buildTx(0, { nonce: 2n ** 64n - 2n }), prague)).toEqual([])
    expect(codes(validateTransaction(buildTx(0, { gasPrice: 2n ** 255n }), prague))).toEqual([TxErrorCode.GasPriceProductOverflow])
  })

  it('checks the transaction against its block: gas limit, base fee, blob base fee', () => {
    expect(codes(validateTransaction(buildTx(2, { gasLimit: 30_000_001n }), prague, block))).toEqual([TxErrorCode.GasLimitAboveBlock])
    expect(codes(validateTransaction(buildTx(2, { maxFeePerGas: 10n ** 9n - 1n, maxPriorityFeePerGas: 0n }), prague, block))).toEqual([
      TxErrorCode.FeeBelowBaseFee,
    ])
    expect(codes(validateTransaction(buildTx(0, { gasPrice: 10n ** 9n - 1n }), prague, block))).toEqual([TxErrorCode.FeeBelowBaseFee])
    expect(codes(validateTransaction(buildTx(3, { maxFeePerBlobGas: 1n }), prague, { ...block, blobBaseFee: 2n }))).toEqual([
      TxErrorCode.BlobFeeBelowBlobBaseFee,
    ])
  })

  it('checks blob transactions: at least one blob, version byte 0x01, per-tx cap from Osaka', () => {
    expect(codes(validateTransaction(buildTx(3, { blobVersionedHashes: [] }), prague))).toEqual([TxErrorCode.NoBlobs])
    const v2 = Uint8Array.of(2, ...new Uint8Array(31))
    expect(codes(validateTransaction(buildTx(3, { blobVersionedHashes: [v2] }), prague))).toEqual([TxErrorCode.BlobVersionedHashVersion])
    const seven = Array.from({ length: 7 }, () => Uint8Array.of(1, ...new Uint8Array(31)))
    expect(validateTransaction(buildTx(3, { blobVersionedHashes: seven }), prague)).toEqual([])
    expect(codes(validateTransaction(buildTx(3, { blobVersionedHashes: seven }), rulesAt(1n, 'osaka')))).toEqual([TxErrorCode.TooManyBlobs])
    const ten = Array.from({ length: 10 }, () => Uint8Array.of(1, ...new Uint8Array(31)))
    expect(codes(validateTransaction(buildTx(3, { blobVersionedHashes: ten }), prague))).toEqual([TxErrorCode.TooManyBlobs])
  })

  it('requires a non-empty authorization list (EIP-7702) and caps tx gas in Osaka (EIP-7825)', () => {
    expect(codes(validateTransaction(buildTx(4, { authorizationList: [] }), prague))).toEqual([TxErrorCode.EmptyAuthorizationList])
    expect(codes(validateTransaction(buildTx(2, { gasLimit: 2n ** 24n + 1n }), rulesAt(1n, 'osaka')))).toEqual([TxErrorCode.GasLimitAboveCap])
    expect(validateTransaction(buildTx(2, { gasLimit: 2n ** 24n }), rulesAt(1n, 'osaka'))).toEqual([])
  })

  it('turns malformed bytes into TX_MALFORMED instead of throwing', () => {
    const tx = buildTx(2)
    const broken = tx.envelope.slice(0, tx.envelope.length - 1)
    const [err] = validateTransaction(new Transaction(2, broken), prague)
    expect(err.code).toBe(TxErrorCode.Malformed)
  })

  it('derives the blob base fee with the EIP-4844 fake exponential', () => {
    expect(fakeExponential(1n, 0n, 3_338_477n)).toBe(1n)
    // e^(1e7 / 3338477) = 19.99 and e^(1e7 / 5007716) = 7.37; the integer series rounds down.
    expect(blobBaseFee(10_000_000n, blobLimits(rulesAt(1n, 'cancun')))).toBe(19n)
    expect(blobBaseFee(10_000_000n, blobLimits(prague))).toBe(7n)
  })

  it("follows the chain's blob schedule when the rules carry one", () => {
    // BSC keeps Cancun's 6 blobs in its Prague-equivalent fork.
    const bsc = Object.assign(rulesAt(56n, 'prague'), { blob: { target: 3, max: 6, baseFeeUpdateFraction: 3_338_477n } })
    expect(blobLimits(bsc)).toMatchObject({ maxBlobsPerBlock: 6, baseFeeUpdateFraction: 3_338_477n })
    expect(blobLimits(prague)).toMatchObject({ maxBlobsPerBlock: 9, baseFeeUpdateFraction: 5_007_716n })
    const seven = Array.from({ length: 7 }, () => Uint8Array.of(1, ...new Uint8Array(31)))
    expect(codes(validateTransaction(buildTx(3, { chainId: 56n, blobVersionedHashes: seven }), bsc))).toEqual([TxErrorCode.TooManyBlobs])
  })
})

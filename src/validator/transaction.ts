/**
 * State-free transaction validity: every rule that can be checked from the transaction bytes, the
 * fork rules and (optionally) the enclosing block header, with no account state. Each rule is a
 * named check returning a ValidationError with a stable code; a transaction collects all of them.
 *
 * The split follows what callers know: `validateTransaction(tx, rules)` checks the transaction on
 * its own (TransactionTests), `block` adds the header-dependent limits (gas limit, base fee, blob
 * base fee) that body validation needs.
 */
import { DecodeError, ValidationError } from '../errors.js'
import { GAS_PER_BLOB, type ForkRules } from '../chain/forks.js'
import type { BlockHeader } from '../primitives/header.js'
import { bigIntToBytes, compareUint, zeroByteCount } from '../primitives/bytes.js'
import { type DecodedTransaction, type Transaction, TxType } from '../primitives/transaction.js'

export const TxErrorCode = {
  /** The transaction bytes do not decode (bad RLP, wrong field sizes or counts, unknown type). */
  Malformed: 'TX_MALFORMED',
  TypeNotSupported: 'TX_TYPE_NOT_SUPPORTED',
  /** r or s outside (0, n). */
  SignatureOutOfRange: 'TX_SIGNATURE_OUT_OF_RANGE',
  /** s > n/2 after Homestead (EIP-2). */
  SignatureHighS: 'TX_SIGNATURE_HIGH_S',
  /** v is not 27/28 (or 35/36 + 2*chainId after EIP-155), yParity not 0/1. */
  InvalidV: 'TX_INVALID_V',
  InvalidChainId: 'TX_INVALID_CHAIN_ID',
  /** The signature is well-formed but recovers no public key. */
  SenderUnrecoverable: 'TX_SENDER_UNRECOVERABLE',
  NonceTooBig: 'TX_NONCE_TOO_BIG',
  IntrinsicGasTooLow: 'TX_INTRINSIC_GAS_TOO_LOW',
  /** gasLimit * price does not fit 256 bits: nobody could pay for it. */
  GasPriceProductOverflow: 'TX_GAS_PRICE_PRODUCT_OVERFLOW',
  InitcodeTooLarge: 'TX_INITCODE_TOO_LARGE',
  GasLimitAboveCap: 'TX_GAS_LIMIT_ABOVE_CAP',
  GasLimitAboveBlock: 'TX_GAS_LIMIT_ABOVE_BLOCK',
  PriorityFeeAboveMaxFee: 'TX_PRIORITY_FEE_ABOVE_MAX_FEE',
  FeeBelowBaseFee: 'TX_FEE_BELOW_BASE_FEE',
  BlobFeeBelowBlobBaseFee: 'TX_BLOB_FEE_BELOW_BLOB_BASE_FEE',
  NoBlobs: 'TX_NO_BLOBS',
  TooManyBlobs: 'TX_TOO_MANY_BLOBS',
  BlobVersionedHashVersion: 'TX_BLOB_HASH_VERSION',
  EmptyAuthorizationList: 'TX_EMPTY_AUTHORIZATION_LIST',
} as const
export type TxErrorCodeValue = (typeof TxErrorCode)[keyof typeof TxErrorCode]

/** secp256k1 group order. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
// r and s are compared as bytes: converting both to bigints cost ~4 % of a JSON-RPC sync's validation.
const SECP256K1_N_BYTES = bigIntToBytes(SECP256K1_N)
const SECP256K1_HALF_N_BYTES = bigIntToBytes(SECP256K1_N >> 1n)
const UINT256_MAX = (1n << 256n) - 1n
/** EIP-2681: nonces stop at 2^64 - 1. */
const MAX_NONCE = (1n << 64n) - 1n

export const Gas = {
  tx: 21_000,
  txCreate: 53_000,
  dataZero: 4,
  dataNonZeroFrontier: 68,
  /** EIP-2028 (Istanbul). */
  dataNonZero: 16,
  /** EIP-2930. */
  accessListAddress: 2_400,
  accessListStorageKey: 1_900,
  /** EIP-3860: per 32-byte word of initcode. */
  initcodeWord: 2,
  /** EIP-7702: PER_EMPTY_ACCOUNT_COST per authorization. */
  authorization: 25_000,
  /** EIP-7623: floor cost per calldata token (zero byte = 1 token, non-zero = 4). */
  floorPerToken: 10,
  /** EIP-7825 (Osaka): per-transaction gas limit cap. */
  txGasCap: 2 ** 24,
} as const

/** EIP-3860: 2 * MAX_CODE_SIZE. */
export const MAX_INITCODE_SIZE = 49_152

/** Blob limits and pricing for one block (EIP-4844, EIP-7691 Prague, EIP-7594 Osaka). */
export interface BlobLimits {
  gasPerBlob: bigint
  maxBlobsPerBlock: number
  /** Per-transaction cap; undefined = only the block cap applies. */
  maxBlobsPerTx: number | undefined
  baseFeeUpdateFraction: bigint
  minBlobBaseFee: bigint
}

export const BLOB_HASH_VERSION_KZG = 0x01
/** EIP-7594 (Osaka): blobs per transaction. */
const MAX_BLOBS_PER_TX_OSAKA = 6

/**
 * Blob limits in force: the chain's blob schedule when the rules carry one (BPO forks, BSC, custom
 * genesis `blobSchedule`), else mainnet's Cancun (6 blobs) or Prague (9 blobs) values.
 */
export function blobLimits(rules: ForkRules): BlobLimits {
  const scheduled = rules.blob
  const prague = rules.isActive('prague')
  return {
    gasPerBlob: GAS_PER_BLOB,
    maxBlobsPerBlock: scheduled?.max ?? (prague ? 9 : 6),
    maxBlobsPerTx: rules.isActive('osaka') ? MAX_BLOBS_PER_TX_OSAKA : undefined,
    baseFeeUpdateFraction: scheduled?.baseFeeUpdateFraction ?? (prague ? 5_007_716n : 3_338_477n),
    minBlobBaseFee: 1n,
  }
}

/** EIP-4844 `fake_exponential`: factor * e^(numerator / denominator), integer Taylor series. */
export function fakeExponential(factor: bigint, numerator: bigint, denominator: bigint): bigint {
  let i = 1n
  let output = 0n
  let accum = factor * denominator
  while (accum > 0n) {
    output += accum
    accum = (accum * numerator) / (denominator * i)
    i++
  }
  return output / denominator
}

export function blobBaseFee(excessBlobGas: bigint, params: BlobLimits): bigint {
  return fakeExponential(params.minBlobBaseFee, excessBlobGas, params.baseFeeUpdateFraction)
}

/** The header fields that bound a transaction inside its block. */
export interface TxBlockContext {
  gasLimit: bigint
  /** London and later. */
  baseFeePerGas: bigint | undefined
  /** Cancun and later: derived from the header's excessBlobGas. */
  blobBaseFee: bigint | undefined
}

export function txBlockContext(header: BlockHeader, rules: ForkRules): TxBlockContext {
  return {
    gasLimit: header.gasLimit,
    baseFeePerGas: header.baseFeePerGas,
    blobBaseFee:
      rules.isActive('cancun') && header.excessBlobGas !== undefined ? blobBaseFee(header.excessBlobGas, blobLimits(rules)) : undefined,
  }
}

const MIN_FORK_OF_TYPE: Record<number, Parameters<ForkRules['isActive']>[0]> = {
  [TxType.AccessList]: 'berlin',
  [TxType.DynamicFee]: 'london',
  [TxType.Blob]: 'cancun',
  [TxType.SetCode]: 'prague',
}

export function isTxTypeActive(type: number, rules: ForkRules): boolean {
  if (type === TxType.Legacy) return true
  const fork = MIN_FORK_OF_TYPE[type]
  return fork !== undefined && rules.isActive(fork)
}


/**
 * Gas amounts as numbers: exact, since every count behind them is bounded by the transaction's bytes
 * (a gigabyte of non-zero calldata costs 6.8e10 gas, far below 2^53), and cheaper per transaction
 * than bigint arithmetic.
 */
export interface IntrinsicGas {
  /** Gas charged before execution starts. */
  intrinsic: number
  /** EIP-7623 minimum gas used (Prague); 0 before. */
  floor: number
}

/** Intrinsic gas and (Prague) calldata floor of a decoded transaction under `rules`. */
export function intrinsicGas(tx: DecodedTransaction, rules: ForkRules): IntrinsicGas {
  const create = tx.to === undefined
  const zero = zeroByteCount(tx.data)
  const nonZero = tx.data.length - zero
  const nonZeroCost = rules.isActive('istanbul') ? Gas.dataNonZero : Gas.dataNonZeroFrontier
  let gas: number = create && rules.isActive('homestead') ? Gas.txCreate : Gas.tx
  gas += zero * Gas.dataZero + nonZero * nonZeroCost
  gas += tx.accessList.addresses * Gas.accessListAddress + tx.accessList.storageKeys * Gas.accessListStorageKey
  if (create && rules.isActive('shanghai')) gas += Gas.initcodeWord * Math.ceil(tx.data.length / 32)
  gas += tx.authorizationCount * Gas.authorization
  const floor = rules.isActive('prague') ? Gas.tx + Gas.floorPerToken * (zero + 4 * nonZero) : 0
  return { intrinsic: gas, floor }
}

function fail(code: TxErrorCodeValue, message: string, details: Record<string, unknown> = {}, cause?: unknown): ValidationError {
  return new ValidationError(code, message, { details, cause })
}

/** Tags an error with the index of the transaction it is about. */
export function atTransaction(index: number, err: ValidationError): ValidationError {
  return new ValidationError(err.code, `tx ${index}: ${err.message}`, { details: { ...err.details, txIndex: index }, cause: err.cause })
}

/** Decodes the transaction; a DecodeError becomes a TX_MALFORMED ValidationError. */
export function decodeOrError(tx: Transaction): DecodedTransaction | ValidationError {
  try {
    return tx.decode()
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    return fail(TxErrorCode.Malformed, `malformed transaction: ${err.message}`, { decodeCode: err.code }, err)
  }
}

function typeNotSupported(type: number, rules: ForkRules): ValidationError {
  return fail(TxErrorCode.TypeNotSupported, `transaction type ${type} is not allowed at ${rules.fork}`, { type, fork: rules.fork })
}

function checkSignature(tx: DecodedTransaction, rules: ForkRules, out: ValidationError[]): void {
  const { rBytes: r, sBytes: s } = tx
  if (r.length === 0 || compareUint(r, SECP256K1_N_BYTES) >= 0 || s.length === 0 || compareUint(s, SECP256K1_N_BYTES) >= 0) {
    out.push(fail(TxErrorCode.SignatureOutOfRange, 'signature r or s is outside (0, n)'))
  } else if (compareUint(s, SECP256K1_HALF_N_BYTES) > 0 && rules.isActive('homestead')) {
    out.push(fail(TxErrorCode.SignatureHighS, 'signature s is above n/2 (EIP-2)'))
  }
  if (tx.type !== TxType.Legacy) {
    if (tx.v > 1n) out.push(fail(TxErrorCode.InvalidV, `yParity must be 0 or 1, got ${tx.v}`, { v: tx.v.toString() }))
    if (tx.chainId !== rules.chainId) out.push(chainIdError(tx.chainId, rules))
    return
  }
  if (tx.v === 27n || tx.v === 28n) return
  if (tx.chainId === undefined || !rules.isActive('spuriousDragon')) {
    out.push(fail(TxErrorCode.InvalidV, `legacy v must be 27 or 28${rules.isActive('spuriousDragon') ? ' or 35/36 + 2*chainId' : ''}, got ${tx.v}`, { v: tx.v.toString() }))
  } else if (tx.chainId !== rules.chainId) {
    out.push(chainIdError(tx.chainId, rules))
  }
}

function chainIdError(chainId: bigint | undefined, rules: ForkRules): ValidationError {
  return fail(TxErrorCode.InvalidChainId, `transaction chainId ${chainId} differs from the chain's ${rules.chainId}`, {
    chainId: chainId?.toString(),
    expected: rules.chainId.toString(),
  })
}

function checkGas(tx: DecodedTransaction, rules: ForkRules, out: ValidationError[]): void {
  if (tx.nonce >= MAX_NONCE) out.push(fail(TxErrorCode.NonceTooBig, 'nonce must be below 2^64 - 1 (EIP-2681)'))
  const price = tx.gasPrice ?? tx.maxFeePerGas ?? 0n
  if (tx.gasLimit * price > UINT256_MAX) out.push(fail(TxErrorCode.GasPriceProductOverflow, 'gasLimit * gas price exceeds 2^256'))
  if (tx.maxPriorityFeePerGas !== undefined && tx.maxFeePerGas !== undefined && tx.maxPriorityFeePerGas > tx.maxFeePerGas) {
    out.push(
      fail(TxErrorCode.PriorityFeeAboveMaxFee, 'maxPriorityFeePerGas exceeds maxFeePerGas', {
        maxPriorityFeePerGas: tx.maxPriorityFeePerGas.toString(),
        maxFeePerGas: tx.maxFeePerGas.toString(),
      }),
    )
  }
  if (tx.to === undefined && rules.isActive('shanghai') && tx.data.length > MAX_INITCODE_SIZE) {
    out.push(fail(TxErrorCode.InitcodeTooLarge, `initcode of ${tx.data.length} bytes exceeds ${MAX_INITCODE_SIZE} (EIP-3860)`))
  }
  const { intrinsic, floor } = intrinsicGas(tx, rules)
  const required = Math.max(intrinsic, floor)
  // A bigint compares exactly with a number.
  if (tx.gasLimit < required) {
    out.push(
      fail(TxErrorCode.IntrinsicGasTooLow, `gasLimit ${tx.gasLimit} is below the intrinsic gas ${required}`, {
        gasLimit: tx.gasLimit.toString(),
        intrinsicGas: intrinsic.toString(),
        floorGas: floor.toString(),
      }),
    )
  }
  if (rules.isActive('osaka') && tx.gasLimit > Gas.txGasCap) {
    out.push(fail(TxErrorCode.GasLimitAboveCap, `gasLimit ${tx.gasLimit} exceeds the 2^24 cap (EIP-7825)`))
  }
}

function checkBlobs(tx: DecodedTransaction, rules: ForkRules, out: ValidationError[]): void {
  const hashes = tx.blobVersionedHashes
  if (hashes === undefined) return
  if (hashes.length === 0) out.push(fail(TxErrorCode.NoBlobs, 'blob transaction carries no blobs'))
  const { maxBlobsPerTx, maxBlobsPerBlock } = blobLimits(rules)
  const cap = maxBlobsPerTx ?? maxBlobsPerBlock
  if (hashes.length > cap) out.push(fail(TxErrorCode.TooManyBlobs, `${hashes.length} blobs exceed the limit of ${cap}`))
  for (let i = 0; i < hashes.length; i++) {
    if (hashes[i][0] !== BLOB_HASH_VERSION_KZG) {
      out.push(fail(TxErrorCode.BlobVersionedHashVersion, `blob versioned hash ${i} has version ${hashes[i][0]}, expected 1`, { blob: i }))
    }
  }
}

function checkAgainstBlock(tx: DecodedTransaction, block: TxBlockContext, out: ValidationError[]): void {
  if (tx.gasLimit > block.gasLimit) {
    out.push(fail(TxErrorCode.GasLimitAboveBlock, `gasLimit ${tx.gasLimit} exceeds the block gas limit ${block.gasLimit}`))
  }
  const maxFee = tx.maxFeePerGas ?? tx.gasPrice
  if (block.baseFeePerGas !== undefined && maxFee !== undefined && maxFee < block.baseFeePerGas) {
    out.push(
      fail(TxErrorCode.FeeBelowBaseFee, `fee cap ${maxFee} is below the base fee ${block.baseFeePerGas}`, {
        feeCap: maxFee.toString(),
        baseFeePerGas: block.baseFeePerGas.toString(),
      }),
    )
  }
  if (tx.maxFeePerBlobGas !== undefined && block.blobBaseFee !== undefined && tx.maxFeePerBlobGas < block.blobBaseFee) {
    out.push(fail(TxErrorCode.BlobFeeBelowBlobBaseFee, `maxFeePerBlobGas ${tx.maxFeePerBlobGas} is below the blob base fee ${block.blobBaseFee}`))
  }
}

/**
 * Every state-free rule for one transaction. `block` adds the rules that depend on the enclosing
 * header; without it the transaction is judged on its own (as TransactionTests do).
 */
export function validateTransaction(tx: Transaction, rules: ForkRules, block?: TxBlockContext): ValidationError[] {
  // A type the fork does not know has no defined payload: decoding it would only add noise.
  if (!isTxTypeActive(tx.type, rules)) return [typeNotSupported(tx.type, rules)]
  const decoded = decodeOrError(tx)
  if (decoded instanceof ValidationError) return [decoded]
  return validateDecodedTransaction(decoded, rules, block)
}

export function validateDecodedTransaction(tx: DecodedTransaction, rules: ForkRules, block?: TxBlockContext): ValidationError[] {
  const out: ValidationError[] = []
  if (!isTxTypeActive(tx.type, rules)) out.push(typeNotSupported(tx.type, rules))
  checkSignature(tx, rules, out)
  checkGas(tx, rules, out)
  checkBlobs(tx, rules, out)
  if (tx.type === TxType.SetCode && tx.authorizationCount === 0) {
    out.push(fail(TxErrorCode.EmptyAuthorizationList, 'set-code transaction has an empty authorization list (EIP-7702)'))
  }
  if (block) checkAgainstBlock(tx, block, out)
  return out
}

/**
 * Recovers the sender of a transaction that passed validation. Returns a ValidationError when the
 * signature recovers no key (e.g. r is not an x coordinate on the curve).
 */
export function recoverTransactionSender(tx: Transaction): Uint8Array | ValidationError {
  const decoded = decodeOrError(tx)
  if (decoded instanceof ValidationError) return decoded
  const sender = tx.sender()
  return sender ?? fail(TxErrorCode.SenderUnrecoverable, 'signature does not recover a public key')
}

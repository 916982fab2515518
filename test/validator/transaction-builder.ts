/**
 * Builds signed transactions with arbitrary (also invalid) field values, for unit tests of the
 * validity rules. Reference libraries refuse to construct most invalid transactions.
 */
import secp256k1 from 'secp256k1'
import { type Bytes, bytesToBigInt, hexToBytes } from '../../src/primitives/bytes.js'
import { keccak256 } from '../../src/primitives/keccak.js'
import { type EncodableInput, encode } from '../../src/primitives/rlp.js'
import { Transaction } from '../../src/primitives/transaction.js'
import { SECP256K1_N } from '../../src/validator/transaction.js'

export const TEST_KEY = hexToBytes('0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318')
export const TEST_ADDRESS = keccak256(secp256k1.publicKeyCreate(TEST_KEY, false).subarray(1)).subarray(12)
const TO = hexToBytes('0x' + '11'.repeat(20))

export interface TxFields {
  chainId: bigint
  nonce: bigint
  gasPrice: bigint
  maxPriorityFeePerGas: bigint
  maxFeePerGas: bigint
  gasLimit: bigint
  /** undefined = contract creation. */
  to: Bytes | undefined
  value: bigint
  data: Bytes
  accessList: EncodableInput[]
  maxFeePerBlobGas: bigint
  blobVersionedHashes: Bytes[]
  authorizationList: EncodableInput[]
  /** Legacy only: sign with EIP-155 replay protection. */
  eip155: boolean
}

const DEFAULTS: TxFields = {
  chainId: 1n,
  nonce: 0n,
  gasPrice: 10n ** 9n,
  maxPriorityFeePerGas: 10n ** 9n,
  maxFeePerGas: 2n * 10n ** 9n,
  gasLimit: 100_000n,
  to: TO,
  value: 1n,
  data: new Uint8Array(0),
  accessList: [],
  maxFeePerBlobGas: 10n ** 9n,
  blobVersionedHashes: [Uint8Array.of(1, ...new Uint8Array(31))],
  authorizationList: [[1n, TO, 0n, 0n, 1n, 1n]],
  eip155: true,
}

function unsignedFields(type: number, f: TxFields): EncodableInput[] {
  const to = f.to ?? new Uint8Array(0)
  switch (type) {
    case 0:
      return [f.nonce, f.gasPrice, f.gasLimit, to, f.value, f.data]
    case 1:
      return [f.chainId, f.nonce, f.gasPrice, f.gasLimit, to, f.value, f.data, f.accessList]
    case 2:
      return [f.chainId, f.nonce, f.maxPriorityFeePerGas, f.maxFeePerGas, f.gasLimit, to, f.value, f.data, f.accessList]
    case 3:
      return [...unsignedFields(2, f), f.maxFeePerBlobGas, f.blobVersionedHashes]
    case 4:
      return [...unsignedFields(2, f), f.authorizationList]
    default:
      throw new Error(`no builder for type ${type}`)
  }
}

/** A transaction of `type` signed with `key`; `override` replaces fields, `signature` the (v, r, s). */
export function buildTx(
  type: number,
  override: Partial<TxFields> = {},
  signature?: { v: bigint; r: bigint; s: bigint },
  key: Bytes = TEST_KEY,
): Transaction {
  const f = { ...DEFAULTS, ...override }
  const unsigned = unsignedFields(type, f)
  const legacy155 = type === 0 && f.eip155
  const preimage = type === 0 ? encode(legacy155 ? [...unsigned, f.chainId, 0n, 0n] : unsigned) : new Uint8Array([type, ...encode(unsigned)])
  const { signature: sig, recid } = secp256k1.ecdsaSign(keccak256(preimage), key)
  const r = BigInt('0x' + Buffer.from(sig.subarray(0, 32)).toString('hex'))
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'))
  const v = type > 0 ? BigInt(recid) : legacy155 ? 35n + 2n * f.chainId + BigInt(recid) : 27n + BigInt(recid)
  const vrs = signature ?? { v, r, s }
  const payload = encode([...unsigned, vrs.v, vrs.r, vrs.s])
  return Transaction.fromEnvelope(type === 0 ? payload : new Uint8Array([type, ...payload]))
}

/** s' = n - s: the same signature with the high s value (what EIP-2 forbids). */
export function highS(tx: Transaction): { v: bigint; r: bigint; s: bigint } {
  const d = tx.decode()
  return { v: d.v, r: bytesToBigInt(d.rBytes), s: SECP256K1_N - bytesToBigInt(d.sBytes) }
}

/**
 * Block header view over the exact RLP bytes received. All fields are read once at decode (a header
 * is ~20 small fields); the hash is keccak(raw) computed on first use. Nothing is ever re-encoded.
 */
import { DecodeError } from '../errors.js'
import type { Bytes } from './bytes.js'
import { keccak256 } from './keccak.js'
import { bigIntOf, decodeList, fixedOf, numberOf, stringOf, type RlpItem } from './rlp.js'

/** Field counts per fork: 15 legacy, +baseFee (London), +withdrawalsRoot (Shanghai), +3 (Cancun), +requestsHash (Prague). */
export const HEADER_FIELDS = { legacy: 15, london: 16, shanghai: 17, cancun: 20, prague: 21 } as const

export class BlockHeader {
  private cachedHash: Bytes | undefined

  private constructor(
    readonly raw: Bytes,
    /** Positions of the header's fields in `raw` (used to build seal hashes from the wire bytes). */
    readonly fields: readonly RlpItem[],
    readonly parentHash: Bytes,
    readonly ommersHash: Bytes,
    readonly coinbase: Bytes,
    readonly stateRoot: Bytes,
    readonly transactionsRoot: Bytes,
    readonly receiptsRoot: Bytes,
    readonly logsBloom: Bytes,
    readonly difficulty: bigint,
    readonly number: number,
    readonly gasLimit: bigint,
    readonly gasUsed: bigint,
    readonly timestamp: number,
    readonly extraData: Bytes,
    readonly mixHash: Bytes,
    readonly nonce: Bytes,
    readonly baseFeePerGas: bigint | undefined,
    readonly withdrawalsRoot: Bytes | undefined,
    readonly blobGasUsed: bigint | undefined,
    readonly excessBlobGas: bigint | undefined,
    readonly parentBeaconBlockRoot: Bytes | undefined,
    readonly requestsHash: Bytes | undefined,
  ) {}

  /** Decodes a header; throws DecodeError on malformed RLP, wrong field sizes or field count. */
  static decode(raw: Bytes): BlockHeader {
    const f = decodeList(raw, { min: HEADER_FIELDS.legacy, max: HEADER_FIELDS.prague })
    const n = f.length
    const h32 = (i: number, what: string) => fixedOf(raw, f[i], 32, what)
    const u64 = (i: number, what: string) => bigIntOf(raw, f[i], what, 8)
    const timestamp = bigIntOf(raw, f[11], 'timestamp', 8)
    if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new DecodeError('HEADER_TIMESTAMP_OVERFLOW', 'timestamp exceeds 2^53')
    }
    return new BlockHeader(
      raw,
      f,
      h32(0, 'parentHash'),
      h32(1, 'ommersHash'),
      fixedOf(raw, f[2], 20, 'coinbase'),
      h32(3, 'stateRoot'),
      h32(4, 'transactionsRoot'),
      h32(5, 'receiptsRoot'),
      fixedOf(raw, f[6], 256, 'logsBloom'),
      bigIntOf(raw, f[7], 'difficulty', 32),
      numberOf(raw, f[8], 'number'),
      u64(9, 'gasLimit'),
      u64(10, 'gasUsed'),
      Number(timestamp),
      stringOf(raw, f[12]),
      h32(13, 'mixHash'),
      fixedOf(raw, f[14], 8, 'nonce'),
      n > 15 ? bigIntOf(raw, f[15], 'baseFeePerGas', 32) : undefined,
      n > 16 ? h32(16, 'withdrawalsRoot') : undefined,
      n > 17 ? u64(17, 'blobGasUsed') : undefined,
      n > 18 ? u64(18, 'excessBlobGas') : undefined,
      n > 19 ? h32(19, 'parentBeaconBlockRoot') : undefined,
      n > 20 ? h32(20, 'requestsHash') : undefined,
    )
  }

  /** keccak256 of the received header bytes. */
  get hash(): Bytes {
    return (this.cachedHash ??= keccak256(this.raw))
  }

  get fieldCount(): number {
    return this.fields.length
  }
}

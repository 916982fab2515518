/**
 * Key layout (README "Storage"), the same for Redis/Pika and LMDB, every key behind an optional
 * prefix so several chains can share one Redis:
 *
 *   hdr:<hash>      header RLP as received              immutable, content-addressed
 *   body:<hash>     rlp([txs, ommers, withdrawals?])    immutable
 *   rcpt:<hash>     receipts, compact eth/69 list       immutable (blooms derived on read)
 *   num:<hash>      block number (decimal)              immutable (a hash always has one number)
 *   canon:<number>  canonical hash (0x hex)             canonical pointer, trusted up to the commit
 *   sync:progress   commit record (JSON)                written last in every batch
 *   sync:chain      chain identity (JSON)               written once
 *
 * `<hash>` is 64 lowercase hex characters, `<number>` decimal. Values that people read with
 * `redis-cli` (numbers, hashes, records) are text; block data is raw bytes.
 */
import { type Bytes, bytesToHex, hexToBytes } from '../primitives/bytes.js'
import { StoreError } from '../errors.js'

function hashHex(hash: Bytes): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')
}

export class StoreKeys {
  readonly progress: string
  readonly chain: string

  constructor(readonly prefix = '') {
    this.progress = `${prefix}sync:progress`
    this.chain = `${prefix}sync:chain`
  }

  header(hash: Bytes): string {
    return `${this.prefix}hdr:${hashHex(hash)}`
  }

  body(hash: Bytes): string {
    return `${this.prefix}body:${hashHex(hash)}`
  }

  receipts(hash: Bytes): string {
    return `${this.prefix}rcpt:${hashHex(hash)}`
  }

  number(hash: Bytes): string {
    return `${this.prefix}num:${hashHex(hash)}`
  }

  canonical(number: number): string {
    return `${this.prefix}canon:${number}`
  }
}

const textDecoder = new TextDecoder()
const textEncoder = new TextEncoder()

export function textValue(s: string): Bytes {
  return textEncoder.encode(s)
}

export function readText(value: Bytes): string {
  return textDecoder.decode(value)
}

/** A canonical pointer's value: the 0x-hex hash. */
export function encodeHashValue(hash: Bytes): Bytes {
  return textValue(bytesToHex(hash))
}

export function decodeHashValue(value: Bytes, key: string): Bytes {
  const text = readText(value)
  if (!/^0x[0-9a-f]{64}$/.test(text)) throw new StoreError('STORE_CORRUPT', `${key} does not hold a 32-byte hash`, { details: { key } })
  return hexToBytes(text)
}

export function decodeNumberValue(value: Bytes, key: string): number {
  const text = readText(value)
  const n = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new StoreError('STORE_CORRUPT', `${key} does not hold a block number`, { details: { key } })
  }
  return n
}

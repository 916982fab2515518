/**
 * Snappy for RLPx v5 message payloads, bounded: the declared uncompressed length is read from the
 * stream's varint header and checked against the limit BEFORE anything is allocated, so a 16 MiB
 * frame cannot expand into hundreds of megabytes.
 */
import { compress, uncompress } from 'snappyjs'
import type { Bytes } from '../../primitives/bytes.js'
import { devp2pError, Devp2pErrorCode } from './errors.js'

/** The uncompressed length a snappy block declares (varint, at most 32 bits), or -1 if malformed. */
export function snappyDeclaredLength(data: Bytes): number {
  let result = 0
  for (let i = 0, shift = 0; i < data.length && i < 5; i++, shift += 7) {
    const b = data[i]
    result += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return result <= 0xffffffff ? result : -1
  }
  return -1
}

export function snappyDecompress(data: Bytes, maxBytes: number): Bytes {
  const declared = snappyDeclaredLength(data)
  if (declared < 0) throw devp2pError(Devp2pErrorCode.InvalidMessage, 'malformed snappy length header')
  if (declared > maxBytes) {
    throw devp2pError(Devp2pErrorCode.MessageTooLarge, `message declares ${declared} bytes, limit is ${maxBytes}`, { declared, maxBytes })
  }
  try {
    return uncompress(data, maxBytes)
  } catch (err) {
    throw devp2pError(Devp2pErrorCode.InvalidMessage, 'malformed snappy stream', { declared }, err)
  }
}

export function snappyCompress(data: Bytes): Bytes {
  return compress(data)
}

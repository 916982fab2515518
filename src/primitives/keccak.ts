/**
 * keccak-256 on the hot path: hash-wasm's WebAssembly build (~1.3M small hashes/s per core). One
 * hasher instance per thread is created at module load (top-level await) and reused synchronously.
 */
import { createKeccak } from 'hash-wasm'
import type { Bytes } from './bytes.js'

const hasher = await createKeccak(256)

export function keccak256(data: Bytes): Bytes {
  hasher.init()
  hasher.update(data)
  return hasher.digest('binary')
}

/** keccak-256 over several parts without concatenating them first. */
export function keccak256Parts(parts: readonly Bytes[]): Bytes {
  hasher.init()
  for (const p of parts) hasher.update(p)
  return hasher.digest('binary')
}

/** keccak256(rlp('')): the root of an empty trie. */
export const EMPTY_TRIE_ROOT: Bytes = keccak256(Uint8Array.of(0x80))
/** keccak256(rlp([])): the ommers hash of a block without ommers. */
export const EMPTY_LIST_HASH: Bytes = keccak256(Uint8Array.of(0xc0))
export const KECCAK_BACKEND = 'hash-wasm'

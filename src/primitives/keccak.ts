/**
 * keccak-256 on the hot path: the generated WebAssembly module of keccak-wasm.ts, one instance per
 * thread (created at module load), called synchronously. Inputs are copied into the instance's
 * memory, which grows to the largest input seen.
 */
import type { Bytes } from './bytes.js'
import { DATA_OFFSET, keccakModuleBytes, RATE } from './keccak-wasm.js'

interface KeccakExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number }
  hash(inPtr: number, len: number, outPtr: number): void
  /** Two inputs with the same number of full 136-byte blocks. */
  hash2(inA: number, lenA: number, outA: number, inB: number, lenB: number, outB: number): void
}

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { readonly exports: unknown }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const PAGE = 65536
const { memory, hash, hash2 } = new wasm.Instance(new wasm.Module(keccakModuleBytes())).exports as KeccakExports
let heap = new Uint8Array(memory.buffer)

/** Makes room for `bytes` of input plus the digest after DATA_OFFSET. */
function reserve(bytes: number): void {
  const needed = DATA_OFFSET + bytes + 32
  if (needed <= heap.length) return
  memory.grow(Math.ceil((needed - heap.length) / PAGE))
  heap = new Uint8Array(memory.buffer)
}

/** Hashes the `length` input bytes at DATA_OFFSET; returns where the digest lies in `heap` (right after them). */
function hashInput(length: number): number {
  const digest = DATA_OFFSET + length
  hash(DATA_OFFSET, length, digest)
  return digest
}

/** Copies `data` into the instance's memory and hashes it; returns where the digest lies in `heap`. */
function hashInPlace(data: Bytes): number {
  reserve(data.length)
  heap.set(data, DATA_OFFSET)
  return hashInput(data.length)
}

export function keccak256(data: Bytes): Bytes {
  const digest = hashInPlace(data)
  return heap.slice(digest, digest + 32)
}

/** keccak-256 written into `out` (32 bytes from `at`): no digest array for callers that only read it. */
export function keccak256Into(data: Bytes, out: Bytes, at = 0): void {
  const digest = hashInPlace(data)
  for (let i = 0; i < 32; i++) out[at + i] = heap[digest + i]
}

/** keccak-256 over several parts without concatenating them first. */
export function keccak256Parts(parts: readonly Bytes[]): Bytes {
  let length = 0
  for (const p of parts) length += p.length
  reserve(length)
  let pos = DATA_OFFSET
  for (const p of parts) {
    heap.set(p, pos)
    pos += p.length
  }
  const digest = hashInput(length)
  return heap.slice(digest, digest + 32)
}

/**
 * keccak-256 of `a` and of `b`, written into `out` from 0 and from 32: one SIMD pass when they take
 * as many 136-byte blocks (short inputs, e.g. bloom entries, always do), else one after the other.
 */
export function keccak256PairInto(a: Bytes, b: Bytes, out: Bytes): void {
  const inB = DATA_OFFSET + ((a.length + 7) & ~7)
  const digests = inB + ((b.length + 7) & ~7)
  reserve(digests + 64 - DATA_OFFSET)
  heap.set(a, DATA_OFFSET)
  heap.set(b, inB)
  if (Math.floor(a.length / RATE) === Math.floor(b.length / RATE)) hash2(DATA_OFFSET, a.length, digests, inB, b.length, digests + 32)
  else {
    hash(DATA_OFFSET, a.length, digests)
    hash(inB, b.length, digests + 32)
  }
  for (let i = 0; i < 64; i++) out[i] = heap[digests + i]
}

/** Where `keccak256Batch` placed each input in the instance's memory (grown with the largest batch). */
let batchOffsets = new Int32Array(256)
let batchLengths = new Int32Array(256)

/**
 * keccak-256 of several inputs at once, input i being `heads[i]` followed by `bodies[i]`; digest i is
 * written into `out` at 32 * i. Inputs with the same number of full 136-byte blocks are hashed two at
 * a time in one SIMD pass, which for a trie's leaves is nearly all of them (each costs ~0.65x a hash
 * alone); the rest one by one.
 */
export function keccak256Batch(heads: readonly Bytes[], bodies: readonly Bytes[], out: Bytes): void {
  const count = heads.length
  if (batchOffsets.length < count) {
    batchOffsets = new Int32Array(count)
    batchLengths = new Int32Array(count)
  }
  let room = 0
  for (let i = 0; i < count; i++) room += (heads[i].length + bodies[i].length + 7) & ~7
  reserve(room + 32 * count)
  const digests = DATA_OFFSET + room
  /** Per number of full blocks, the input waiting for a partner of the same size (sparse). */
  const waiting: number[] = []
  let at = DATA_OFFSET
  for (let i = 0; i < count; i++) {
    heap.set(heads[i], at)
    heap.set(bodies[i], at + heads[i].length)
    const length = heads[i].length + bodies[i].length
    batchOffsets[i] = at
    batchLengths[i] = length
    at += (length + 7) & ~7
    const blocks = Math.floor(length / RATE)
    const partner = waiting[blocks]
    if (partner === undefined || partner < 0) waiting[blocks] = i
    else {
      hash2(batchOffsets[partner], batchLengths[partner], digests + 32 * partner, batchOffsets[i], length, digests + 32 * i)
      waiting[blocks] = -1
    }
  }
  waiting.forEach((i) => {
    if (i >= 0) hash(batchOffsets[i], batchLengths[i], digests + 32 * i)
  })
  out.set(heap.subarray(digests, digests + 32 * count))
}

/** keccak256(rlp('')): the root of an empty trie. */
export const EMPTY_TRIE_ROOT: Bytes = keccak256(Uint8Array.of(0x80))
/** keccak256(rlp([])): the ommers hash of a block without ommers. */
export const EMPTY_LIST_HASH: Bytes = keccak256(Uint8Array.of(0xc0))
export const KECCAK_BACKEND = 'wasm (generated)'

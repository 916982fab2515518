/**
 * ECDSA public-key recovery for sender addresses. The npm `secp256k1` package silently falls back to
 * a pure-JS implementation (~30x slower) when its native addon fails to load; we load the native
 * binding directly so that the fallback is visible, and `cryptoBackends()` reports which one runs.
 */
import { createRequire } from 'node:module'
import type { Bytes } from './bytes.js'
import { keccak256 } from './keccak.js'

interface Secp256k1Api {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean, output?: Uint8Array): Uint8Array
}

const require = createRequire(import.meta.url)

function load(): { api: Secp256k1Api; native: boolean; loadError?: string } {
  try {
    return { api: require('secp256k1/bindings') as Secp256k1Api, native: true }
  } catch (err) {
    return { api: require('secp256k1/elliptic') as Secp256k1Api, native: false, loadError: String(err) }
  }
}

const backend = load()

/** Reused for every recovery (calls are synchronous): a 65-byte array of its own costs a backing-store allocation. */
const signature = new Uint8Array(64)
const publicKey = new Uint8Array(65)

export const SECP256K1_NATIVE: boolean = backend.native
export const SECP256K1_LOAD_ERROR: string | undefined = backend.loadError

/**
 * Recovers the 20-byte address that signed `msgHash`. r and s are big-endian, at most 32 bytes each.
 * Returns undefined when the signature does not recover to a valid point.
 */
export function recoverAddress(msgHash: Bytes, r: Bytes, s: Bytes, recoveryId: number): Bytes | undefined {
  if (r.length > 32 || s.length > 32 || (recoveryId !== 0 && recoveryId !== 1)) return undefined
  const sig = signature.fill(0)
  sig.set(r, 32 - r.length)
  sig.set(s, 64 - s.length)
  try {
    const pub = backend.api.ecdsaRecover(sig, recoveryId, msgHash, false, publicKey)
    return keccak256(pub.subarray(1)).subarray(12)
  } catch {
    return undefined
  }
}

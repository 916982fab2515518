import { ConfigError } from '../errors.js'
import { bytesToHex, utf8ToBytes } from './bytes.js'
import { KECCAK_BACKEND, keccak256 } from './keccak.js'
import { SECP256K1_LOAD_ERROR, SECP256K1_NATIVE } from './secp256k1.js'

export interface CryptoBackends {
  keccak: string
  secp256k1: 'native' | 'js'
}

export function cryptoBackends(): CryptoBackends {
  return { keccak: KECCAK_BACKEND, secp256k1: SECP256K1_NATIVE ? 'native' : 'js' }
}

/**
 * Startup check: the fast implementations are loaded and give the right answers. Syncing with the
 * JS fallback would run ~30x slower without saying why, so it is an error unless explicitly allowed.
 */
export function assertFastCrypto(allowSlow = false): CryptoBackends {
  const known = '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45' // keccak256("abc")
  if (bytesToHex(keccak256(utf8ToBytes('abc'))) !== known) {
    throw new ConfigError('CRYPTO_BROKEN', 'keccak-256 self-test failed')
  }
  const backends = cryptoBackends()
  if (backends.secp256k1 !== 'native' && !allowSlow) {
    throw new ConfigError(
      'CRYPTO_SLOW',
      `native secp256k1 addon failed to load (${SECP256K1_LOAD_ERROR ?? 'unknown'}); sender recovery would be ~30x slower`,
    )
  }
  return backends
}

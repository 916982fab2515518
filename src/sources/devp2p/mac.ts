/**
 * The RLPx frame MAC on hash-wasm's keccak. The library's MAC runs a pure-JS keccak over every frame
 * body, which caps a connection at roughly 20 MB/s of received data on one core (two thirds of the
 * CPU time in a bodies/receipts transfer). This MAC keeps the same construction (RLPx spec: a
 * running keccak-256 state, updated with AES-ECB(mac-secret, digest) XOR header / digest) with the
 * state saved and restored around one shared WASM hasher, so each update costs one pass of WASM
 * keccak over the data.
 *
 * `useFastMac` swaps it into an ECIES session: the session derives the secrets and sets up AES as
 * before, then both MACs are rebuilt from the same secret and the same initial data.
 */
import { createCipheriv, type Cipher } from 'node:crypto'
import { createKeccak } from 'hash-wasm'
import { concatBytes, type Bytes } from '../../primitives/bytes.js'
import { keccak256 } from '../../primitives/keccak.js'

const hasher = await createKeccak(256)

function xor(a: Bytes, b: Bytes): Bytes {
  const out = new Uint8Array(Math.min(a.length, b.length))
  for (let i = 0; i < out.length; i++) out[i] = a[i] ^ b[i]
  return out
}

export class FrameMac {
  private state: Uint8Array
  private readonly aes: Cipher

  constructor(secret: Bytes, initial: Bytes) {
    this.aes = createCipheriv('aes-256-ecb', secret, null)
    this.aes.setAutoPadding(false)
    hasher.init()
    hasher.update(initial)
    this.state = hasher.save()
  }

  update(data: Bytes): void {
    hasher.load(this.state)
    hasher.update(data)
    this.state = hasher.save()
  }

  updateHeader(header: Bytes): void {
    this.update(xor(this.aes.update(this.digest()), header))
  }

  updateBody(body: Bytes): void {
    this.update(body)
    const prev = this.digest()
    this.update(xor(this.aes.update(prev), prev))
  }

  /** First 16 bytes of the running digest (the state continues unchanged). */
  digest(): Bytes {
    hasher.load(this.state)
    return hasher.digest('binary').subarray(0, 16)
  }
}

/** The private parts of the library's ECIES session that the frame setup uses. */
interface EciesFrameState {
  _setupFrame(remoteData: Uint8Array, incoming: boolean): void
  _nonce: Uint8Array
  _remoteNonce: Uint8Array | null
  _ephemeralSharedSecret: Uint8Array | null
  _initMsg: Uint8Array | null | undefined
  _ingressMac: unknown
  _egressMac: unknown
}

/** Makes an ECIES session use FrameMac; call before the handshake reaches the frame setup. */
export function useFastMac(session: object): void {
  const ecies = session as EciesFrameState
  const setup = ecies._setupFrame.bind(ecies)
  ecies._setupFrame = (remoteData: Uint8Array, incoming: boolean) => {
    setup(remoteData, incoming)
    const { _nonce: nonce, _remoteNonce: remoteNonce, _ephemeralSharedSecret: shared, _initMsg: initMsg } = ecies
    if (!remoteNonce || !shared || !initMsg || !ecies._ingressMac) return
    // The RLPx secrets, derived as the session just did.
    const hNonce = keccak256(incoming ? concatBytes(nonce, remoteNonce) : concatBytes(remoteNonce, nonce))
    const sharedSecret = keccak256(concatBytes(shared, hNonce))
    const aesSecret = keccak256(concatBytes(shared, sharedSecret))
    const macSecret = keccak256(concatBytes(shared, aesSecret))
    ecies._ingressMac = new FrameMac(macSecret, concatBytes(xor(macSecret, nonce), remoteData))
    ecies._egressMac = new FrameMac(macSecret, concatBytes(xor(macSecret, remoteNonce), initMsg))
  }
}

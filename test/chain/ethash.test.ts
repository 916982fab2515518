import { describe, expect, it } from 'vitest'
import { cacheSize, EthashCache, EthashVerifier, ethashSealHash, fullSize, hashimotoLight, seedHash } from '../../src/chain/consensus/ethash.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { decodeBlock } from '../../src/primitives/body.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { keccak256 } from '../../src/primitives/keccak.js'
import { encodeListOfEncoded, rawOf } from '../../src/primitives/rlp.js'
import { readFixtureJson } from '../fixtures.js'

interface EthashVector {
  nonce: string
  mixHash: string
  header: string
  seed: string
  result: string
  cache_size: number
  full_size: number
  header_hash: string
  cache_hash: string
}

const vectors = readFixtureJson<Record<string, EthashVector>>('ethereum-tests', 'PoWTests', 'ethash_tests.json')
// Both vectors are epoch 0: one cache (~1 s to build) serves every test in this file.
const verifier = new EthashVerifier({ mode: 'all' })

/** The header with its nonce replaced (a forged seal). */
function withNonce(header: BlockHeader, nonce: Uint8Array): BlockHeader {
  const parts = header.fields.map((f, i) => (i === 14 ? Uint8Array.of(0x88, ...nonce) : rawOf(header.raw, f)))
  return BlockHeader.decode(encodeListOfEncoded(parts))
}

function realSealedHeader(): BlockHeader {
  const tests = readFixtureJson<Record<string, { sealEngine: string; blocks: Array<{ rlp: string }> }>>(
    'ethereum-legacytests', 'Constantinople', 'BlockchainTests', 'ValidBlocks', 'bcMultiChainTest', 'ChainAtoChainB.json',
  )
  const test = Object.values(tests).find((t) => t.sealEngine === 'Ethash')
  if (!test) throw new Error('no Ethash-sealed test in ChainAtoChainB.json')
  return decodeBlock(hexToBytes(test.blocks[0].rlp)).header
}

describe('ethash (PoWTests/ethash_tests.json)', () => {
  it('derives sizes, seed and the epoch cache exactly', () => {
    for (const v of Object.values(vectors)) {
      expect(cacheSize(0)).toBe(v.cache_size)
      expect(fullSize(0)).toBe(v.full_size)
      expect(bytesToHex(seedHash(0))).toBe(`0x${v.seed}`)
    }
    const cache = verifier.cache(0)
    expect(cache).toBeInstanceOf(EthashCache)
    expect(bytesToHex(keccak256(cache.bytes))).toBe(`0x${vectors.first.cache_hash}`)
  })

  it.each(Object.keys(vectors))('%s: seal hash, mix digest and result match', (name) => {
    const v = vectors[name]
    const header = BlockHeader.decode(hexToBytes(v.header))
    const sealHash = ethashSealHash(header)
    expect(bytesToHex(sealHash)).toBe(`0x${v.header_hash}`)
    const { mixDigest, result } = hashimotoLight(verifier.cache(0), sealHash, hexToBytes(v.nonce))
    expect(bytesToHex(mixDigest)).toBe(`0x${v.mixHash}`)
    expect(bytesToHex(result)).toBe(`0x${v.result}`)
    // The vectors exercise hashimoto only: their results do not meet their difficulty.
    expect(verifier.verify(header)).toMatchObject({ ok: false, reason: 'difficulty' })
  })

  it('accepts a real sealed block (legacy BlockchainTests, sealEngine Ethash)', () => {
    const header = realSealedHeader()
    expect(verifier.verify(header)).toEqual({ ok: true, checked: true })
  })

  it('rejects a forged nonce and honours the off / sampled modes', () => {
    const header = realSealedHeader()
    const forged = withNonce(header, hexToBytes('0x0102030405060708'))
    expect(verifier.verify(forged)).toMatchObject({ ok: false, reason: 'mix-digest' })
    expect(new EthashVerifier({ mode: 'off' }).verify(forged)).toEqual({ ok: true, checked: false })
    const draws = [0.9, 0.01]
    const sampled = new EthashVerifier({ mode: 'sampled', sampleRate: 0.05, random: () => draws.shift() as number })
    expect(sampled.verify(forged)).toEqual({ ok: true, checked: false })
    expect(sampled.verify(forged)).toMatchObject({ ok: false })
    expect(sampled.stats.sealsChecked).toBe(1)
  })

  it('measures the cost: one cache per epoch, a few ms per seal', () => {
    const fresh = new EthashVerifier({ mode: 'all' })
    const header = realSealedHeader()
    expect(fresh.verify(header).ok).toBe(true)
    expect(fresh.verify(header).ok).toBe(true)
    expect(fresh.stats.cachesGenerated).toBe(1)
    expect(fresh.stats.sealsChecked).toBe(2)
    console.info(`ethash epoch-0 cache: ${fresh.stats.cacheMs.toFixed(0)} ms; seal check: ${(fresh.stats.sealMs / 2).toFixed(1)} ms`)
  })
})

import { describe, expect, it } from 'vitest'
import { loadChain } from '../../src/chain/chains.js'
import type { ParliaEngine, ParliaSnapshot } from '../../src/chain/consensus/parlia.js'
import { bytesToHex, equalBytes, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { encode, encodeListOfEncoded, rawOf } from '../../src/primitives/rlp.js'
import { validateHeader } from '../../src/validator/header.js'
import { validateSegment } from '../../src/validator/segment.js'
import { readFixtureJson } from '../fixtures.js'
import { headerRlpFromJson } from './json-header.js'

const fixture = readFixtureJson<{ chainId: number; headers: Array<Record<string, string>> }>('darwinia-messages-sol', 'bsc-mainnet-chainid56-headers.json')
const headers = fixture.headers.map((h) => BlockHeader.decode(headerRlpFromJson(h)))
const bsc = loadChain('bsc')
const engine = bsc.consensus as ParliaEngine

describe('Parlia (12 real BNB Smart Chain headers)', () => {
  it('fixture is BSC mainnet and the headers link by parent hash', () => {
    expect(BigInt(fixture.chainId)).toBe(bsc.chainId)
    for (let i = 2; i < headers.length; i++) expect(equalBytes(headers[i].parentHash, headers[i - 1].hash)).toBe(true)
  })

  it('BSC never merges: after Shanghai/Cancun its rules keep proof of authority', () => {
    const rules = bsc.rulesAt(40_000_000, 1_720_000_000)
    expect(rules.isActive('cancun')).toBe(true)
    expect(rules.isActive('paris')).toBe(false)
    expect(bsc.rulesAt(7_706_001, 1_590_000_000).fork).toBe('muirGlacier')
  })

  it('every seal (chain id in the seal hash) recovers to the coinbase', () => {
    for (const h of headers) expect(bytesToHex(engine.signer(h) as Uint8Array)).toBe(bytesToHex(h.coinbase))
  })

  it('reads the validator set from epoch blocks and validates 7706001-7706010 with it', () => {
    const [epoch1, epoch2, ...rest] = headers
    const set = engine.epochValidators(epoch1) as string[]
    expect(set.length).toBe(21)
    expect(engine.epochValidators(epoch2)?.length).toBe(21)
    expect(engine.epochValidators(rest[0])).toBeUndefined()
    // State after epoch 7705800, carried over epoch block 7706000 (which announces the next set).
    const afterEpoch1 = engine.stateFromCheckpoint(epoch1)
    expect(validateHeader(epoch2, { chain: bsc, consensusState: afterEpoch1 })).toEqual([])
    const anchorState = engine.stateAfter(epoch2, afterEpoch1) as ParliaSnapshot
    expect(anchorState.pending?.at).toBe(7706000 + 10 + 1)
    const result = validateSegment(bsc, rest.map((header) => ({ header })), { header: epoch2, consensusState: anchorState })
    expect(result.failure).toBeUndefined()
    expect(result.validCount).toBe(10)
    for (const h of rest) expect(set).toContain(Buffer.from(h.coinbase).toString('hex'))
  })

  it('rejects a header whose signer is not the coinbase, and a signer outside the set', () => {
    const state = engine.stateFromCheckpoint(headers[0])
    const h = headers[3]
    const other = hexToBytes('0x' + '11'.repeat(20))
    const forged = BlockHeader.decode(encodeListOfEncoded(h.fields.map((f, i) => (i === 2 ? encode(other) : rawOf(h.raw, f)))))
    const codes = validateHeader(forged, { chain: bsc, parent: headers[2], consensusState: state }).map((e) => e.code)
    expect(codes).toContain('PARLIA_SIGNER_NOT_COINBASE')
    const outsider: ParliaSnapshot = { number: 0, validators: ['22'.repeat(20)], recents: new Map() }
    expect(validateHeader(h, { chain: bsc, parent: headers[2], consensusState: outsider }).map((e) => e.code)).toContain('PARLIA_UNAUTHORIZED_VALIDATOR')
    expect(validateHeader(h, { chain: bsc, parent: headers[2], consensusState: state })).toEqual([])
  })
})

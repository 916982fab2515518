import { describe, expect, it } from 'vitest'
import { BlockBody } from '../../src/primitives/body.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { encodeListOfEncoded, rawOf } from '../../src/primitives/rlp.js'
import { loadChain } from '../../src/chain/chains.js'
import { BLOCK_ERRORS, validateBlock } from '../../src/validator/block.js'
import { HEADER_ERRORS } from '../../src/validator/header.js'
import { detectConflict, validateSegment } from '../../src/validator/segment.js'
import { readPortalBlock } from '../fixtures.js'
import { F, GETH_CHAIN, GETH_OLD_CHAIN, loadGethChain, mutateHeader } from './header-chain.js'

describe('segments of real chains', () => {
  it.each([GETH_CHAIN, GETH_OLD_CHAIN])('%s: every block validates in order from genesis (headers, bodies, ommers, merge by TTD)', (dir) => {
    const { chain, blocks } = loadGethChain(dir)
    const result = validateSegment(chain, blocks, { header: chain.genesisHeader, totalDifficulty: chain.genesisHeader.difficulty })
    expect(result.failure).toBeUndefined()
    expect(result.validCount).toBe(blocks.length)
    expect(result.next?.header.number).toBe(blocks.length)
  })

  it('continues from the anchor a previous segment returned, headers only', () => {
    const { chain, blocks } = loadGethChain(GETH_OLD_CHAIN)
    const headers = blocks.map((b) => ({ header: b.header }))
    const first = validateSegment(chain, headers.slice(0, 100), { header: chain.genesisHeader, totalDifficulty: chain.genesisHeader.difficulty })
    const second = validateSegment(chain, headers.slice(100), first.next)
    expect(first.validCount + second.validCount).toBe(headers.length)
    expect(second.failure).toBeUndefined()
  })

  it.each([1, 3])('segments of %i block(s) with ommers validate across their boundaries, and the anchor keeps only recent ancestors', (size) => {
    const { chain, blocks } = loadGethChain(GETH_OLD_CHAIN)
    const withOmmers = blocks.filter((b) => b.body.ommerHeadersRaw().length > 0).length
    expect(withOmmers).toBeGreaterThan(0)
    let anchor = { header: chain.genesisHeader, totalDifficulty: chain.genesisHeader.difficulty } as Parameters<typeof validateSegment>[2]
    for (let i = 0; i < blocks.length; i += size) {
      const result = validateSegment(chain, blocks.slice(i, i + size), anchor)
      expect(result.failure).toBeUndefined()
      anchor = result.next
    }
    // A sync runs many segments: the ancestry must not keep every header it ever saw.
    const last = blocks.length - 1
    expect(anchor?.ancestry?.header(blocks[last - 1].header.hash)?.number).toBe(blocks[last - 1].header.number)
    expect(anchor?.ancestry?.header(blocks[last - 20].header.hash)).toBeUndefined()
    expect(anchor?.ancestry?.header(blocks[0].header.hash)).toBeUndefined()
  })

  it('stops at the first invalid block and hands back the last valid one as the anchor', () => {
    const { chain, blocks } = loadGethChain(GETH_CHAIN)
    const segment = blocks.slice(0, 20).map((b) => ({ header: b.header, body: b.body }))
    segment[10] = { ...segment[10], header: mutateHeader(segment[10].header, { [F.gasUsed]: segment[10].header.gasLimit + 1n }) }
    const result = validateSegment(chain, segment, { header: chain.genesisHeader, totalDifficulty: chain.genesisHeader.difficulty })
    expect(result.validCount).toBe(10)
    expect(result.failure?.number).toBe(11)
    expect(result.failure?.errors.map((e) => e.code)).toContain(HEADER_ERRORS.GAS_USED)
    expect(result.next?.header.number).toBe(10)
  })

  it('a block that does not link to its predecessor fails the parent-hash rule', () => {
    const { chain, blocks } = loadGethChain(GETH_CHAIN)
    const result = validateSegment(chain, [blocks[0], blocks[2]], { header: chain.genesisHeader })
    expect(result.validCount).toBe(1)
    expect(result.failure?.errors.map((e) => e.code)).toEqual(expect.arrayContaining([HEADER_ERRORS.PARENT_HASH, HEADER_ERRORS.NUMBER]))
  })
})

describe('ommer rules (old geth chain, PoW with uncles)', () => {
  const { chain, blocks } = loadGethChain(GETH_OLD_CHAIN)
  const byHash = new Map(blocks.map((b) => [bytesToHex(b.header.hash), b]))
  byHash.set(bytesToHex(chain.genesisHeader.hash), { header: chain.genesisHeader, body: BlockBody.decode(Uint8Array.of(0xc2, 0xc0, 0xc0)) })
  const ancestry = {
    header: (hash: Uint8Array) => byHash.get(bytesToHex(hash))?.header,
    ommerHashes: (hash: Uint8Array) => byHash.get(bytesToHex(hash))?.body.ommers().map((o) => o.hash),
  }
  const withOmmers = blocks.find((b) => b.body.ommerHeadersRaw().length > 0)
  const rebody = (raws: Uint8Array[]) => {
    const body = withOmmers!.body
    return BlockBody.decode(encodeListOfEncoded([rawOf(body.buf, body.txsItem), encodeListOfEncoded(raws)]))
  }
  const check = (body: BlockBody) => {
    const parent = byHash.get(bytesToHex(withOmmers!.header.parentHash))!.header
    return validateBlock(chain, { header: withOmmers!.header, body }, parent, { ancestry }).map((e) => e.code)
  }

  it('the real block with an ommer is valid', () => {
    expect(withOmmers).toBeDefined()
    expect(check(withOmmers!.body)).toEqual([])
  })

  it('rejects a duplicated ommer, more than two ommers, and an ancestor as ommer', () => {
    const ommer = withOmmers!.body.ommerHeadersRaw()[0]
    expect(check(rebody([ommer, ommer]))).toContain(BLOCK_ERRORS.DUPLICATE_OMMER)
    expect(check(rebody([ommer, ommer, ommer]))).toContain(BLOCK_ERRORS.TOO_MANY_OMMERS)
    const grandparent = byHash.get(bytesToHex(byHash.get(bytesToHex(withOmmers!.header.parentHash))!.header.parentHash))!.header
    expect(check(rebody([grandparent.raw]))).toContain(BLOCK_ERRORS.OMMER_IS_ANCESTOR)
  })

  it('an ommer is validated as a header against its own parent', () => {
    const ommer = withOmmers!.body.ommers()[0]
    const bad = mutateHeader(ommer, { [F.gasUsed]: ommer.gasLimit + 1n })
    expect(check(rebody([bad.raw]))).toContain(HEADER_ERRORS.GAS_USED)
  })
})

describe('validateBlock with receipts (real mainnet Cancun block, eth/69 receipts)', () => {
  const mainnet = loadChain('mainnet', { ethash: { mode: 'off' } })
  const block = readPortalBlock(19426587)
  const parent = BlockHeader.decode(hexToBytes(readPortalBlock(19426586).header))
  const header = BlockHeader.decode(hexToBytes(block.header))
  const body = BlockBody.decode(hexToBytes(block.body))

  it('header, body and receipts all verify', () => {
    expect(validateBlock(mainnet, { header, body, receipts: hexToBytes(block.receipts) }, parent)).toEqual([])
  })

  it('collects errors from every part instead of stopping at the first', () => {
    const badHeader = mutateHeader(header, { [F.timestamp]: parent.timestamp })
    const receipts = hexToBytes(block.receipts)
    const truncated = receipts.subarray(0, receipts.length - 1)
    const codes = validateBlock(mainnet, { header: badHeader, body, receipts: truncated }, parent).map((e) => e.code)
    expect(codes).toContain(HEADER_ERRORS.TIMESTAMP)
    expect(codes.some((c) => c.startsWith('RECEIPT'))).toBe(true)
  })
})

describe('reorg detection', () => {
  it('reports a conflict only when the hashes differ', () => {
    const a = hexToBytes('0x' + '11'.repeat(32))
    const b = hexToBytes('0x' + '22'.repeat(32))
    expect(detectConflict(a, Uint8Array.from(a), 100)).toBeUndefined()
    expect(detectConflict(a, b, 100)).toEqual({ number: 100, storedHash: a, newHash: b })
  })
})

import { describe, expect, it } from 'vitest'
import { chainFromGenesis, loadChain } from '../../src/chain/chains.js'
import { GAS_PER_BLOB } from '../../src/chain/forks.js'
import { parseGethGenesis } from '../../src/chain/genesis.js'
import { hexToBytes, utf8ToBytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { encode, encodeListOfEncoded, rawOf } from '../../src/primitives/rlp.js'
import { nextExcessBlobGas } from '../../src/validator/header-fees.js'
import { HEADER_ERRORS, validateHeader } from '../../src/validator/header.js'
import { readPortalBlock } from '../fixtures.js'
import { F, GETH_CHAIN, loadGethChain, mutateHeader } from './header-chain.js'

const { chain, blocks } = loadGethChain(GETH_CHAIN)
/** A Prague block with blobs in its parent (excess blob gas moves), and that parent. */
const index = blocks.findIndex((b, i) => i > 0 && b.header.requestsHash !== undefined && (blocks[i - 1].header.blobGasUsed ?? 0n) > 0n)
const child = blocks[index].header
const parent = blocks[index - 1].header

const codes = (header: BlockHeader, withParent = true) => validateHeader(header, { chain, parent: withParent ? parent : undefined }).map((e) => e.code)

describe('header rules (each rule on a real Prague header from the geth devp2p chain)', () => {
  it('the untouched header is valid, with and without its parent', () => {
    expect(index).toBeGreaterThan(0)
    expect(codes(child)).toEqual([])
    expect(codes(child, false)).toEqual([])
  })

  it.each([
    ['number', { [F.number]: child.number + 1 }, HEADER_ERRORS.NUMBER],
    ['parentHash', { [F.parentHash]: new Uint8Array(32) }, HEADER_ERRORS.PARENT_HASH],
    ['timestamp', { [F.timestamp]: parent.timestamp }, HEADER_ERRORS.TIMESTAMP],
    ['gasLimit above the 1/1024 bound', { [F.gasLimit]: parent.gasLimit + parent.gasLimit / 1024n }, HEADER_ERRORS.GAS_LIMIT_BOUNDS],
    ['baseFee', { [F.baseFee]: (child.baseFeePerGas as bigint) + 1n }, HEADER_ERRORS.BASE_FEE],
    ['excessBlobGas', { [F.excessBlobGas]: (child.excessBlobGas as bigint) + GAS_PER_BLOB }, HEADER_ERRORS.EXCESS_BLOB_GAS],
  ])('parent rule: %s', (_name, change, code) => {
    const header = mutateHeader(child, change)
    expect(codes(header)).toContain(code)
    // Rules that need the parent are skipped without it.
    expect(codes(header, false)).not.toContain(code)
  })

  it.each([
    ['gasUsed > gasLimit', { [F.gasUsed]: child.gasLimit + 1n }, HEADER_ERRORS.GAS_USED],
    ['gasLimit > 2^63-1', { [F.gasLimit]: 1n << 63n }, HEADER_ERRORS.GAS_LIMIT_TOO_HIGH],
    ['gasLimit < 5000', { [F.gasLimit]: 4999n, [F.gasUsed]: 0n }, HEADER_ERRORS.GAS_LIMIT_TOO_LOW],
    ['extraData of 33 bytes after the merge', { [F.extraData]: new Uint8Array(33) }, HEADER_ERRORS.EXTRA_DATA],
    ['post-merge difficulty', { [F.difficulty]: 1n }, HEADER_ERRORS.POS_DIFFICULTY],
    ['post-merge nonce', { [F.nonce]: hexToBytes('0x0000000000000001') }, HEADER_ERRORS.POS_NONCE],
    ['post-merge ommers hash', { [F.ommersHash]: new Uint8Array(32) }, HEADER_ERRORS.POS_OMMERS],
    ['blobGasUsed not a multiple of the blob size', { [F.blobGasUsed]: 1n }, HEADER_ERRORS.BLOB_GAS_USED],
    ['blobGasUsed above the fork maximum', { [F.blobGasUsed]: 10n * GAS_PER_BLOB }, HEADER_ERRORS.BLOB_GAS_USED],
    ['requestsHash missing at Prague', { [F.requestsHash]: null }, HEADER_ERRORS.FIELD_COUNT],
  ])('header rule: %s', (_name, change, code) => {
    expect(codes(mutateHeader(child, change), false)).toContain(code)
  })

  it('a header with one field too many for its fork is rejected', () => {
    const shanghai = blocks.find((b) => b.header.fieldCount === 17)?.header as BlockHeader
    expect(codes(shanghai, false)).toEqual([])
    const extended = BlockHeader.decode(encodeListOfEncoded([...shanghai.fields.map((f) => rawOf(shanghai.raw, f)), encode(0n)]))
    const errors = validateHeader(extended, { chain })
    expect(errors.map((e) => e.code)).toEqual([HEADER_ERRORS.FIELD_COUNT])
    expect(errors[0].message).toContain('unexpected blobGasUsed')
  })

  it('the DAO fork blocks must carry "dao-hard-fork" (mainnet 1,920,000..1,920,009)', () => {
    const mainnet = loadChain('mainnet', { ethash: { mode: 'off' } })
    const real = BlockHeader.decode(hexToBytes(readPortalBlock(14764013).header))
    const legacy = mutateHeader(real, { 15: null })
    const at = (n: number, extra: Uint8Array) => validateHeader(mutateHeader(legacy, { [F.number]: n, [F.extraData]: extra }), { chain: mainnet }).map((e) => e.code)
    expect(at(1_920_000, new Uint8Array(0))).toContain(HEADER_ERRORS.DAO_EXTRA_DATA)
    expect(at(1_920_009, utf8ToBytes('dao-hard-fork'))).not.toContain(HEADER_ERRORS.DAO_EXTRA_DATA)
    expect(at(1_920_010, new Uint8Array(0))).not.toContain(HEADER_ERRORS.DAO_EXTRA_DATA)
  })
})

describe('real mainnet fork-boundary blocks validate against their parents', () => {
  it.each([
    [14764013, 14764013], // London PoW header alone (no parent in the fixtures); real Ethash seal, epoch 492
    [17034869, 17034870], // Shanghai boundary
    [19426586, 19426587], // Cancun boundary (first excessBlobGas)
    [22431083, 22431084], // Prague boundary (first requestsHash)
  ])('%i -> %i', (parentNumber, number) => {
    const mainnet = loadChain('mainnet', { ethash: { mode: 'all' } })
    const header = BlockHeader.decode(hexToBytes(readPortalBlock(number).header))
    const parentHeader = parentNumber === number ? undefined : BlockHeader.decode(hexToBytes(readPortalBlock(parentNumber).header))
    expect(validateHeader(header, { chain: mainnet, parent: parentHeader })).toEqual([])
  })
})

describe('EIP-7918 excess blob gas (go-ethereum TestCalcBlobFeePostOsaka vectors)', () => {
  const bpo = parseGethGenesis({
    config: {
      chainId: 1,
      londonBlock: 0,
      terminalTotalDifficulty: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      osakaTime: 0,
      bpo1Time: 1754836608,
      bpo2Time: 1754934912,
      bpo3Time: 1755033216,
      blobSchedule: {
        cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
        prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
        bpo1: { target: 9, max: 14, baseFeeUpdateFraction: 8832827 },
        bpo2: { target: 14, max: 21, baseFeeUpdateFraction: 13739630 },
        bpo3: { target: 21, max: 32, baseFeeUpdateFraction: 20609697 },
      },
    },
  })
  const bpoChain = chainFromGenesis(bpo, 'bpo-test')
  it.each([
    [5149252n, 1310720n, 30n, 1754904528, 5617366n],
    [19251039n, 2490368n, 50n, 1755033216, 20107103n],
  ])('excess %s, used %s, base fee %s at time %i -> %s', (excess, used, baseFee, time, want) => {
    const parentHeader = mutateHeader(child, { [F.baseFee]: baseFee, [F.blobGasUsed]: used, [F.excessBlobGas]: excess })
    const rules = bpoChain.rulesAt(10, time)
    expect(nextExcessBlobGas(parentHeader, rules.blob!, rules.isActive('osaka'))).toBe(want)
  })
})

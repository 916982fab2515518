import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../src/errors.js'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { BLOOM_BYTES, BloomCache, bloomAdd, bloomCacheKey, decodeBlockReceipts, encodeReceiptsEth68, encodeReceiptsEth69, isEth69ReceiptList, logsBloom } from '../../src/primitives/receipt.js'
import { encode } from '../../src/primitives/rlp.js'

const log = (i: number) => [new Uint8Array(20).fill(i), [new Uint8Array(32).fill(i), new Uint8Array(32).fill(i + 1)], Uint8Array.of(i)]
const ROOT = new Uint8Array(32).fill(7)

describe('receipts of every form', () => {
  it('round-trips typed receipts of types 0-4 and pre-Byzantium state roots between eth/69 and eth/68', () => {
    const eth69 = encode([
      [0, ROOT, 21_000n, [log(1)]],
      [0, 1, 42_000n, []],
      [1, 0, 63_000n, [log(2), log(3)]],
      [2, 1, 84_000n, [log(4)]],
      [3, 1, 105_000n, []],
      [4, 1, 126_000n, [log(5)]],
    ])
    const receipts = decodeBlockReceipts(eth69)
    expect(receipts.map((r) => [r.encoding, r.type, r.hasStatus])).toEqual([
      ['eth69', 0, false],
      ['eth69', 0, true],
      ['eth69', 1, true],
      ['eth69', 2, true],
      ['eth69', 3, true],
      ['eth69', 4, true],
    ])
    const eth68 = decodeBlockReceipts(encodeReceiptsEth68(receipts))
    expect(eth68.map((r) => [r.encoding, r.type, r.cumulativeGasUsed])).toEqual(receipts.map((r) => ['eth68', r.type, r.cumulativeGasUsed]))
    // Consensus encodings agree: typed ones start with their type byte, legacy ones are lists.
    expect(eth68.map((r) => bytesToHex(r.consensusEncoding()))).toEqual(receipts.map((r) => bytesToHex(r.consensusEncoding())))
    expect(eth68.slice(2).map((r) => r.consensusEncoding()[0])).toEqual([1, 2, 3, 4])
    expect(eth68.slice(0, 2).every((r) => r.consensusEncoding()[0] >= 0xc0)).toBe(true)
    expect(bytesToHex(encodeReceiptsEth69(eth68))).toBe(bytesToHex(eth69))
    // The store's shape test: eth/69 lists pass as they are, any eth/68 receipt (legacy or typed) does not.
    expect(isEth69ReceiptList(eth69)).toBe(true)
    expect(isEth69ReceiptList(encode([]))).toBe(true)
    expect(isEth69ReceiptList(encodeReceiptsEth68(receipts))).toBe(false)
    expect(isEth69ReceiptList(encodeReceiptsEth68(receipts.slice(2, 3)))).toBe(false)
    expect(isEth69ReceiptList(encodeReceiptsEth68(receipts.slice(1, 2)))).toBe(false)
    // Built into one shared buffer (as a block's receipt check does) they are the same bytes.
    const sizes = receipts.map((r) => r.builtEncodingSize())
    const shared = new Uint8Array(sizes.reduce((a, b) => a + b, 0) + 2).fill(0xee)
    let at = 1
    for (const r of receipts) {
      const end = r.writeConsensusEncoding(shared, at, r.computeBloom(undefined, new Uint8Array(BLOOM_BYTES).fill(0xff)))
      expect(bytesToHex(shared.subarray(at, end))).toBe(bytesToHex(r.consensusEncoding()))
      at = end
    }
    expect([shared[0], at, shared[at]]).toEqual([0xee, shared.length - 1, 0xee])
    // eth/68 receipts keep the bytes received: nothing to build.
    expect(eth68.map((r) => r.builtEncodingSize())).toEqual([0, 0, 0, 0, 0, 0])
    expect(() => eth68[0].writeConsensusEncoding(shared, 0, ROOT)).toThrow(RangeError)
  })

  it('computes the same bloom with and without the per-block cache', () => {
    const receipts = decodeBlockReceipts(encode([[2, 1, 21_000n, [log(1), log(1), log(2)]]]))
    const cache = new BloomCache(2)
    const logs = receipts[0].logs()
    const plain = logsBloom(logs)
    expect(bytesToHex(logsBloom(logs, cache))).toBe(bytesToHex(plain))
    expect(bytesToHex(logsBloom(logs, cache))).toBe(bytesToHex(plain)) // served from the cache, which stays bounded
    expect(plain.some((b) => b !== 0)).toBe(true)
  })

  it('never serves the bloom bits of another entry whose cache key collides', () => {
    // The key reads the first 8 bytes: entries that differ only after them collide.
    const pair: [Uint8Array, Uint8Array] = [new Uint8Array(20).fill(5), new Uint8Array(20).fill(5)]
    pair[1][19] = 6
    expect(bloomCacheKey(pair[0])).toBe(bloomCacheKey(pair[1]))
    // Short entries (not addresses or topics) mix every byte.
    expect(bloomCacheKey(Uint8Array.of(1, 2))).not.toBe(bloomCacheKey(Uint8Array.of(2, 1)))
    const cache = new BloomCache()
    for (const entry of [...pair, ...pair]) {
      const cached = new Uint8Array(BLOOM_BYTES)
      const plain = new Uint8Array(BLOOM_BYTES)
      cache.add(cached, entry)
      bloomAdd(plain, entry)
      expect(bytesToHex(cached)).toBe(bytesToHex(plain))
    }
  })

  it('checks logs the same way when computing a bloom as when decoding them', () => {
    const a20 = new Uint8Array(20)
    const t32 = new Uint8Array(32)
    const badLogs = [
      [a20, [t32], new Uint8Array(0), new Uint8Array(0)], // four fields
      [a20, [t32]], // two fields
      [new Uint8Array(19), [t32], new Uint8Array(0)], // short address
      [a20, t32, new Uint8Array(0)], // topics not a list
      [a20, [new Uint8Array(31)], new Uint8Array(0)], // short topic
      [a20, [t32], [new Uint8Array(0)]], // data is a list
      a20, // a log that is not a list
    ]
    for (const bad of badLogs) {
      const [receipt] = decodeBlockReceipts(encode([[2, 1, 21_000n, [bad]]]))
      const codeOf = (f: () => unknown) => {
        try {
          f()
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError)
          return (err as DecodeError).code
        }
        return 'no error'
      }
      expect(codeOf(() => receipt.computeBloom())).toBe(codeOf(() => receipt.logs()))
      expect(codeOf(() => receipt.computeBloom())).not.toBe('no error')
    }
  })

  it('rejects malformed receipts with typed decode errors', () => {
    const bad = [
      encode([[0, Uint8Array.of(2), 21_000n, []]]), // status 2
      encode([[0, new Uint8Array(31), 21_000n, []]]), // 31-byte root
      encode([Uint8Array.of(0x80, 0xc0)]), // typed envelope starting with 0x80
      encode([[0, 1, 21_000n]]), // three fields
      encode([[0, 1, 21_000n, Uint8Array.of(1)]]), // logs not a list
      encode([[0, 1, new Uint8Array(9).fill(1), []]]), // cumulative gas above 64 bits
    ]
    for (const raw of bad) expect(() => decodeBlockReceipts(raw)).toThrow(DecodeError)
    // A malformed log is found when the logs are read (bloom, validation), still as a DecodeError.
    const lazy = decodeBlockReceipts(encode([[2, 1, 21_000n, [[new Uint8Array(20), [new Uint8Array(31)], new Uint8Array(0)]]]]))
    expect(() => lazy[0].computeBloom()).toThrow(DecodeError)
  })
})

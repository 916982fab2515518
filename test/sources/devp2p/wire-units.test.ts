/** Unit tests of the devp2p building blocks: eth messages, bounded snappy, enode URLs, rate tracking. */
import { randomBytes } from 'node:crypto'
import { MAC } from '@ethereumjs/devp2p'
import { RLP } from '@ethereumjs/rlp'
import { compress, uncompress } from 'snappyjs'
import { describe, expect, it } from 'vitest'
import { DecodeError, SourceError } from '../../../src/errors.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../../src/primitives/bytes.js'
import { encode, Encoded } from '../../../src/primitives/rlp.js'
import { formatEnode, parseEnode } from '../../../src/sources/devp2p/enode.js'
import { Devp2pErrorCode } from '../../../src/sources/devp2p/errors.js'
import {
  decodeBlockRangeUpdate,
  decodeGetBlockHeaders,
  decodeHashesRequest,
  decodeNewBlock,
  decodeNewBlockHashes,
  decodeResponseEnvelope,
  decodeStatus,
  encodeGetBlockHeaders,
  encodeHashesRequest,
  encodeResponse,
  encodeStatus,
  EthCode,
  isEthMessage,
  responseItems,
  type EthStatus,
} from '../../../src/sources/devp2p/messages.js'
import { FrameMac } from '../../../src/sources/devp2p/mac.js'
import { DEFAULT_RATE_SETTINGS, RateTracker, RateTrackers } from '../../../src/sources/devp2p/rate.js'
import { snappyCompress, snappyDecompress, snappyDeclaredLength, snappyMaxCompressedLength } from '../../../src/sources/devp2p/snappy.js'
import { testChain } from '../../helpers/devp2p-server.js'

const h32 = (b: number) => new Uint8Array(32).fill(b)
const forkId = { hash: hexToBytes('0xfc64ec04'), next: 1150000n }

describe('eth messages', () => {
  it('encodes Status as the library and geth do for eth/68, and the EIP-7642 layout for eth/69', () => {
    const s68: EthStatus = { version: 68, networkId: 1n, totalDifficulty: 17n, headHash: h32(1), genesisHash: h32(2), forkId }
    expect(RLP.decode(encodeStatus(s68))).toEqual([
      Uint8Array.of(68), Uint8Array.of(1), Uint8Array.of(17), h32(1), h32(2), [forkId.hash, hexToBytes('0x118c30')],
    ])
    expect(decodeStatus(encodeStatus(s68), 68)).toEqual(s68)
    const s69: EthStatus = { version: 69, networkId: 1n, genesisHash: h32(2), forkId, earliestBlock: 10, headNumber: 99, headHash: h32(1) }
    expect(RLP.decode(encodeStatus(s69))).toEqual([Uint8Array.of(69), Uint8Array.of(1), h32(2), [forkId.hash, hexToBytes('0x118c30')], Uint8Array.of(10), Uint8Array.of(99), h32(1)])
    expect(decodeStatus(encodeStatus(s69), 69)).toEqual(s69)
  })

  it('rejects a Status of another version, a reversed block range or a malformed fork id; tolerates extra fields', () => {
    const s69: EthStatus = { version: 69, networkId: 1n, genesisHash: h32(2), forkId, earliestBlock: 100, headNumber: 99, headHash: h32(1) }
    expect(() => decodeStatus(encodeStatus(s69), 68)).toThrow(expect.objectContaining({ code: 'ETH_STATUS_VERSION' }))
    expect(() => decodeStatus(encodeStatus(s69), 69)).toThrow(expect.objectContaining({ code: 'ETH_BAD_STATUS' }))
    const badFork = encode([68, 1, 0, h32(1), h32(2), [Uint8Array.of(1, 2), 0]])
    expect(() => decodeStatus(badFork, 68)).toThrow(DecodeError)
    const extra = encode([68, 1, 0, h32(1), h32(2), [forkId.hash, 0], Uint8Array.of(7)])
    expect(decodeStatus(extra, 68).headHash).toEqual(h32(1))
  })

  it('round-trips header queries by number and by hash, and rejects a bad reverse flag', () => {
    const byNumber = { origin: 1000, amount: 192, skip: 3, reverse: true }
    expect(decodeGetBlockHeaders(encodeGetBlockHeaders(7n, byNumber))).toEqual({ reqId: 7n, query: byNumber })
    const byHash = { origin: h32(9), amount: 1, skip: 0, reverse: false }
    expect(decodeGetBlockHeaders(encodeGetBlockHeaders(2n ** 63n, byHash))).toEqual({ reqId: 2n ** 63n, query: byHash })
    expect(() => decodeGetBlockHeaders(encode([1, [5, 1, 0, 2]]))).toThrow(expect.objectContaining({ code: 'ETH_BAD_HEADERS_QUERY' }))
  })

  it('reads at most the served number of hashes from a request and checks their size', () => {
    const hashes = Array.from({ length: 2000 }, (_, i) => h32(i % 256))
    const { reqId, hashes: read } = decodeHashesRequest(encodeHashesRequest(5n, hashes), 1024)
    expect(reqId).toBe(5n)
    expect(read).toHaveLength(1024)
    expect(() => decodeHashesRequest(encode([1, [Uint8Array.of(1, 2, 3)]]), 10)).toThrow(expect.objectContaining({ code: 'RLP_WRONG_SIZE' }))
  })

  it('returns response items as slices of the message, bounded by what was asked and shape-checked', () => {
    const { hiveHeaders, portal } = testChain()
    const msg = encodeResponse(3n, hiveHeaders.slice(0, 5).map((h) => h.raw))
    const env = decodeResponseEnvelope(msg)
    const items = responseItems(msg, env.items, 'headers', 5)
    expect(items.map(bytesToHex)).toEqual(hiveHeaders.slice(0, 5).map((h) => bytesToHex(h.raw)))
    expect(items[0].buffer).toBe(msg.buffer)
    expect(() => responseItems(msg, env.items, 'headers', 4)).toThrow(expect.objectContaining({ code: 'RLP_TOO_MANY_ITEMS' }))
    const notAList = encode([1, [Uint8Array.of(1, 2)]])
    expect(() => responseItems(notAList, decodeResponseEnvelope(notAList).items, 'headers', 1)).toThrow(expect.objectContaining({ code: 'ETH_BAD_RESPONSE_ITEM' }))
    const oneField = encode([1, [[[]]]])
    expect(() => responseItems(oneField, decodeResponseEnvelope(oneField).items, 'bodies', 1)).toThrow(expect.objectContaining({ code: 'ETH_BAD_BODY' }))
    const bodies = encodeResponse(1n, [portal[0].body])
    expect(responseItems(bodies, decodeResponseEnvelope(bodies).items, 'bodies', 1)).toEqual([portal[0].body])
  })

  it('knows which messages each version has', () => {
    expect(isEthMessage(68, EthCode.NewBlock)).toBe(true)
    expect(isEthMessage(69, EthCode.NewBlock)).toBe(false)
    expect(isEthMessage(69, EthCode.NewBlockHashes)).toBe(false)
    expect(isEthMessage(68, EthCode.BlockRangeUpdate)).toBe(false)
    expect(isEthMessage(69, EthCode.BlockRangeUpdate)).toBe(true)
    expect(isEthMessage(66, EthCode.GetNodeData)).toBe(true)
    expect(isEthMessage(67, EthCode.GetNodeData)).toBe(false)
    expect(isEthMessage(68, 0x0b)).toBe(false)
  })

  it('decodes announcements: the highest NewBlockHashes entry, NewBlock header hash and number, block ranges', () => {
    expect(decodeNewBlockHashes(encode([[h32(1), 5], [h32(2), 9], [h32(3), 7]]))).toEqual({ hash: h32(2), number: 9 })
    const { portal } = testChain()
    const block = encode([new Encoded(portal[0].header.raw), [], []])
    expect(decodeNewBlock(encode([new Encoded(block), 123n]))).toEqual({ hash: portal[0].header.hash, number: portal[0].header.number, totalDifficulty: 123n })
    expect(decodeBlockRangeUpdate(encode([1, 2, h32(4)]))).toEqual({ earliest: 1, latest: 2, latestHash: h32(4) })
    expect(() => decodeBlockRangeUpdate(encode([3, 2, h32(4)]))).toThrow(expect.objectContaining({ code: 'ETH_BAD_RANGE_UPDATE' }))
  })
})

describe('bounded snappy', () => {
  it('reads the declared length and decompresses within the limit', () => {
    const data = new Uint8Array(100_000).fill(7)
    const packed = compress(data)
    expect(snappyDeclaredLength(packed)).toBe(100_000)
    expect(snappyDecompress(packed, 100_000)).toEqual(data)
  })

  it('refuses a stream declaring more than the limit before allocating anything', () => {
    // Declares 4 GiB - 1 in five varint bytes, followed by junk.
    const forged = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3)
    expect(snappyDeclaredLength(forged)).toBe(0xffffffff)
    expect(() => snappyDecompress(forged, 10 * 1024 * 1024)).toThrow(expect.objectContaining({ code: Devp2pErrorCode.MessageTooLarge }))
    expect(() => snappyDecompress(compress(new Uint8Array(1001)), 1000)).toThrow(SourceError)
  })

  it('reports malformed streams as invalid messages', () => {
    expect(() => snappyDecompress(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80), 100)).toThrow(expect.objectContaining({ code: Devp2pErrorCode.InvalidMessage }))
    const truncated = compress(new Uint8Array(5000).map((_, i) => i * 7)).subarray(0, 50)
    expect(() => snappyDecompress(truncated, 10_000)).toThrow(expect.objectContaining({ code: Devp2pErrorCode.InvalidMessage }))
  })
})

/** Inputs that exercise every literal length form, copy length and offset form, and several 64 KiB fragments. */
function snappyInputs(): Uint8Array[] {
  let seed = 1
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff
  return [0, 1, 15, 16, 17, 59, 60, 61, 255, 256, 4099, 65_536, 70_000, 300_000].flatMap((n) => [
    new Uint8Array(n).map(random), // incompressible: literals of every length form
    new Uint8Array(n).map((_, i) => (i % 97 < 40 ? random() : i % 7)), // hash-like runs between repeats
    new Uint8Array(n).map((_, i) => (i % 3000 < 2500 ? random() : (i * 13) & 0xff)), // repeats 3000 bytes back: 2-byte offsets
    new Uint8Array(n).fill(9), // one overlapping copy after another
  ])
}

describe('snappy compression', () => {
  it('round-trips through snappyjs and the strict decompressor, in all at most 1 % larger than snappyjs', () => {
    let ours = 0
    let theirs = 0
    for (const data of snappyInputs()) {
      const packed = snappyCompress(data)
      ours += packed.length
      theirs += compress(data).length
      expect(packed.length).toBeLessThanOrEqual(snappyMaxCompressedLength(data.length))
      expect(snappyDeclaredLength(packed)).toBe(data.length)
      expect(snappyDecompress(packed, data.length)).toEqual(data)
      expect(new Uint8Array(uncompress(packed))).toEqual(data)
    }
    expect(ours).toBeLessThanOrEqual(theirs * 1.01)
  })

  it('reads an input that starts at an offset in its buffer', () => {
    const backing = new Uint8Array(10_000).map((_, i) => (i * 31) % 251)
    const data = backing.subarray(123, 9_000)
    const packed = snappyCompress(data)
    expect(packed).toEqual(snappyCompress(data.slice()))
    expect(snappyDecompress(packed, data.length)).toEqual(data)
  })
})

describe('snappy decompression', () => {
  const invalid = expect.objectContaining({ code: Devp2pErrorCode.InvalidMessage })

  it('decodes what snappyjs compresses: long and short literals, every copy length, up to several 64 KiB blocks', () => {
    for (const data of snappyInputs()) expect(snappyDecompress(compress(data), data.length)).toEqual(data)
  })

  it('handles the copy forms snappyjs does not emit (2-byte and 4-byte offsets) and overlapping copies', () => {
    const ab = [0x04, 0x61, 0x62] // literal "ab"
    expect(snappyDecompress(Uint8Array.of(6, ...ab, 0x01, 0x02), 6)).toEqual(utf8ToBytes('ababab')) // 1-byte offset, overlapping
    expect(snappyDecompress(Uint8Array.of(5, ...ab, (2 << 2) | 2, 0x02, 0x00), 5)).toEqual(utf8ToBytes('ababa')) // 2-byte offset
    expect(snappyDecompress(Uint8Array.of(6, ...ab, (3 << 2) | 3, 0x02, 0, 0, 0), 6)).toEqual(utf8ToBytes('ababab')) // 4-byte offset
  })

  it('rejects streams whose copies or literals leave the buffers, or that produce another length than declared', () => {
    const ab = [0x04, 0x61, 0x62]
    expect(() => snappyDecompress(Uint8Array.of(6, ...ab, 0x01, 0x00), 6)).toThrow(invalid) // offset 0
    expect(() => snappyDecompress(Uint8Array.of(6, ...ab, 0x01, 0x03), 6)).toThrow(invalid) // before the start
    expect(() => snappyDecompress(Uint8Array.of(5, ...ab, 0x01, 0x02), 5)).toThrow(invalid) // copy past the declared end
    expect(() => snappyDecompress(Uint8Array.of(1, ...ab), 10)).toThrow(invalid) // literal past the declared end
    expect(() => snappyDecompress(Uint8Array.of(4, 0x0c, 0x61, 0x62), 10)).toThrow(invalid) // literal past the input
    expect(() => snappyDecompress(Uint8Array.of(9, ...ab, 0x01, 0x02), 10)).toThrow(invalid) // 6 bytes for 9 declared
    expect(() => snappyDecompress(Uint8Array.of(100, 0xf4, 0x10), 1000)).toThrow(invalid) // literal length bytes missing
    expect(() => snappyDecompress(Uint8Array.of(6, ...ab, 0x0e, 0x02), 6)).toThrow(invalid) // truncated 2-byte offset
  })
})

describe('RLPx frame MAC on WASM keccak', () => {
  it('produces the same digests as the library MAC over a sequence of frames', () => {
    const secret = new Uint8Array(randomBytes(32))
    const initial = new Uint8Array(randomBytes(200))
    const ours = new FrameMac(secret, initial)
    const theirs = new MAC(secret)
    theirs.update(initial)
    for (const size of [16, 1024, 0, 300_000, 48]) {
      const header = new Uint8Array(randomBytes(16))
      const body = new Uint8Array(randomBytes(size))
      ours.updateHeader(header)
      theirs.updateHeader(header)
      expect(ours.digest()).toEqual(theirs.digest())
      ours.updateBody(body)
      theirs.updateBody(body)
      expect(ours.digest()).toEqual(theirs.digest())
    }
  })
})

describe('enode URLs', () => {
  const id = 'a'.repeat(128)
  it('parses host, TCP port and discovery port, and formats them back', () => {
    expect(parseEnode(`enode://${id}@127.0.0.1:30303`)).toMatchObject({ host: '127.0.0.1', tcpPort: 30303, udpPort: 30303 })
    const e = parseEnode(`enode://${id}@[::1]:30303?discport=30301`)
    expect(e).toMatchObject({ host: '::1', tcpPort: 30303, udpPort: 30301 })
    expect(formatEnode(e)).toBe(`enode://${id}@[::1]:30303?discport=30301`)
  })

  it.each([`enode://${id.slice(2)}@127.0.0.1:30303`, `enode://${id}@127.0.0.1:0`, `enode://${id}@127.0.0.1:70000`, `enode://${id}@127.0.0.1`, 'http://x'])('rejects %s', (url) => {
    expect(() => parseEnode(url)).toThrow(expect.objectContaining({ code: 'BAD_ENODE' }))
  })
})

describe('rate tracking', () => {
  const settings = DEFAULT_RATE_SETTINGS

  it('starts from the initial sizes, then sizes by throughput x target RTT within the spec limits', () => {
    const t = new RateTracker(settings)
    expect(t.capacity('bodies', 1000)).toBe(16)
    t.update('bodies', 1000, 40, 40 * 1000) // 40 bodies/s of 1 kB
    expect(t.capacity('bodies', 1000)).toBe(Math.ceil(1.01 * 40))
    expect(t.capacity('bodies', 2000)).toBe(Math.ceil(1.01 * 80))
    t.update('bodies', 10, 100, 100 * 1000) // very fast: capped at 128
    expect(t.capacity('bodies', 1000)).toBe(128)
  })

  it('keeps a response within the byte budget', () => {
    const t = new RateTracker(settings)
    t.update('receipts', 100, 10, 10 * 500_000) // half a megabyte per block
    expect(t.capacity('receipts', 1000)).toBe(4) // 2 MiB / 500 kB
  })

  it('leaves estimates alone on empty answers, halves throughput on timeouts', () => {
    const t = new RateTracker(settings)
    t.update('headers', 1000, 100, 60_000)
    const before = t.capacity('headers', 1000)
    t.update('headers', 5000, 0, 10)
    expect(t.capacity('headers', 1000)).toBe(before)
    t.timedOut('headers')
    expect(t.capacity('headers', 1000)).toBe(Math.ceil(1.01 * 50))
  })

  it('times requests out at a multiple of the longer of target RTT and expected duration, clamped', () => {
    const t = new RateTracker(settings)
    expect(t.timeoutMs('bodies', 10, 1000)).toBe(5000) // 3 s, raised to the 5 s floor
    t.update('bodies', 1000, 10, 10_000) // 10 bodies/s
    expect(t.timeoutMs('bodies', 100, 1000)).toBe(30_000) // 10 s expected x 3
    expect(t.timeoutMs('bodies', 1000, 1000)).toBe(60_000) // clamped
  })

  it('targets the median peer RTT and seeds new peers with the mean throughput', () => {
    const pool = new RateTrackers(settings)
    const rtts = [1500, 3000, 40_000]
    for (const rtt of rtts) {
      const t = new RateTracker(settings)
      t.update('headers', rtt, 192, 192 * 600)
      pool.track(t)
    }
    expect(pool.targetRttMs()).toBe(3000)
    const mean = (192 / 1.5 + 192 / 3 + 192 / 40) / 3
    expect(pool.meanThroughput('headers')).toBeCloseTo(mean)
    expect(new RateTracker(settings).capacity('headers', 3000, pool.meanThroughput('headers'))).toBe(Math.min(192, Math.ceil(1.01 * mean * 3)))
  })
})

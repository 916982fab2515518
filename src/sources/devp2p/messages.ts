/**
 * The `eth` wire protocol's messages (eth/66-69), encoded with the project's RLP and decoded
 * zero-copy: response items are returned as slices of the received message, so the validator hashes
 * exactly the bytes the peer sent. Every list read from a peer is bounded before it is walked.
 *
 * eth/69 (EIP-7642) differs from eth/68 in three places handled here: Status carries the served block
 * range instead of total difficulty and best hash, BlockRangeUpdate (0x11) is new, and NewBlock /
 * NewBlockHashes are gone. Its receipts drop the bloom; that is a per-receipt matter for
 * `primitives/receipt.ts`, the message envelope is the same.
 */
import { DecodeError } from '../../errors.js'
import type { Bytes } from '../../primitives/bytes.js'
import { keccak256 } from '../../primitives/keccak.js'
import type { RequestKind } from '../types.js'
import {
  bigIntOf,
  decodeItem,
  encode,
  encodeListOfEncoded,
  Encoded,
  fixedOf,
  listItems,
  numberOf,
  rawOf,
  readItem,
  stringOf,
  type RlpItem,
} from '../../primitives/rlp.js'

export type EthVersion = 66 | 67 | 68 | 69

/** Highest first: the negotiation picks the highest version both sides offer. */
export const ETH_VERSIONS: readonly EthVersion[] = [69, 68, 67, 66]

export const EthCode = {
  Status: 0x00,
  NewBlockHashes: 0x01,
  Transactions: 0x02,
  GetBlockHeaders: 0x03,
  BlockHeaders: 0x04,
  GetBlockBodies: 0x05,
  BlockBodies: 0x06,
  NewBlock: 0x07,
  NewPooledTransactionHashes: 0x08,
  GetPooledTransactions: 0x09,
  PooledTransactions: 0x0a,
  GetNodeData: 0x0d,
  NodeData: 0x0e,
  GetReceipts: 0x0f,
  Receipts: 0x10,
  BlockRangeUpdate: 0x11,
} as const

export type EthCodeValue = (typeof EthCode)[keyof typeof EthCode]

const CODE_NAMES = new Map<number, string>(Object.entries(EthCode).map(([name, code]) => [code, name]))

export function ethCodeName(code: number): string {
  return CODE_NAMES.get(code) ?? `0x${code.toString(16)}`
}

/** Number of message ids the version reserves (the RLPx capability length). */
export function protocolLength(version: EthVersion): number {
  return version >= 69 ? 18 : 17
}

/** Whether `code` is a message of this protocol version (undefined codes are protocol violations). */
export function isEthMessage(version: EthVersion, code: number): boolean {
  if (!CODE_NAMES.has(code)) return false
  if (code === EthCode.GetNodeData || code === EthCode.NodeData) return version === 66
  if (code === EthCode.NewBlock || code === EthCode.NewBlockHashes) return version < 69
  if (code === EthCode.BlockRangeUpdate) return version >= 69
  return true
}

export type { RequestKind }
export const REQUEST_KINDS: readonly RequestKind[] = ['headers', 'bodies', 'receipts']

export const REQUEST_CODES: Record<RequestKind, { request: number; response: number }> = {
  headers: { request: EthCode.GetBlockHeaders, response: EthCode.BlockHeaders },
  bodies: { request: EthCode.GetBlockBodies, response: EthCode.BlockBodies },
  receipts: { request: EthCode.GetReceipts, response: EthCode.Receipts },
}

export interface ForkId {
  /** CRC32 of the genesis hash and passed forks, 4 bytes. */
  hash: Bytes
  /** Next fork block or timestamp, 0 if none is scheduled. */
  next: bigint
}

export interface EthStatus {
  version: EthVersion
  networkId: bigint
  genesisHash: Bytes
  forkId: ForkId
  /** Head block hash: eth/66-68 `bestHash`, eth/69 `latestBlockHash`. */
  headHash: Bytes
  /** Head block number: only eth/69 carries it. */
  headNumber?: number
  /** eth/66-68 only. */
  totalDifficulty?: bigint
  /** eth/69: the oldest block the node serves. */
  earliestBlock?: number
}

const MAX_STATUS_FIELDS = 16

function fail(code: string, message: string): never {
  throw new DecodeError(code, message)
}

function decodeForkId(buf: Bytes, item: RlpItem): ForkId {
  const f = listItems(buf, item, 4)
  if (f.length < 2) fail('ETH_BAD_FORK_ID', 'fork id must be [hash, next]')
  return { hash: fixedOf(buf, f[0], 4, 'fork hash'), next: bigIntOf(buf, f[1], 'fork next', 8) }
}

export function encodeStatus(s: EthStatus): Bytes {
  const forkId = [s.forkId.hash, s.forkId.next]
  if (s.version >= 69) {
    if (s.headNumber === undefined) throw new RangeError('eth/69 status needs the head number')
    return encode([s.version, s.networkId, s.genesisHash, forkId, s.earliestBlock ?? s.headNumber, s.headNumber, s.headHash])
  }
  return encode([s.version, s.networkId, s.totalDifficulty ?? 0n, s.headHash, s.genesisHash, forkId])
}

/** Decodes a Status message of the negotiated version; extra trailing fields are ignored (EIP-8 style). */
export function decodeStatus(buf: Bytes, version: EthVersion): EthStatus {
  const f = listItems(buf, decodeItem(buf), MAX_STATUS_FIELDS)
  if (f.length === 0) fail('ETH_BAD_STATUS', 'empty status')
  const announced = numberOf(buf, f[0], 'status version')
  if (announced !== version) fail('ETH_STATUS_VERSION', `status announces eth/${announced}, negotiated eth/${version}`)
  const networkId = (i: number) => bigIntOf(buf, f[i], 'network id', 8)
  if (version >= 69) {
    if (f.length < 7) fail('ETH_BAD_STATUS', `eth/69 status has ${f.length} fields, expected 7`)
    const earliestBlock = numberOf(buf, f[4], 'earliest block')
    const headNumber = numberOf(buf, f[5], 'latest block')
    if (earliestBlock > headNumber) fail('ETH_BAD_STATUS', `earliest block ${earliestBlock} is above latest ${headNumber}`)
    return {
      version,
      networkId: networkId(1),
      genesisHash: fixedOf(buf, f[2], 32, 'genesis hash'),
      forkId: decodeForkId(buf, f[3]),
      earliestBlock,
      headNumber,
      headHash: fixedOf(buf, f[6], 32, 'latest block hash'),
    }
  }
  if (f.length < 6) fail('ETH_BAD_STATUS', `eth/${version} status has ${f.length} fields, expected 6`)
  return {
    version,
    networkId: networkId(1),
    totalDifficulty: bigIntOf(buf, f[2], 'total difficulty', 32),
    headHash: fixedOf(buf, f[3], 32, 'best hash'),
    genesisHash: fixedOf(buf, f[4], 32, 'genesis hash'),
    forkId: decodeForkId(buf, f[5]),
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface HeadersQuery {
  /** First block, by number or hash. */
  origin: number | Bytes
  amount: number
  skip: number
  reverse: boolean
}

export function encodeGetBlockHeaders(reqId: bigint, q: HeadersQuery): Bytes {
  return encode([reqId, [q.origin, q.amount, q.skip, q.reverse ? 1 : 0]])
}

function requestEnvelope(buf: Bytes): { reqId: bigint; body: RlpItem } {
  const f = listItems(buf, decodeItem(buf), 2)
  if (f.length !== 2) fail('ETH_BAD_ENVELOPE', 'message must be [request-id, payload]')
  return { reqId: bigIntOf(buf, f[0], 'request id', 8), body: f[1] }
}

export function decodeGetBlockHeaders(buf: Bytes): { reqId: bigint; query: HeadersQuery } {
  const { reqId, body } = requestEnvelope(buf)
  const f = listItems(buf, body, 4)
  if (f.length !== 4) fail('ETH_BAD_HEADERS_QUERY', 'query must be [origin, amount, skip, reverse]')
  const originRaw = stringOf(buf, f[0])
  const origin = originRaw.length === 32 ? originRaw : numberOf(buf, f[0], 'origin')
  const reverse = bigIntOf(buf, f[3], 'reverse', 1)
  if (reverse > 1n) fail('ETH_BAD_HEADERS_QUERY', 'reverse must be 0 or 1')
  // Amount and skip are uint64 on the wire; anything above 2^53 cannot be served anyway.
  const clampU64 = (item: RlpItem, what: string) => {
    const v = bigIntOf(buf, item, what, 8)
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)
  }
  return { reqId, query: { origin, amount: clampU64(f[1], 'amount'), skip: clampU64(f[2], 'skip'), reverse: reverse === 1n } }
}

/** GetBlockBodies, GetReceipts, GetPooledTransactions: [request-id, [hash, ...]]. */
export function encodeHashesRequest(reqId: bigint, hashes: readonly Bytes[]): Bytes {
  return encode([reqId, hashes])
}

export function decodeHashesRequest(buf: Bytes, maxHashes: number): { reqId: bigint; hashes: Bytes[] } {
  const { reqId, body } = requestEnvelope(buf)
  // A peer may ask for more than we serve; read only what we will answer, the rest is ignored.
  const hashes: Bytes[] = []
  if (!body.list) fail('ETH_BAD_HASHES', 'hash list expected')
  let pos = body.start
  while (pos < body.end && hashes.length < maxHashes) {
    const item = readItem(buf, pos, body.end)
    hashes.push(fixedOf(buf, item, 32, 'block hash'))
    pos = item.end
  }
  return { reqId, hashes }
}

// ---------------------------------------------------------------------------------------------
// Responses

/** [request-id, [item, ...]] with items already RLP-encoded (spliced in verbatim). */
export function encodeResponse(reqId: bigint, items: readonly Bytes[]): Bytes {
  return encode([reqId, new Encoded(encodeListOfEncoded(items))])
}

export interface ResponseEnvelope {
  reqId: bigint
  /** The items list (not yet walked: the caller bounds it by what it asked for). */
  items: RlpItem
}

export function decodeResponseEnvelope(buf: Bytes): ResponseEnvelope {
  const { reqId, body } = requestEnvelope(buf)
  if (!body.list) fail('ETH_BAD_RESPONSE', 'response items must be a list')
  return { reqId, items: body }
}

/**
 * Splits a response's items, at most `maxItems` (more than was asked is a protocol violation), checks
 * their outer shape for the kind, and returns each item's raw RLP as a slice of `buf`.
 */
export function responseItems(buf: Bytes, items: RlpItem, kind: RequestKind, maxItems: number): Bytes[] {
  const children = listItems(buf, items, maxItems)
  return children.map((item) => {
    if (!item.list) fail('ETH_BAD_RESPONSE_ITEM', `${kind} item must be a list`)
    if (kind === 'bodies') checkBodyShape(buf, item)
    return rawOf(buf, item)
  })
}

function checkBodyShape(buf: Bytes, item: RlpItem): void {
  const parts = listItems(buf, item, 3)
  if (parts.length < 2) fail('ETH_BAD_BODY', `body has ${parts.length} fields, expected 2 or 3`)
  for (const p of parts) if (!p.list) fail('ETH_BAD_BODY', 'body fields must be lists')
}

// ---------------------------------------------------------------------------------------------
// Announcements

export interface AnnouncedHead {
  hash: Bytes
  number: number
  totalDifficulty?: bigint
}

const MAX_ANNOUNCED_HASHES = 4096

/** NewBlockHashes [[hash, number], ...]: the highest announced block. */
export function decodeNewBlockHashes(buf: Bytes): AnnouncedHead | undefined {
  let best: AnnouncedHead | undefined
  for (const entry of listItems(buf, decodeItem(buf), MAX_ANNOUNCED_HASHES)) {
    const f = listItems(buf, entry, 2)
    if (f.length !== 2) fail('ETH_BAD_ANNOUNCEMENT', 'announcement must be [hash, number]')
    const number = numberOf(buf, f[1], 'announced number')
    if (!best || number > best.number) best = { hash: fixedOf(buf, f[0], 32, 'announced hash'), number }
  }
  return best
}

/** NewBlock [block, td]: the block's header number and hash (hash of the header bytes received). */
export function decodeNewBlock(buf: Bytes): AnnouncedHead {
  const f = listItems(buf, decodeItem(buf), 2)
  if (f.length !== 2) fail('ETH_BAD_NEW_BLOCK', 'NewBlock must be [block, td]')
  const block = listItems(buf, f[0], 4)
  if (block.length < 3 || !block[0].list) fail('ETH_BAD_NEW_BLOCK', 'block must be [header, txs, ommers, ...]')
  const header = block[0]
  const fields = listItems(buf, header, 32)
  if (fields.length < 15) fail('ETH_BAD_NEW_BLOCK', 'header has too few fields')
  return {
    hash: keccak256(rawOf(buf, header)),
    number: numberOf(buf, fields[8], 'block number'),
    totalDifficulty: bigIntOf(buf, f[1], 'total difficulty', 32),
  }
}

export interface BlockRange {
  earliest: number
  latest: number
  latestHash: Bytes
}

export function encodeBlockRangeUpdate(r: BlockRange): Bytes {
  return encode([r.earliest, r.latest, r.latestHash])
}

export function decodeBlockRangeUpdate(buf: Bytes): BlockRange {
  const f = listItems(buf, decodeItem(buf), 3)
  if (f.length !== 3) fail('ETH_BAD_RANGE_UPDATE', 'BlockRangeUpdate must be [earliest, latest, latestHash]')
  const earliest = numberOf(buf, f[0], 'earliest block')
  const latest = numberOf(buf, f[1], 'latest block')
  if (earliest > latest) fail('ETH_BAD_RANGE_UPDATE', `earliest ${earliest} is above latest ${latest}`)
  return { earliest, latest, latestHash: fixedOf(buf, f[2], 32, 'latest hash') }
}

/**
 * The Store over any KvBackend. Crash safety comes from write order alone (no MULTI/EXEC, no Lua):
 *
 *   batch:  blobs (header, body, receipts, hash->number) -> canonical pointers ascending -> commit record
 *   rewind: commit record moved down to the ancestor -> canonical pointers above it deleted, highest first
 *
 * A crash leaves a prefix of those writes. Blobs are content-addressed and immutable, so extra ones
 * are harmless. Pointers above the commit record (the "tail") are contiguous from head + 1 and
 * ignored by readers; `repairTail` drops them on the writer's next open. Pointers at or below the
 * committed head change only after a rewind has first moved the commit record below them, so readers
 * that trust pointers up to the committed head never see a half-written batch.
 */
import { StoreError } from '../errors.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { decodeBlockReceipts, encodeReceiptsEth69, isEth69ReceiptList } from '../primitives/receipt.js'
import { type KvBackend, type KvOp, opBytes } from './kv.js'
import { StoreKeys, decodeHashValue, decodeNumberValue, encodeHashValue, textValue } from './keys.js'
import { decodeChain, decodeProgress, encodeChain, encodeProgress } from './records.js'
import type { BlockBlobs, ChainIdentity, Head, ProgressFields, Store, StoredBlock, SyncProgress, TailRepair, VerifiedBlock, WriteOptions } from './types.js'

export interface BlockStoreOptions {
  /** Upper bound on the bytes of one pipeline / transaction (Pika buffers a request in memory). */
  maxPipelineBytes?: number
  /** Upper bound on the commands of one pipeline. */
  maxPipelineOps?: number
}

/** 32 MiB: far below Pika's 256 MB request buffer, large enough for 100 mainnet blocks. */
export const DEFAULT_MAX_PIPELINE_BYTES = 32 * 1024 * 1024
const DEFAULT_MAX_PIPELINE_OPS = 10_000
/** Pointers read per round trip when scanning ranges and tails. */
const SCAN_CHUNK = 256
/** A reader re-reads when a reorg lands between its reads; this many times before giving up. */
const READ_ATTEMPTS = 3

/** The compact eth/69 form the store keeps; eth/69 input is stored as received. */
export function storedReceipts(raw: Bytes): Bytes {
  return isEth69ReceiptList(raw) ? raw : encodeReceiptsEth69(decodeBlockReceipts(raw))
}

/** `b` with its receipts in the stored form, marked as such. */
export function withStoredReceipts<B extends VerifiedBlock>(b: B): B {
  return b.receipts && !b.receiptsEth69 ? { ...b, receipts: storedReceipts(b.receipts), receiptsEth69: true } : b
}

function notLinked(message: string, details: Record<string, unknown>): StoreError {
  return new StoreError('STORE_NOT_LINKED', message, { details })
}

/** Checks that `blocks` is a run of consecutive, hash-linked blocks. */
function checkRun(blocks: readonly VerifiedBlock[]): void {
  for (let i = 1; i < blocks.length; i++) {
    const prev = blocks[i - 1]
    const b = blocks[i]
    if (b.number !== prev.number + 1 || !equalBytes(b.parentHash, prev.hash)) {
      throw notLinked(`block ${b.number} does not follow block ${prev.number} in the batch`, { number: b.number, previous: prev.number })
    }
  }
}

export class BlockStore implements Store {
  private readonly maxPipelineBytes: number
  private readonly maxPipelineOps: number

  constructor(
    private readonly kv: KvBackend,
    private readonly keys: StoreKeys,
    options: BlockStoreOptions = {},
  ) {
    this.maxPipelineBytes = options.maxPipelineBytes ?? DEFAULT_MAX_PIPELINE_BYTES
    this.maxPipelineOps = options.maxPipelineOps ?? DEFAULT_MAX_PIPELINE_OPS
  }

  get url(): string {
    return this.kv.url
  }

  get epoch(): number {
    return this.kv.epoch
  }

  get durable(): boolean {
    return this.kv.durable
  }

  async chain(): Promise<ChainIdentity | undefined> {
    const value = await this.kv.get(this.keys.chain)
    return value && decodeChain(value, this.keys.chain)
  }

  async claimChain(chain: ChainIdentity, options: { acceptForkConfigChange?: boolean } = {}): Promise<void> {
    if (await this.kv.putIfAbsent(this.keys.chain, encodeChain(chain))) return
    const recorded = await this.chain()
    if (recorded === undefined) throw new StoreError('STORE_CORRUPT', `${this.keys.chain} vanished while it was being read`)
    const differs = (field: string, a: unknown, b: unknown) =>
      new StoreError('STORE_CHAIN_MISMATCH', `the store holds another chain: ${field} ${String(a)} (store) vs ${String(b)} (this sync)`, {
        details: { field, store: String(a), sync: String(b), storeChain: recorded.name, syncChain: chain.name },
      })
    if (recorded.chainId !== chain.chainId) throw differs('chainId', recorded.chainId, chain.chainId)
    if (!equalBytes(recorded.genesisHash, chain.genesisHash)) throw differs('genesisHash', bytesToHex(recorded.genesisHash), bytesToHex(chain.genesisHash))
    if (chain.forkConfig === undefined || recorded.forkConfig === chain.forkConfig) return
    if (recorded.forkConfig !== undefined && !options.acceptForkConfigChange) throw differs('forkConfig', recorded.forkConfig, chain.forkConfig)
    await this.kv.apply([{ kind: 'put', key: this.keys.chain, value: encodeChain(chain) }])
  }

  async progress(): Promise<SyncProgress | undefined> {
    const value = await this.kv.get(this.keys.progress)
    return value && decodeProgress(value, this.keys.progress)
  }

  async head(): Promise<Head | undefined> {
    const p = await this.progress()
    return p && p.currentBlock >= p.firstBlock ? { number: p.currentBlock, hash: p.lastHash } : undefined
  }

  async canonicalHashes(from: number, to: number): Promise<Array<Bytes | undefined>> {
    const out: Array<Bytes | undefined> = new Array(Math.max(0, to - from + 1)).fill(undefined)
    const p = await this.progress()
    if (!p) return out
    const lo = Math.max(from, p.firstBlock)
    const hi = Math.min(to, p.currentBlock)
    for (let start = lo; start <= hi; start += SCAN_CHUNK) {
      const end = Math.min(hi, start + SCAN_CHUNK - 1)
      const values = await this.kv.getMany(this.range(start, end).map((n) => this.keys.canonical(n)))
      values.forEach((v, i) => {
        out[start + i - from] = v && decodeHashValue(v, this.keys.canonical(start + i))
      })
    }
    return out
  }

  async block(id: number | Bytes): Promise<StoredBlock | undefined> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const before = await this.progress()
      if (!before) return undefined
      const located = await this.locate(id, before)
      if (!located) return undefined
      const { number, hash } = located
      const [header, body, receipts] = await this.kv.getMany([this.keys.header(hash), this.keys.body(hash), this.keys.receipts(hash)])
      if (!header || (!before.headersOnly && (!body || !receipts))) {
        throw new StoreError('STORE_CORRUPT', `committed block ${number} (${bytesToHex(hash)}) is missing its ${!header ? 'header' : !body ? 'body' : 'receipts'}`, {
          details: { number, hash: bytesToHex(hash) },
        })
      }
      // A reorg between the reads above could have moved the pointer we followed: read again if so.
      const after = await this.progress()
      if (after && after.reorgCount === before.reorgCount && after.currentBlock >= number) return { number, hash, header, body, receipts }
    }
    throw new StoreError('STORE_BUSY', 'the chain kept reorging while the block was read', { retryable: true })
  }

  async blobs(hashes: readonly Bytes[]): Promise<BlockBlobs[]> {
    const keys = hashes.flatMap((h) => [this.keys.header(h), this.keys.body(h), this.keys.receipts(h), this.keys.number(h)])
    const values = await this.kv.getMany(keys)
    return hashes.map((_, i) => {
      const [header, body, receipts, number] = values.slice(4 * i, 4 * i + 4)
      return { header, body, receipts, number: number && decodeNumberValue(number, keys[4 * i + 3]) }
    })
  }

  /** Number and hash of a committed canonical block, by number or by hash. */
  private async locate(id: number | Bytes, p: SyncProgress): Promise<Head | undefined> {
    const committed = (n: number) => n >= p.firstBlock && n <= p.currentBlock
    if (typeof id === 'number') {
      if (!committed(id)) return undefined
      const key = this.keys.canonical(id)
      const value = await this.kv.get(key)
      if (!value) throw new StoreError('STORE_CORRUPT', `committed block ${id} has no canonical pointer`, { details: { number: id } })
      return { number: id, hash: decodeHashValue(value, key) }
    }
    const numberKey = this.keys.number(id)
    const numberValue = await this.kv.get(numberKey)
    if (!numberValue) return undefined
    const number = decodeNumberValue(numberValue, numberKey)
    if (!committed(number)) return undefined
    const canonicalKey = this.keys.canonical(number)
    const canonical = await this.kv.get(canonicalKey)
    // A block of a side chain (kept after a reorg) is not part of the committed chain.
    return canonical && equalBytes(decodeHashValue(canonical, canonicalKey), id) ? { number, hash: id } : undefined
  }

  async writeBatch(blocks: readonly VerifiedBlock[], fields: ProgressFields, options: WriteOptions = {}): Promise<Head> {
    if (blocks.length === 0) throw new StoreError('STORE_EMPTY_BATCH', 'a batch needs at least one block')
    checkRun(blocks)
    const first = blocks[0]
    const last = blocks[blocks.length - 1]
    const ops: KvOp[] = []
    const current = await this.progress()
    if (current && current.headersOnly !== fields.headersOnly) {
      throw new StoreError('STORE_MODE_MISMATCH', `the store holds ${current.headersOnly ? 'headers only' : 'full blocks'}; this sync writes ${fields.headersOnly ? 'headers only' : 'full blocks'} (use another store)`)
    }
    const incomplete = fields.headersOnly ? undefined : blocks.find((b) => !b.body || !b.receipts)
    if (incomplete) throw new StoreError('STORE_INCOMPLETE_BLOCK', `block ${incomplete.number} has no ${incomplete.body ? 'receipts' : 'body'} and the store holds full blocks`)
    const firstBlock = current?.firstBlock ?? first.number
    if (!current) {
      // Mark where the chain starts before anything else, so a crash leaves a tail repairTail can find.
      ops.push(this.commitOp({ ...fields, firstBlock, currentBlock: first.number - 1, lastHash: first.parentHash }))
    } else if (first.number !== current.currentBlock + 1 || !equalBytes(first.parentHash, current.lastHash)) {
      throw notLinked(`block ${first.number} does not extend the committed head ${current.currentBlock}`, {
        number: first.number,
        head: current.currentBlock,
        parentHash: bytesToHex(first.parentHash),
        headHash: bytesToHex(current.lastHash),
      })
    }
    for (const b of blocks) {
      ops.push({ kind: 'put', key: this.keys.header(b.hash), value: b.header })
      if (b.body) ops.push({ kind: 'put', key: this.keys.body(b.hash), value: b.body })
      if (b.receipts) ops.push({ kind: 'put', key: this.keys.receipts(b.hash), value: b.receiptsEth69 ? b.receipts : storedReceipts(b.receipts) })
      ops.push({ kind: 'put', key: this.keys.number(b.hash), value: textValue(String(b.number)) })
    }
    for (const b of blocks) ops.push({ kind: 'put', key: this.keys.canonical(b.number), value: encodeHashValue(b.hash) })
    ops.push(this.commitOp({ ...fields, firstBlock, currentBlock: last.number, lastHash: last.hash }))
    await this.applyInOrder(ops, options.epoch)
    return { number: last.number, hash: last.hash }
  }

  async rewind(ancestor: number, fields: ProgressFields, options: WriteOptions = {}): Promise<Head> {
    const current = await this.progress()
    if (!current) throw new StoreError('STORE_EMPTY', 'nothing to rewind in an empty store')
    if (ancestor >= current.currentBlock || ancestor < current.firstBlock - 1) {
      throw new StoreError('STORE_BAD_REWIND', `cannot rewind from ${current.currentBlock} to ${ancestor} (store starts at ${current.firstBlock})`, {
        details: { ancestor, head: current.currentBlock, firstBlock: current.firstBlock },
      })
    }
    const lastHash = await this.hashAtOrBelowBase(ancestor, current)
    const tail = await this.scanTail(current.currentBlock)
    const top = tail.length > 0 ? tail[tail.length - 1] : current.currentBlock
    const ops: KvOp[] = [this.commitOp({ ...fields, firstBlock: current.firstBlock, currentBlock: ancestor, lastHash })]
    for (let n = top; n > ancestor; n--) ops.push({ kind: 'del', key: this.keys.canonical(n) })
    await this.applyInOrder(ops, options.epoch)
    return { number: ancestor, hash: lastHash }
  }

  /** The canonical hash at `n`; for n = firstBlock - 1, the parent hash of the first block. */
  private async hashAtOrBelowBase(n: number, p: SyncProgress): Promise<Bytes> {
    const at = n >= p.firstBlock ? n : p.firstBlock
    const [hash] = await this.canonicalHashes(at, at)
    if (!hash) throw new StoreError('STORE_CORRUPT', `committed block ${at} has no canonical pointer`, { details: { number: at } })
    if (at === n) return hash
    const header = await this.kv.get(this.keys.header(hash))
    if (!header) throw new StoreError('STORE_CORRUPT', `committed block ${at} has no header`, { details: { number: at } })
    return BlockHeader.decode(header).parentHash
  }

  async repairTail(options: WriteOptions = {}): Promise<TailRepair> {
    const current = await this.progress()
    if (!current) return { dropped: [] }
    const dropped = await this.scanTail(current.currentBlock)
    // Highest first: a crash during the repair still leaves a contiguous tail.
    const ops: KvOp[] = [...dropped].reverse().map((n) => ({ kind: 'del', key: this.keys.canonical(n) }))
    await this.applyInOrder(ops, options.epoch)
    return { dropped }
  }

  async tail(): Promise<number[]> {
    const current = await this.progress()
    return current ? this.scanTail(current.currentBlock) : []
  }

  /** Canonical pointers present above `head`, ascending, up to the first gap. */
  private async scanTail(head: number): Promise<number[]> {
    const found: number[] = []
    for (let start = head + 1; ; start += SCAN_CHUNK) {
      const numbers = this.range(start, start + SCAN_CHUNK - 1)
      const values = await this.kv.getMany(numbers.map((n) => this.keys.canonical(n)))
      for (let i = 0; i < values.length; i++) {
        if (!values[i]) return found
        found.push(numbers[i])
      }
    }
  }

  private range(from: number, to: number): number[] {
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
  }

  private commitOp(progress: SyncProgress): KvOp {
    return { kind: 'put', key: this.keys.progress, value: encodeProgress(progress) }
  }

  /** Applies `ops` in order, in pipelines bounded in bytes and commands, each awaited before the next. */
  private async applyInOrder(ops: readonly KvOp[], epoch: number | undefined): Promise<void> {
    let start = 0
    while (start < ops.length) {
      let end = start
      let bytes = 0
      while (end < ops.length && end - start < this.maxPipelineOps) {
        const size = opBytes(ops[end])
        if (end > start && bytes + size > this.maxPipelineBytes) break
        bytes += size
        end++
      }
      await this.kv.apply(ops.slice(start, end), epoch)
      start = end
    }
  }

  async close(): Promise<void> {
    await this.kv.close()
  }
}

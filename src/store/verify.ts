/**
 * Offline re-check of a stored chain, from the stored bytes only: canonical pointers against blobs
 * (hash -> number entries, missing parts), each header's hash, number and parent link, every root
 * and bloom (the validator's validateBody / validateReceipts), the commit record against the
 * pointers, and the tail above it. Safe while a sync writes: it reads the commit record first,
 * trusts pointers only up to it, and checks again if a reorg lands in between and anything looked wrong.
 */
import { type Hardfork, type ForkRules, rulesAt } from '../chain/forks.js'
import { DecodeError, type ValidationError } from '../errors.js'
import { BlockBody } from '../primitives/body.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import { BlockHeader, HEADER_FIELDS } from '../primitives/header.js'
import { keccak256 } from '../primitives/keccak.js'
import { type Receipt, decodeBlockReceipts } from '../primitives/receipt.js'
import { BodyErrorCode, validateBody } from '../validator/body.js'
import { validateReceipts } from '../validator/receipts.js'
import type { BlockBlobs, Store, SyncProgress } from './types.js'

export interface VerifyOptions {
  from?: number
  to?: number
  /**
   * The chain's fork rules for a header. Without them the rules are guessed from the header's shape,
   * and only the body findings that do not depend on the fork (roots, hashes, withdrawals presence,
   * blob gas used) count.
   */
  rulesAt?: (header: BlockHeader) => ForkRules
  /** Blocks read per round trip. */
  chunk?: number
  onProgress?: (checked: number, total: number) => void
}

export interface VerifyProblem {
  code: string
  message: string
  block?: number
  details?: Record<string, unknown>
}

export interface VerifyReport {
  ok: boolean
  /** The committed range of the store (undefined when empty). */
  firstBlock?: number
  head?: number
  headHash?: string
  reorgCount?: number
  /** The range checked. */
  from?: number
  to?: number
  checked: number
  problems: VerifyProblem[]
  /** Canonical pointers above the commit record: a batch in flight, or a crash the writer repairs on open. */
  tail: number[]
}

const ATTEMPTS = 3
const FORK_BY_FIELDS = new Map<number, Hardfork>([
  [HEADER_FIELDS.legacy, 'byzantium'],
  [HEADER_FIELDS.london, 'london'],
  [HEADER_FIELDS.shanghai, 'shanghai'],
  [HEADER_FIELDS.cancun, 'cancun'],
  [HEADER_FIELDS.prague, 'prague'],
])
const FORK_INDEPENDENT_BODY_CODES = new Set<string>([
  BodyErrorCode.Malformed,
  BodyErrorCode.TransactionsRootMismatch,
  BodyErrorCode.OmmersHashMismatch,
  BodyErrorCode.WithdrawalsMissing,
  BodyErrorCode.WithdrawalsUnexpected,
  BodyErrorCode.WithdrawalsRootMismatch,
  BodyErrorCode.BlobGasUsedMismatch,
])

export async function verifyStore(store: Store, options: VerifyOptions = {}): Promise<VerifyReport> {
  for (let attempt = 1; ; attempt++) {
    const { report, changed } = await verifyOnce(store, options)
    // A reorg during the pass can only produce false findings (pointers read from two branches),
    // never hide real ones: a clean pass stands, findings are checked again on a fresh pass.
    if (!changed || report.ok) return report
    if (attempt === ATTEMPTS) {
      report.problems.push({ code: 'STORE_BUSY', message: `the chain was rewound during each of ${ATTEMPTS} passes, the findings above may be artifacts; run verify again` })
      report.ok = false
      return report
    }
  }
}

async function verifyOnce(store: Store, options: VerifyOptions): Promise<{ report: VerifyReport; changed: boolean }> {
  const problems: VerifyProblem[] = []
  const before = await store.progress()
  if (!before) return { report: { ok: true, checked: 0, problems, tail: await store.tail() }, changed: false }
  const chainId = (await store.chain())?.chainId ?? 1n
  const report: VerifyReport = {
    ok: false,
    firstBlock: before.firstBlock,
    head: before.currentBlock,
    headHash: bytesToHex(before.lastHash),
    reorgCount: before.reorgCount,
    checked: 0,
    problems,
    tail: [],
  }
  const from = Math.max(options.from ?? before.firstBlock, before.firstBlock)
  const to = Math.min(options.to ?? before.currentBlock, before.currentBlock)
  if ((options.from !== undefined && options.from > before.currentBlock) || (options.to !== undefined && options.to < before.firstBlock)) {
    problems.push({
      code: 'RANGE_NOT_STORED',
      message: `blocks ${options.from ?? before.firstBlock}-${options.to ?? before.currentBlock} are outside the committed range ${before.firstBlock}-${before.currentBlock}`,
    })
  }
  await checkCommitRecord(store, before, problems)
  if (from <= to) {
    report.from = from
    report.to = to
    const checker = new BlockChecker(options.rulesAt, chainId, problems, before.headersOnly)
    let parent = from > before.firstBlock ? (await store.canonicalHashes(from - 1, from - 1))[0] : undefined
    const chunk = options.chunk ?? 64
    for (let start = from; start <= to; start += chunk) {
      const end = Math.min(to, start + chunk - 1)
      const hashes = await store.canonicalHashes(start, end)
      const present = hashes.filter((h): h is Bytes => h !== undefined)
      const blobs = await store.blobs(present)
      let next = 0
      for (let n = start; n <= end; n++) {
        const hash = hashes[n - start]
        if (!hash) {
          problems.push({ code: 'MISSING_POINTER', block: n, message: `committed block ${n} has no canonical pointer` })
          parent = undefined
        } else {
          checker.check(n, hash, blobs[next++], n > before.firstBlock ? parent : undefined)
          parent = hash
        }
        report.checked++
      }
      options.onProgress?.(report.checked, to - from + 1)
    }
  }
  report.tail = await store.tail()
  const after = await store.progress()
  const changed = !after || after.reorgCount !== before.reorgCount || after.currentBlock < to
  report.ok = problems.length === 0
  return { report, changed }
}

async function checkCommitRecord(store: Store, p: SyncProgress, problems: VerifyProblem[]): Promise<void> {
  if (p.currentBlock < p.firstBlock) return
  const [atHead] = await store.canonicalHashes(p.currentBlock, p.currentBlock)
  if (!atHead || !equalBytes(atHead, p.lastHash)) {
    problems.push({
      code: 'COMMIT_HEAD_MISMATCH',
      block: p.currentBlock,
      message: `the commit record names ${bytesToHex(p.lastHash)} as block ${p.currentBlock}, the canonical pointer ${atHead ? bytesToHex(atHead) : 'is missing'}`,
    })
  }
}

class BlockChecker {
  constructor(
    private readonly rulesAt: VerifyOptions['rulesAt'],
    private readonly chainId: bigint,
    private readonly problems: VerifyProblem[],
    /** A headers-only store has no bodies or receipts to check. */
    private readonly headersOnly: boolean,
  ) {}

  private problem(block: number, code: string, message: string, details?: Record<string, unknown>): void {
    this.problems.push(details === undefined ? { code, block, message } : { code, block, message, details })
  }

  private fromValidation(block: number, errors: readonly ValidationError[]): void {
    for (const e of errors) this.problem(block, e.code, e.message, e.details)
  }

  /** Decodes with `decode`, recording a DecodeError as `code`; undefined on failure. */
  private decoded<T>(block: number, code: string, what: string, decode: () => T): T | undefined {
    try {
      return decode()
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      this.problem(block, code, `stored ${what} does not decode: ${err.message}`, { decodeCode: err.code })
      return undefined
    }
  }

  check(n: number, hash: Bytes, blobs: BlockBlobs, parent: Bytes | undefined): void {
    const expected = this.headersOnly ? (['header'] as const) : (['header', 'body', 'receipts'] as const)
    const missing = expected.filter((part) => !blobs[part])
    for (const part of missing) this.problem(n, `MISSING_${part.toUpperCase()}`, `canonical block ${n} (${bytesToHex(hash)}) has no stored ${part}`)
    if (blobs.number !== n) {
      this.problem(n, 'HASH_INDEX_MISMATCH', `the hash -> number entry of block ${n} holds ${blobs.number ?? 'nothing'}`)
    }
    if (!blobs.header) return
    const header = this.decoded(n, 'HEADER_MALFORMED', 'header', () => BlockHeader.decode(blobs.header!))
    if (!header) return
    if (!equalBytes(keccak256(blobs.header), hash)) this.problem(n, 'HEADER_HASH_MISMATCH', `the header stored under ${bytesToHex(hash)} hashes to ${bytesToHex(keccak256(blobs.header))}`)
    if (header.number !== n) this.problem(n, 'HEADER_NUMBER_MISMATCH', `the header at height ${n} says it is block ${header.number}`)
    if (parent && !equalBytes(header.parentHash, parent)) {
      this.problem(n, 'BROKEN_LINK', `block ${n}'s parent hash ${bytesToHex(header.parentHash)} is not block ${n - 1} (${bytesToHex(parent)})`)
    }
    const body = blobs.body && this.decoded(n, 'BODY_MALFORMED', 'body', () => BlockBody.decode(blobs.body!))
    if (body) this.checkBody(n, header, body)
    const receipts = blobs.receipts && this.decoded(n, 'RECEIPTS_MALFORMED', 'receipts', () => decodeBlockReceipts(blobs.receipts!))
    if (body && receipts) this.checkReceipts(n, header, body, receipts)
  }

  private checkBody(n: number, header: BlockHeader, body: BlockBody): void {
    if (this.rulesAt) return this.fromValidation(n, validateBody(header, body, this.rulesAt(header)))
    const fork = FORK_BY_FIELDS.get(header.fieldCount) ?? 'prague'
    const errors = validateBody(header, body, rulesAt(this.chainId, fork)).filter((e) => FORK_INDEPENDENT_BODY_CODES.has(e.code))
    this.fromValidation(n, errors)
  }

  private checkReceipts(n: number, header: BlockHeader, body: BlockBody, receipts: Receipt[]): void {
    if (receipts.some((r) => r.encoding !== 'eth69')) this.problem(n, 'RECEIPTS_NOT_COMPACT', `block ${n}'s receipts are not stored in the eth/69 form`)
    const txs = this.decoded(n, 'BODY_MALFORMED', 'transactions', () => body.transactions())
    if (!txs) return
    const rules = this.rulesAt?.(header)
    this.fromValidation(n, validateReceipts(header, receipts, txs.length, { rules, txTypes: txs.map((t) => t.type) }))
  }
}

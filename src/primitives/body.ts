/**
 * Block body views. A body is rlp([transactions, ommers]) or, from Shanghai on,
 * rlp([transactions, ommers, withdrawals]); a full block is rlp([header, transactions, ommers,
 * withdrawals?]). Views keep positions into the received bytes; roots are computed from them.
 */
import { DecodeError } from '../errors.js'
import type { Bytes } from './bytes.js'
import { BlockHeader } from './header.js'
import { keccak256 } from './keccak.js'
import { bigIntOf, decodeItem, fixedOf, listItems, rawOf, type RlpItem } from './rlp.js'
import { Transaction } from './transaction.js'
import { orderedTrieRoot } from './trie.js'

export interface Withdrawal {
  index: bigint
  validatorIndex: bigint
  address: Bytes
  /** Amount in Gwei. */
  amount: bigint
}

export interface BodyLimits {
  /** Upper bound on transactions per body (bounds allocation from untrusted input). */
  maxTransactions: number
  maxOmmers: number
  maxWithdrawals: number
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxTransactions: 1 << 20, maxOmmers: 1 << 10, maxWithdrawals: 1 << 16 }

export class BlockBody {
  private cachedTxs: Transaction[] | undefined

  constructor(
    /** The bytes the item positions refer to. */
    readonly buf: Bytes,
    readonly txsItem: RlpItem,
    readonly ommersItem: RlpItem,
    readonly withdrawalsItem: RlpItem | undefined,
    private readonly limits: BodyLimits = DEFAULT_BODY_LIMITS,
  ) {
    if (!txsItem.list) throw new DecodeError('BODY_BAD_TXS', 'transactions must be a list')
    if (!ommersItem.list) throw new DecodeError('BODY_BAD_OMMERS', 'ommers must be a list')
    if (withdrawalsItem && !withdrawalsItem.list) throw new DecodeError('BODY_BAD_WITHDRAWALS', 'withdrawals must be a list')
  }

  /** Decodes rlp([txs, ommers, withdrawals?]). */
  static decode(raw: Bytes, limits: BodyLimits = DEFAULT_BODY_LIMITS): BlockBody {
    return BlockBody.fromItem(raw, decodeItem(raw), limits)
  }

  /** A body that is one item inside a larger message (e.g. a BlockBodies response), no copy. */
  static fromItem(buf: Bytes, item: RlpItem, limits: BodyLimits = DEFAULT_BODY_LIMITS): BlockBody {
    const parts = listItems(buf, item, 3)
    if (parts.length < 2) throw new DecodeError('BODY_WRONG_FIELD_COUNT', `body has ${parts.length} fields, expected 2 or 3`)
    return new BlockBody(buf, parts[0], parts[1], parts[2], limits)
  }

  transactions(): Transaction[] {
    return (this.cachedTxs ??= listItems(this.buf, this.txsItem, this.limits.maxTransactions).map((it) =>
      Transaction.fromBodyItem(this.buf, it),
    ))
  }

  /** Raw ommer headers, as received. */
  ommerHeadersRaw(): Bytes[] {
    return listItems(this.buf, this.ommersItem, this.limits.maxOmmers).map((it) => rawOf(this.buf, it))
  }

  ommers(): BlockHeader[] {
    return this.ommerHeadersRaw().map((raw) => BlockHeader.decode(raw))
  }

  hasWithdrawals(): boolean {
    return this.withdrawalsItem !== undefined
  }

  /** Raw withdrawal items (trie values), shape-checked. */
  withdrawalsRaw(): Bytes[] {
    if (!this.withdrawalsItem) return []
    return listItems(this.buf, this.withdrawalsItem, this.limits.maxWithdrawals).map((it) => {
      decodeWithdrawal(this.buf, it)
      return rawOf(this.buf, it)
    })
  }

  withdrawals(): Withdrawal[] {
    if (!this.withdrawalsItem) return []
    return listItems(this.buf, this.withdrawalsItem, this.limits.maxWithdrawals).map((it) => decodeWithdrawal(this.buf, it))
  }

  transactionsRoot(): Bytes {
    return orderedTrieRoot(this.transactions().map((t) => t.envelope))
  }

  ommersHash(): Bytes {
    return keccak256(rawOf(this.buf, this.ommersItem))
  }

  withdrawalsRoot(): Bytes | undefined {
    return this.withdrawalsItem ? orderedTrieRoot(this.withdrawalsRaw()) : undefined
  }

  /** Encoded size of the body's parts (for byte budgets). */
  get byteLength(): number {
    const last = this.withdrawalsItem ?? this.ommersItem
    return last.end - this.txsItem.offset
  }
}

function decodeWithdrawal(buf: Bytes, item: RlpItem): Withdrawal {
  const f = listItems(buf, item, 4)
  if (f.length !== 4) throw new DecodeError('WITHDRAWAL_WRONG_FIELD_COUNT', `withdrawal has ${f.length} fields, expected 4`)
  return {
    index: bigIntOf(buf, f[0], 'withdrawal index', 8),
    validatorIndex: bigIntOf(buf, f[1], 'withdrawal validatorIndex', 8),
    address: fixedOf(buf, f[2], 20, 'withdrawal address'),
    amount: bigIntOf(buf, f[3], 'withdrawal amount', 8),
  }
}

/** A full block rlp([header, txs, ommers, withdrawals?]) as in BlockchainTests and era files. */
export interface DecodedBlock {
  header: BlockHeader
  body: BlockBody
}

export function decodeBlock(raw: Bytes, limits: BodyLimits = DEFAULT_BODY_LIMITS): DecodedBlock {
  const parts = listItems(raw, decodeItem(raw), 4)
  if (parts.length < 3) throw new DecodeError('BLOCK_WRONG_FIELD_COUNT', `block has ${parts.length} fields, expected 3 or 4`)
  const header = BlockHeader.decode(rawOf(raw, parts[0]))
  return { header, body: new BlockBody(raw, parts[1], parts[2], parts[3], limits) }
}

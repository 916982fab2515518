/**
 * Sender recovery (secp256k1 public-key recovery, ~60 us per transaction with the native addon).
 * Senders are cached on each Transaction, so validating with recovery and then reading the senders
 * costs one recovery per transaction.
 */
import { ValidationError } from '../errors.js'
import type { BlockBody } from '../primitives/body.js'
import type { Bytes } from '../primitives/bytes.js'
import type { Transaction } from '../primitives/transaction.js'
import { atTransaction, recoverTransactionSender } from './transaction.js'

/** Recovers the senders of `txs[i]` for each i in `indices`; failures are appended to `out`. */
export function recoverSendersInto(txs: readonly Transaction[], indices: readonly number[], out: ValidationError[]): void {
  for (const i of indices) {
    const sender = recoverTransactionSender(txs[i])
    if (sender instanceof ValidationError) out.push(atTransaction(i, sender))
  }
}

/**
 * The sender of every transaction of `body`, in order. Throws the first ValidationError when a
 * transaction does not decode or its signature recovers no key (validateBody reports them all).
 */
export function recoverSenders(body: BlockBody): Bytes[] {
  return body.transactions().map((tx, i) => {
    const sender = recoverTransactionSender(tx)
    if (sender instanceof ValidationError) throw atTransaction(i, sender)
    return sender
  })
}

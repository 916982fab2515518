import { describe, expect, it } from 'vitest'
import { rulesAt, type Hardfork } from '../../src/chain/forks.js'
import { DecodeError } from '../../src/errors.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { Transaction } from '../../src/primitives/transaction.js'
import { intrinsicGas, recoverTransactionSender, validateTransaction } from '../../src/validator/transaction.js'
import { fixturePath, listFiles } from '../fixtures.js'
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { TEST_FORKS } from './body-fixture-forks.js'

interface TxTestResult {
  exception?: string
  hash?: string
  sender?: string
  intrinsicGas?: string
}
interface TxTest {
  txbytes: string
  result: Record<string, TxTestResult>
}

// Clients parse before they look at the fork, so a typed tx with broken RLP before Berlin is an RLP
// error in the fixture; we refuse the type first, which explains the rejection just as well.
const MALFORMED = ['TX_MALFORMED', 'TX_BAD_ENVELOPE', 'TX_TYPE_NOT_SUPPORTED']
const SIGNATURE = ['TX_SIGNATURE_OUT_OF_RANGE', 'TX_SIGNATURE_HIGH_S', 'TX_INVALID_V']
/** Our error codes that correctly explain each fixture exception (RLP_* and *_OVERFLOW are decode errors). */
function acceptedCodes(exception: string): string[] {
  const name = exception.replace('TransactionException.', '')
  if (name.startsWith('RLP_') || name.startsWith('ADDRESS_TOO_') || name.endsWith('_OVERFLOW')) {
    return name === 'GASLIMIT_PRICE_PRODUCT_OVERFLOW' ? ['TX_GAS_PRICE_PRODUCT_OVERFLOW'] : MALFORMED
  }
  const table: Record<string, string[]> = {
    EC_RECOVERY_FAIL: ['TX_SENDER_UNRECOVERABLE'],
    INVALID_CHAINID: ['TX_INVALID_CHAIN_ID', ...SIGNATURE],
    // r or s longer than 32 bytes fails decoding.
    INVALID_SIGNATURE_VRS: [...SIGNATURE, ...MALFORMED],
    INTRINSIC_GAS_TOO_LOW: ['TX_INTRINSIC_GAS_TOO_LOW'],
    NONCE_TOO_BIG: ['TX_NONCE_TOO_BIG'],
    PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS_2: ['TX_PRIORITY_FEE_ABOVE_MAX_FEE'],
    // A first byte in 0x80..0xbf is neither a type nor a list.
    TYPE_NOT_SUPPORTED: ['TX_TYPE_NOT_SUPPORTED', ...MALFORMED],
    INITCODE_SIZE_EXCEEDED: ['TX_INITCODE_TOO_LARGE'],
  }
  const codes = table[name]
  if (!codes) throw new Error(`no mapping for ${exception}`)
  return [...codes]
}

/** Outcome of judging raw tx bytes under one fork, as the fixture states it. */
function judge(txbytes: string, fork: Hardfork): { valid: true; hash: string; sender: string } | { valid: false; reasons: string[] } {
  let tx: Transaction
  try {
    tx = Transaction.fromEnvelope(hexToBytes(txbytes))
  } catch (err) {
    if (err instanceof DecodeError) return { valid: false, reasons: [err.code] }
    throw err
  }
  const errors = validateTransaction(tx, rulesAt(1n, fork))
  if (errors.length > 0) return { valid: false, reasons: errors.map((e) => e.code) }
  const sender = recoverTransactionSender(tx)
  if (!(sender instanceof Uint8Array)) return { valid: false, reasons: [sender.code] }
  return { valid: true, hash: bytesToHex(tx.hash), sender: bytesToHex(sender) }
}

function gasLimitBelowBase(txbytes: string): boolean {
  try {
    return Transaction.fromEnvelope(hexToBytes(txbytes)).decode().gasLimit < 21_000n
  } catch {
    return false
  }
}

const root = fixturePath('ethereum-tests', 'TransactionTests')

describe('TransactionTests', () => {
  for (const file of listFiles(root, '.json')) {
    const tests = JSON.parse(readFileSync(file, 'utf8')) as Record<string, TxTest>
    for (const [name, t] of Object.entries(tests)) {
      it(`${relative(root, file)} ${name}`, () => {
        for (const [forkName, expected] of Object.entries(t.result)) {
          const fork = TEST_FORKS[forkName]
          expect(fork, `unknown fork ${forkName}`).toBeDefined()
          const got = judge(t.txbytes, fork)
          if (expected.exception !== undefined) {
            const accepted = acceptedCodes(expected.exception)
            // A gas limit below 21000 is a genuine violation whatever else is wrong.
            if (gasLimitBelowBase(t.txbytes)) accepted.push('TX_INTRINSIC_GAS_TOO_LOW')
            const reasons = got.valid ? [] : got.reasons
            expect(reasons.some((r) => accepted.includes(r)), `${forkName}: ${expected.exception}, got [${reasons}]`).toBe(true)
          } else {
            expect(got, `${forkName}`).toEqual({ valid: true, hash: expected.hash, sender: expected.sender })
          }
          if (expected.intrinsicGas !== undefined && got.valid) {
            const gas = intrinsicGas(Transaction.fromEnvelope(hexToBytes(t.txbytes)).decode(), rulesAt(1n, fork))
            expect(Math.max(gas.intrinsic, gas.floor), `${forkName} intrinsic gas`).toBe(Number(expected.intrinsicGas))
          }
        }
      })
    }
  }
})

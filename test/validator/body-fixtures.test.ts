import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { rulesAt } from '../../src/chain/forks.js'
import { DecodeError } from '../../src/errors.js'
import { decodeBlock, type DecodedBlock } from '../../src/primitives/body.js'
import { type Bytes, hexToBytes } from '../../src/primitives/bytes.js'
import { readItem, rawOf } from '../../src/primitives/rlp.js'
import { validateBody } from '../../src/validator/body.js'
import { recoverSenders } from '../../src/validator/senders.js'
import { fixturePath, listFiles } from '../fixtures.js'
import { blockchainTestFork } from './body-fixture-forks.js'
import { loadChain } from '../../src/chain/chains.js'

interface TestBlock {
  rlp: string
  expectException?: string
  expectExceptionALL?: string
  [key: string]: unknown
}
interface BlockchainTest {
  network: string
  blocks: TestBlock[]
}

/**
 * Fixture exceptions a body validator must catch, with the error codes that explain them: the T class
 * of INDEX.md (transaction rules checkable from the tx and the header) and the H-class rules about
 * the body's commitments.
 */
const BODY_EXCEPTIONS: Record<string, string[]> = {
  'TransactionException.INSUFFICIENT_MAX_FEE_PER_GAS': ['TX_FEE_BELOW_BASE_FEE'],
  'TransactionException.INTRINSIC_GAS_TOO_LOW': ['TX_INTRINSIC_GAS_TOO_LOW'],
  'TransactionException.PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS': ['TX_PRIORITY_FEE_ABOVE_MAX_FEE'],
  'TransactionException.TYPE_NOT_SUPPORTED': ['TX_TYPE_NOT_SUPPORTED'],
  'BlockException.INVALID_TRANSACTIONS_ROOT': ['BODY_TRANSACTIONS_ROOT_MISMATCH'],
  'BlockException.INVALID_WITHDRAWALS_ROOT': ['BODY_WITHDRAWALS_ROOT_MISMATCH'],
  'BlockException.RLP_WITHDRAWALS_NOT_READ': ['BODY_MALFORMED', 'BODY_WITHDRAWALS_MISSING'],
  'BlockException.RLP_INVALID_FIELD_OVERFLOW_64': ['BODY_MALFORMED'],
  'BlockException.RLP_INVALID_ADDRESS': ['BODY_MALFORMED'],
  InvalidTransactionsRoot: ['BODY_TRANSACTIONS_ROOT_MISMATCH'],
  InvalidUnclesHash: ['BODY_OMMERS_HASH_MISMATCH'],
}

function expectedException(block: TestBlock, network: string): string | undefined {
  return block.expectException ?? block.expectExceptionALL ?? (block[`expectException${network}`] as string | undefined)
}

/** Codes that explain `exception` (alternatives separated by |); empty if it is not the body's. */
function bodyCodes(exception: string): string[] {
  return exception.split('|').flatMap((e) => BODY_EXCEPTIONS[e] ?? [])
}

function tryDecode(rlp: string): DecodedBlock | DecodeError {
  try {
    return decodeBlock(hexToBytes(rlp))
  } catch (err) {
    if (err instanceof DecodeError) return err
    throw err
  }
}

interface BodyCase {
  where: string
  network: string
  block: TestBlock
  /** undefined = valid block. */
  exception: string | undefined
}

/** The blocks of one file whose verdict is the body validator's to give. */
function bodyCases(tests: Record<string, BlockchainTest>): BodyCase[] {
  const cases: BodyCase[] = []
  for (const [name, t] of Object.entries(tests)) {
    t.blocks.forEach((block, i) => {
      const exception = expectedException(block, t.network)
      // A block given only as rlp is invalid; which rule it breaks is not stated.
      const rlpOnly = block.blockHeader === undefined
      if ((exception === undefined && !rlpOnly) || (exception !== undefined && bodyCodes(exception).length > 0)) {
        cases.push({ where: `${name} block ${i} (${exception ?? 'valid'})`, network: t.network, block, exception })
      }
    })
  }
  return cases
}

describe('validateBody over BlockchainTests: valid blocks pass, T-class and body exceptions are caught', () => {
  const roots = [fixturePath('ethereum-tests', 'BlockchainTests'), fixturePath('ethereum-legacytests')]
  for (const root of roots) {
    for (const file of listFiles(root, '.json')) {
      const cases = bodyCases(JSON.parse(readFileSync(file, 'utf8')) as Record<string, BlockchainTest>)
      if (cases.length === 0) continue
      it(`${relative(root, file)} (${cases.length} blocks)`, () => {
        for (const { where, network, block, exception } of cases) {
          const decoded = tryDecode(block.rlp)
          if (decoded instanceof DecodeError) {
            // The withdrawal RLP cases fail to decode at all, which rejects them.
            expect(exception, `${where}: ${decoded.message}`).toBeDefined()
            continue
          }
          const rules = rulesAt(1n, blockchainTestFork(network, decoded.header))
          const errors = validateBody(decoded.header, decoded.body, rules, { recoverSenders: true })
          if (exception === undefined) {
            expect(errors.map((e) => e.message), where).toEqual([])
            expect(recoverSenders(decoded.body).length, where).toBe(decoded.body.transactions().length)
          } else {
            const codes = errors.map((e) => e.code)
            expect(codes.some((c) => bodyCodes(exception).includes(c)), `${where}: got [${codes}]`).toBe(true)
          }
        }
      })
    }
  }
})

function* chainBlocks(raw: Bytes): Generator<Bytes> {
  for (let pos = 0; pos < raw.length; ) {
    const item = readItem(raw, pos)
    yield rawOf(raw, item)
    pos = item.end
  }
}

describe('validateBody over the geth devp2p test chains', () => {
  const dirs = ['cmd', 'at-577be37e0e/cmd'].map((d) => fixturePath('go-ethereum', ...d.split('/'), 'devp2p', 'internal', 'ethtest', 'testdata'))
  for (const dir of dirs) {
    it(`${relative(fixturePath('go-ethereum'), dir)}: every block valid, every sender recovered`, () => {
      const chain = loadChain(`${dir}/genesis.json`, { ethash: { mode: 'off' } })
      const forks = new Set<string>()
      const txTypes = new Set<number>()
      let blocks = 0
      for (const raw of chainBlocks(readFileSync(`${dir}/chain.rlp`))) {
        const { header, body } = decodeBlock(raw)
        const rules = chain.rulesAt(header.number, header.timestamp)
        const fork = rules.fork
        const errors = validateBody(header, body, rules, { recoverSenders: true })
        expect(errors.map((e) => e.message), `block ${header.number} (${fork})`).toEqual([])
        for (const tx of body.transactions()) txTypes.add(tx.type)
        forks.add(fork)
        blocks++
      }
      expect(blocks).toBeGreaterThanOrEqual(500)
      expect(forks.has('cancun')).toBe(true)
      expect(txTypes.has(0) && txTypes.has(2)).toBe(true)
    })
  }
})

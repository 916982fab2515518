/**
 * Real transactions of every type, from JSON-RPC block results (nimbus-eth1 fork-boundary blocks,
 * ethereumjs test blocks). @ethereumjs/tx serializes each JSON transaction (reference
 * implementation); our Transaction must then give the hash, sender, type and chainId the JSON states,
 * the envelopes must rebuild the header's transactionsRoot, and each transaction must pass the
 * state-free validity rules in its block.
 */
import { readFileSync } from 'node:fs'
import { Mainnet, createCustomCommon } from '@ethereumjs/common'
import { createTxFromRPC } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { type Hardfork, rulesAt } from '../../src/chain/forks.js'
import { bytesToHex } from '../../src/primitives/bytes.js'
import { Transaction } from '../../src/primitives/transaction.js'
import { orderedTrieRoot } from '../../src/primitives/trie.js'
import { validateTransaction } from '../../src/validator/transaction.js'
import { fixturePath } from '../fixtures.js'

interface RpcTx {
  hash: string
  from: string
  type?: string
  chainId?: string
  [key: string]: unknown
}
interface RpcBlock {
  number: string
  transactionsRoot: string
  gasLimit: string
  baseFeePerGas?: string
  transactions: RpcTx[]
}

/** ethereumjs-common hardfork names for our forks (they call Frontier "chainstart"). */
const EJS_FORK: Partial<Record<Hardfork, string>> = { frontier: 'chainstart', constantinople: 'petersburg', tangerineWhistle: 'tangerineWhistle' }

interface Case {
  file: string[]
  chainId: bigint
  fork: Hardfork
}

const nimbus = (name: string, fork: Hardfork): Case => ({ file: ['nimbus-eth1', 'nimbus_verified_proxy', 'tests', 'data', `${name}.json`], chainId: 1n, fork })
const ejs = (name: string, chainId: bigint, fork: Hardfork): Case => ({ file: ['ethereumjs-monorepo', 'packages', 'block', 'test', 'testdata', name], chainId, fork })

const CASES: Case[] = [
  nimbus('Frontier', 'frontier'),
  nimbus('Homestead', 'homestead'),
  nimbus('Byzantium', 'byzantium'),
  nimbus('Constantinople', 'petersburg'),
  nimbus('Istanbul', 'istanbul'),
  nimbus('Berlin', 'berlin'),
  nimbus('London', 'london'),
  nimbus('Paris', 'paris'),
  nimbus('Shanghai', 'shanghai'),
  nimbus('Cancun', 'cancun'),
  nimbus('Prague', 'prague'),
  ejs('infura2000004wtxs.json', 1n, 'homestead'),
  ejs('alchemy14151203.json', 1n, 'arrowGlacier'),
  ejs('infura15571241wtxns.json', 1n, 'paris'),
  ejs('testdata-from-rpc-goerli.json', 5n, 'petersburg'),
  ejs('infura-goerli-block-10536893.json', 5n, 'cancun'),
]

async function envelopeOf(tx: RpcTx, c: Case): Promise<Uint8Array> {
  // ethereumjs insists on a KZG backend for blob txs; it is only used for network wrappers (blobs and
  // proofs), which block transactions never carry.
  const kzg = {} as never
  const common = createCustomCommon({ chainId: Number(c.chainId) }, Mainnet, { hardfork: EJS_FORK[c.fork] ?? c.fork, customCrypto: { kzg } })
  const ref = await createTxFromRPC(tx as never, { common })
  return ref.serialize()
}

describe('transactions of real JSON-RPC blocks', () => {
  const seenTypes = new Set<number>()
  let unprotectedLegacy = 0
  let protectedLegacy = 0
  for (const c of CASES) {
    it(`${c.file.at(-1)} (${c.fork})`, async () => {
      const block = JSON.parse(readFileSync(fixturePath(...c.file), 'utf8')) as RpcBlock
      const rules = rulesAt(c.chainId, c.fork)
      const context = {
        gasLimit: BigInt(block.gasLimit),
        baseFeePerGas: block.baseFeePerGas === undefined ? undefined : BigInt(block.baseFeePerGas),
        blobBaseFee: undefined,
      }
      const envelopes: Uint8Array[] = []
      for (const json of block.transactions) {
        const tx = Transaction.fromEnvelope(await envelopeOf(json, c))
        envelopes.push(tx.envelope)
        seenTypes.add(tx.type)
        expect(bytesToHex(tx.hash)).toBe(json.hash)
        expect(tx.type).toBe(Number(json.type ?? 0))
        expect(bytesToHex(tx.sender()!)).toBe(json.from.toLowerCase())
        const chainId = tx.decode().chainId
        if (json.chainId !== undefined && chainId !== undefined) expect(chainId).toBe(BigInt(json.chainId))
        if (tx.type > 0) expect(chainId).toBe(c.chainId)
        if (tx.type === 0 && chainId === undefined) unprotectedLegacy++
        if (tx.type === 0 && chainId !== undefined) protectedLegacy++
        expect(validateTransaction(tx, rules, context).map((e) => e.message), json.hash).toEqual([])
      }
      expect(bytesToHex(orderedTrieRoot(envelopes))).toBe(block.transactionsRoot)
    })
  }
  it('covers transaction types 0 to 3 and pre-EIP-155 legacy transactions', () => {
    expect([...seenTypes].sort()).toEqual([0, 1, 2, 3])
    expect(unprotectedLegacy).toBeGreaterThan(0)
    expect(protectedLegacy).toBeGreaterThan(0)
  })
})

/**
 * Builds consistent (or deliberately inconsistent) headers and bodies for unit tests: the header's
 * roots are computed from the body unless overridden.
 */
import { BlockBody } from '../../src/primitives/body.js'
import type { Bytes } from '../../src/primitives/bytes.js'
import { BlockHeader } from '../../src/primitives/header.js'
import { keccak256 } from '../../src/primitives/keccak.js'
import { type EncodableInput, encode, encodeListOfEncoded } from '../../src/primitives/rlp.js'
import type { Transaction } from '../../src/primitives/transaction.js'
import { orderedTrieRoot } from '../../src/primitives/trie.js'

export interface HeaderFields {
  parentHash: Bytes
  ommersHash: Bytes
  coinbase: Bytes
  stateRoot: Bytes
  transactionsRoot: Bytes
  receiptsRoot: Bytes
  logsBloom: Bytes
  difficulty: bigint
  number: bigint
  gasLimit: bigint
  gasUsed: bigint
  timestamp: bigint
  extraData: Bytes
  mixHash: Bytes
  nonce: Bytes
  baseFeePerGas: bigint
  withdrawalsRoot: Bytes
  blobGasUsed: bigint
  excessBlobGas: bigint
  parentBeaconBlockRoot: Bytes
  requestsHash: Bytes
}

const ORDER: Array<keyof HeaderFields> = [
  'parentHash', 'ommersHash', 'coinbase', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'logsBloom', 'difficulty', 'number',
  'gasLimit', 'gasUsed', 'timestamp', 'extraData', 'mixHash', 'nonce', 'baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed',
  'excessBlobGas', 'parentBeaconBlockRoot', 'requestsHash',
]

export interface TestBlock {
  header: BlockHeader
  body: BlockBody
}

/**
 * A Prague-shaped block (21 header fields) holding `txs` and `withdrawals`; `fieldCount` cuts the
 * header to an older fork's shape, `override` replaces computed fields.
 */
export function buildBlock(
  txs: readonly Transaction[],
  opts: { withdrawals?: EncodableInput[] | undefined; ommers?: Bytes[]; override?: Partial<HeaderFields>; fieldCount?: number } = {},
): TestBlock {
  const withdrawals = 'withdrawals' in opts ? opts.withdrawals : []
  const ommersRaw = encodeListOfEncoded(opts.ommers ?? [])
  const parts = [encodeListOfEncoded(txs.map((t) => t.bodyItem())), ommersRaw]
  if (withdrawals !== undefined) parts.push(encode(withdrawals))
  const body = BlockBody.decode(encodeListOfEncoded(parts))
  const zero32 = new Uint8Array(32)
  let blobGas = 0n
  for (const t of txs) blobGas += 131_072n * BigInt(t.decode().blobVersionedHashes?.length ?? 0)
  const fields: HeaderFields = {
    parentHash: zero32,
    ommersHash: keccak256(ommersRaw),
    coinbase: new Uint8Array(20),
    stateRoot: zero32,
    transactionsRoot: orderedTrieRoot(txs.map((t) => t.envelope)),
    receiptsRoot: zero32,
    logsBloom: new Uint8Array(256),
    difficulty: 0n,
    number: 1n,
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    timestamp: 1n,
    extraData: new Uint8Array(0),
    mixHash: zero32,
    nonce: new Uint8Array(8),
    baseFeePerGas: 7n,
    withdrawalsRoot: withdrawals === undefined ? zero32 : orderedTrieRoot(withdrawals.map((w) => encode(w))),
    blobGasUsed: blobGas,
    excessBlobGas: 0n,
    parentBeaconBlockRoot: zero32,
    requestsHash: zero32,
    ...opts.override,
  }
  const header = BlockHeader.decode(encode(ORDER.slice(0, opts.fieldCount ?? ORDER.length).map((k) => fields[k])))
  return { header, body }
}

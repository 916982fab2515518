/** Builds raw header RLP from the JSON forms the fixtures use (JSON-RPC names and BlockchainTests names). */
import { hexToBytes, type Bytes } from '../../src/primitives/bytes.js'
import { encode, type RlpInput } from '../../src/primitives/rlp.js'

const FIELDS: ReadonlyArray<readonly [readonly string[], 'data' | 'quantity']> = [
  [['parentHash'], 'data'],
  [['sha3Uncles', 'uncleHash'], 'data'],
  [['miner', 'coinbase'], 'data'],
  [['stateRoot'], 'data'],
  [['transactionsRoot', 'transactionsTrie'], 'data'],
  [['receiptsRoot', 'receiptTrie'], 'data'],
  [['logsBloom', 'bloom'], 'data'],
  [['difficulty'], 'quantity'],
  [['number'], 'quantity'],
  [['gasLimit'], 'quantity'],
  [['gasUsed'], 'quantity'],
  [['timestamp'], 'quantity'],
  [['extraData'], 'data'],
  [['mixHash'], 'data'],
  [['nonce'], 'data'],
  [['baseFeePerGas'], 'quantity'],
  [['withdrawalsRoot'], 'data'],
  [['blobGasUsed'], 'quantity'],
  [['excessBlobGas'], 'quantity'],
  [['parentBeaconBlockRoot'], 'data'],
  [['requestsHash'], 'data'],
]

export function headerRlpFromJson(json: Record<string, unknown>): Bytes {
  const out: RlpInput[] = []
  for (const [names, kind] of FIELDS) {
    const value = names.map((n) => json[n]).find((v) => v !== undefined && v !== null) as string | undefined
    if (value === undefined) break
    out.push(kind === 'quantity' ? BigInt(value) : hexToBytes(value))
  }
  return encode(out)
}

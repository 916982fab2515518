/** Command-line options naming a benchmark chain, shared by every bench script. */
import { DEFAULT_CHAIN_PARAMS, type BenchChainParams } from './cache.js'

export const CHAIN_OPTIONS = {
  'chain-head': { type: 'string', default: String(DEFAULT_CHAIN_PARAMS.head) },
  txs: { type: 'string', default: DEFAULT_CHAIN_PARAMS.txsPerBlock.join('-') },
  seed: { type: 'string', default: String(DEFAULT_CHAIN_PARAMS.seed) },
} as const

export function chainParams(values: { 'chain-head': string; txs: string; seed: string }): BenchChainParams {
  const [min, max] = values.txs.split('-').map(Number)
  const params: BenchChainParams = { head: Number(values['chain-head']), txsPerBlock: [min, max ?? min], seed: Number(values.seed) }
  if (!Number.isInteger(params.head) || params.head < 2) throw new Error(`--chain-head must be an integer >= 2, got ${values['chain-head']}`)
  if (!(params.txsPerBlock[0] >= 1 && params.txsPerBlock[1] >= params.txsPerBlock[0])) throw new Error(`--txs must be MIN-MAX, got ${values.txs}`)
  return params
}

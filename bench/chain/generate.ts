/**
 * Generates (once) and caches a benchmark chain; prints its cache directory and summary.
 *
 *   npm run bench:chain [-- --chain-head 3000 --txs 100-200 --seed 1]
 */
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './args.js'
import { ensureBenchChain } from './cache.js'

const { values } = parseArgs({ options: CHAIN_OPTIONS })
const params = chainParams(values)
const { dir, meta, generated } = await ensureBenchChain(params, (m) => process.stderr.write(`[bench-chain] ${m}\n`))
const { hashes: _hashes, ...summary } = meta
process.stdout.write(JSON.stringify({ dir, generated, ...summary }, null, 2) + '\n')

/**
 * Runs the replay JSON-RPC server standalone on a benchmark chain (generated first if not cached).
 *
 *   npm run replay:rpc -- [--port 8545] [--head N] [--chain-head 3000 --txs 100-200 --seed 1]
 *
 * Prints {"url": ..., "head": ..., "chainId": ...} on stdout once listening; stops on SIGINT/SIGTERM
 * and then prints what it served.
 */
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from '../chain/args.js'
import { log, startReplay } from '../lib/replay.js'

const { values } = parseArgs({ options: { ...CHAIN_OPTIONS, port: { type: 'string', default: '0' }, head: { type: 'string' } } })
const replay = await startReplay(chainParams(values), { port: Number(values.port), head: values.head === undefined ? undefined : Number(values.head) })
process.stdout.write(JSON.stringify({ url: replay.url, head: replay.head, chainId: replay.meta.chainId, txs: replay.meta.txs }) + '\n')

const shutdown = () => {
  void replay.stop().then(() => {
    const { methods, calls, httpRequests, bytesOut } = replay.server.stats
    log(`served ${calls} calls in ${httpRequests} HTTP requests, ${(bytesOut / 1e6).toFixed(1)} MB: ${JSON.stringify(methods)}`)
  })
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)

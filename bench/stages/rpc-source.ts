/**
 * Stage figure (not a baseline): evm-syncer's own JSON-RPC source alone — RpcPool.getBlocks with
 * receipts, i.e. fetch + JSON parse + RLP rebuild + header hash check, `--lanes` windows of
 * `--window` blocks in flight, no validation and no store. The ceiling a sync over JSON-RPC can
 * reach on one core before validation and storing.
 *
 *   tsx bench/stages/rpc-source.ts --rpc URL --to N [--window 64 --lanes 2 --batch 20 --concurrency 4 --rebuild-threads N]
 *
 * `--rebuild-threads` defaults to the pool's default (-1 here); 0 rebuilds on the main thread.
 */
import { RpcPool } from '../../src/sources/rpc/pool.js'
import { clientArgs, report } from '../lib/client-args.js'

const args = clientArgs({ window: 64, lanes: 2, batch: 20, concurrency: 4, 'rebuild-threads': -1 })
const rebuildThreads = args['rebuild-threads'] < 0 ? undefined : args['rebuild-threads']
const pool = new RpcPool({ urls: [args.rpc], batchSize: args.batch, maxConcurrency: args.concurrency, rebuildThreads })
await pool.start()
let blocks = 0
let next = args.from
const started = performance.now()
const lane = async () => {
  while (next <= args.to) {
    const from = next
    const count = Math.min(args.window, args.to - from + 1)
    next += count
    // A short answer is normal for a source: ask again for the rest.
    for (let done = 0; done < count; ) {
      const got = await pool.getBlocks(from + done, count - done, true)
      done += got.length
      blocks += got.length
    }
  }
}
await Promise.all(Array.from({ length: args.lanes }, lane))
const seconds = (performance.now() - started) / 1000
await pool.stop()
report({ client: 'evm-syncer rpc source', blocks, seconds, settings: { window: args.window, lanes: args.lanes, batch: args.batch, concurrency: args.concurrency, rebuildThreads: rebuildThreads ?? 'default' } })

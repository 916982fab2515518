/** A benchmark chain (generated on first use) loaded into an in-process replay JSON-RPC server. */
import { ensureBenchChain, loadBenchChain, type BenchChainMeta, type BenchChainParams } from '../chain/cache.js'
import { ReplayRpcServer } from '../replay/rpc-server.js'
import { rpcTarget, type ReplayTarget } from './harness.js'

export interface Replay {
  server: ReplayRpcServer
  url: string
  target: ReplayTarget
  meta: BenchChainMeta
  /** Highest block loaded (the server serves 0..head unless setHead lowers it). */
  head: number
  stop(): Promise<void>
}

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

export async function startReplay(params: BenchChainParams, opts: { head?: number; port?: number } = {}): Promise<Replay> {
  const { dir } = await ensureBenchChain(params, log)
  const started = performance.now()
  const chain = loadBenchChain(dir, opts.head)
  const head = chain.blocks.length - 1
  const server = new ReplayRpcServer(chain)
  const url = await server.start(opts.port ?? 0)
  log(`replay server ${url}: blocks 0..${head} of ${dir} loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return { server, url, target: rpcTarget(server, url), meta: chain.meta, head, stop: () => server.stop() }
}

/**
 * A benchmark chain served by replay devp2p peers (the project's eth/66-69 server, honouring geth's
 * limits: 1024 items, 2 MiB soft cap per answer) running in this process. Blocks are rebuilt once
 * from the cached JSON to raw RLP (header, body, receipts) and shared by all peers. With `receipts`,
 * both receipt forms (eth/68, eth/69) are built before the first request: otherwise the first client
 * of a run pays for building them (the bare loop's raw serve rate read ~3x low).
 *
 * The syncer learns an Anvil chain from a JSON-RPC endpoint (a dev chain: block 1 repeats the genesis
 * base fee, which no genesis.json can say), so a replay JSON-RPC server serving block 0 only (head 0)
 * runs beside the peers: `{rpc}` identifies the chain, every later block must come over devp2p.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadChain } from '../../src/chain/chains.js'
import { equalBytes } from '../../src/primitives/bytes.js'
import { MemoryChain } from '../../src/sources/devp2p/testing/memory-chain.js'
import { Devp2pServer } from '../../src/sources/devp2p/testing/server.js'
import { rebuildBlock, type JsonObject } from '../../src/sources/rpc/rebuild.js'
import { ensureBenchChain, loadBenchChain, type BenchChainParams } from '../chain/cache.js'
import { ReplayRpcServer } from '../replay/rpc-server.js'
import { benchGenesis } from '../chain/genesis.js'
import type { ReplayTarget, Served } from './harness.js'
import { log } from './replay.js'

export interface P2pReplay {
  servers: Devp2pServer[]
  /** genesis.json of the chain (for `sync --chain FILE`). */
  genesisFile: string
  head: number
  /** The first `peers` servers as one target ({peers}: enodes, comma-separated; {genesis}; {rpc}: block 0 only). */
  target(peers: number): ReplayTarget
  stop(): Promise<void>
}

const ITEM_KINDS = ['headers', 'bodies', 'receipts'] as const

export async function startP2pReplay(params: BenchChainParams, head: number, peers: number, opts: { receipts: boolean }): Promise<P2pReplay> {
  const { dir } = await ensureBenchChain(params, log)
  const started = performance.now()
  const json = loadBenchChain(dir, head)
  const chain = new MemoryChain()
  for (let n = 0; n < json.blocks.length; n++) {
    const block = JSON.parse(json.blocks[n].toString()) as JsonObject
    const raw = rebuildBlock(block, { receipts: JSON.parse(json.receipts[n].toString()) as unknown[] })
    chain.add(raw.header, raw.body, raw.receipts)
    if (opts.receipts) chain.receiptsFor(chain.byNumberOf(n)!, 68)
  }
  const tmp = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-p2p-'))
  const genesisFile = join(tmp, 'genesis.json')
  const genesisRpc = new ReplayRpcServer({ chainId: json.chainId, blocks: json.blocks.slice(0, 1), headers: json.headers.slice(0, 1), receipts: json.receipts.slice(0, 1), hashes: json.hashes.slice(0, 1) })
  const servers: Devp2pServer[] = []
  const stopAll = async () => {
    await Promise.all([...servers.map((s) => s.stop()), genesisRpc.stop()])
    rmSync(tmp, { recursive: true, force: true })
  }
  const top = chain.head()
  let rpcUrl: string
  try {
    writeFileSync(genesisFile, JSON.stringify(benchGenesis(json.chainId, JSON.parse(json.headers[0].toString()))))
    const spec = loadChain(genesisFile)
    if (!equalBytes(spec.genesis.hash, chain.byNumberOf(0)!.hash)) throw new Error(`bench genesis.json does not reproduce block 0 of ${dir}`)
    rpcUrl = await genesisRpc.start()
    for (let i = 0; i < peers; i++) {
      const server = new Devp2pServer({ chain, networkId: spec.networkId, genesisHash: spec.genesis.hash, forkId: spec.forkId(top.number, Number(spec.genesisHeader.timestamp)) })
      servers.push(server)
      await server.start()
    }
  } catch (err) {
    await stopAll()
    throw err
  }
  log(`${peers} devp2p replay peer(s): blocks 0..${top.number} of ${dir} rebuilt to RLP in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  // The server counts items, not request times: the first request is seen by polling its counters.
  let base: Served = { methods: {}, calls: 0, bytesOut: 0, firstBlockRequestAt: undefined }
  let firstAt: number | undefined
  let poll: NodeJS.Timeout | undefined
  const totals = () => {
    const methods: Record<string, number> = { headers: 0, bodies: 0, receipts: 0 }
    let bytes = 0
    for (const s of servers) {
      const st = s.stats()
      for (const k of ITEM_KINDS) methods[k] += st[k]
      bytes += st.bytes
    }
    return { methods, bytes, items: methods.headers + methods.bodies + methods.receipts }
  }
  const target = (count: number): ReplayTarget => ({
    vars: { peers: servers.slice(0, count).map((s) => s.enode).join(','), genesis: genesisFile, rpc: rpcUrl },
    reset: () => {
      const t = totals()
      base = { methods: t.methods, calls: t.items, bytesOut: t.bytes, firstBlockRequestAt: undefined }
      genesisRpc.resetStats()
      firstAt = undefined
      clearInterval(poll)
      poll = setInterval(() => {
        if (totals().items === base.calls) return
        firstAt = performance.now()
        clearInterval(poll)
      }, 5)
      poll.unref()
    },
    served: () => {
      clearInterval(poll)
      const t = totals()
      const methods = Object.fromEntries(ITEM_KINDS.map((k) => [k, t.methods[k] - base.methods[k]]))
      for (const [m, n] of Object.entries(genesisRpc.stats.methods)) methods[`rpc ${m}`] = n
      return { methods, calls: t.items - base.calls, bytesOut: t.bytes - base.bytesOut, firstBlockRequestAt: firstAt }
    },
  })
  return {
    servers,
    genesisFile,
    head: top.number,
    target,
    stop: async () => {
      clearInterval(poll)
      await stopAll()
    },
  }
}

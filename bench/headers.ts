/**
 * bench:headers — headers-only sync (`sync --headers-only`: header chain verified and stored, no
 * bodies or receipts), each source against its raw header serve rate measured in the same run:
 *  - JSON-RPC: the replay server, versus the bare fetch loop (eth_getBlockByNumber(n, false) in batches);
 *  - devp2p: `--p2p-peers` replay peers, versus the bare devp2p request loop asking for headers only.
 * Target (issue 7): >= 10,000 headers/s. Default chain: 20,000 blocks of 1-5 transactions (generated
 * once, ~3 minutes); `--chain-head 3000 --txs 100-200` measures the sync benchmark's heavy chain.
 *
 *   npm run bench:headers [-- --blocks N --syncer "<command>" --fetch 100x2,200x4 --p2p-peers 4 (0: none)
 *                          --profile --out FILE]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './chain/args.js'
import { DEFAULT_SYNCER_COMMAND, fetchLoop, p2pLoop, parseFetchConfigs, syncer, syncerUnavailable } from './lib/clients.js'
import { profileTable, type ProfileSummary } from './lib/cpu-profile.js'
import { best, profiledRun, runClient, table, type RunResult } from './lib/harness.js'
import { machine } from './lib/machine.js'
import { startP2pReplay } from './lib/p2p-replay.js'
import { log, startReplay } from './lib/replay.js'

const HEADERS_ONLY = '--headers-only'
/** A long chain of light blocks (1-5 txs): header-only JSON of ~1 KB, and enough headers to time. */
const HEADERS_CHAIN = { 'chain-head': { type: 'string', default: '20000' }, txs: { type: 'string', default: '1-5' } } as const
const { values } = parseArgs({
  options: {
    ...CHAIN_OPTIONS,
    ...HEADERS_CHAIN,
    blocks: { type: 'string' },
    syncer: { type: 'string', default: `${DEFAULT_SYNCER_COMMAND} ${HEADERS_ONLY}` },
    fetch: { type: 'string', default: '100x2,200x4,500x4' },
    'p2p-peers': { type: 'string', default: '4' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const params = chainParams(values)
const to = values.blocks === undefined ? params.head : Number(values.blocks)
params.head = Math.max(params.head, to)

const replay = await startReplay(params, { head: to })
const fetchRuns: RunResult[] = []
const syncerRuns: RunResult[] = []
const syncerSkipped = syncerUnavailable(values.syncer, [HEADERS_ONLY])
let profile: ProfileSummary | undefined
try {
  for (const [batch, concurrency] of parseFetchConfigs(values.fetch)) {
    const r = await runClient(fetchLoop(batch, concurrency, true), replay.target, { from: 0, to })
    log(`${r.name}: ${r.ok ? `${r.blocksPerSec} headers/s` : `FAILED ${r.error}`}`)
    fetchRuns.push(r)
  }
  if (syncerSkipped) log(`evm-syncer headers-only not measured: ${syncerSkipped}`)
  else {
    const r = await runClient(syncer(values.syncer, 'lmdb', { label: 'evm-syncer headers-only' }), replay.target, { from: 0, to })
    log(`${r.name}: ${r.ok ? `${r.blocksPerSec} headers/s` : `FAILED ${r.error}`}`)
    syncerRuns.push(r)
    if (values.profile && r.ok) {
      const spec = (profileDir: string) => syncer(values.syncer, 'lmdb', { label: 'evm-syncer headers-only (profiled)', profileDir })
      profile = await profiledRun(spec, replay.target, { from: 0, to })
    }
  }
} finally {
  await replay.stop()
}

// The same over devp2p: every header from replay peers ({rpc} serves block 0 only, for the chain).
const p2pPeers = Number(values['p2p-peers'])
const p2pLoopRuns: RunResult[] = []
const p2pSyncerRuns: RunResult[] = []
if (p2pPeers > 0) {
  const p2p = await startP2pReplay(params, to, p2pPeers, { receipts: false })
  try {
    const loop = await runClient({ ...p2pLoop(192, 2, true), name: `p2p loop headers peers=${p2pPeers}` }, p2p.target(p2pPeers), { from: 1, to })
    log(`${loop.name}: ${loop.ok ? `${loop.blocksPerSec} headers/s` : `FAILED ${loop.error}`}`)
    p2pLoopRuns.push(loop)
    if (!syncerSkipped) {
      const spec = syncer(values.syncer, 'lmdb', { label: `evm-syncer headers-only p2p peers=${p2pPeers}`, env: { EVM_SYNCER_PEER: '{peers}' } })
      const r = await runClient(spec, p2p.target(p2pPeers), { from: 1, to })
      log(`${r.name}: ${r.ok ? `${r.blocksPerSec} headers/s` : `FAILED ${r.error}`}`)
      p2pSyncerRuns.push(r)
    }
  } finally {
    await p2p.stop()
  }
}

const ratio = (ours: RunResult | undefined, base: RunResult | undefined) => (ours && base ? Math.round((100 * ours.blocksPerSec) / base.blocksPerSec) / 100 : undefined)
const serveRate = best(fetchRuns)
const ours = best(syncerRuns)
const p2pServe = best(p2pLoopRuns)
const p2pOurs = best(p2pSyncerRuns)
const output = {
  bench: 'headers',
  at: new Date().toISOString(),
  machine: machine(),
  headers: to + 1,
  target: 10_000,
  serveRate: serveRate && { client: serveRate.name, headersPerSec: serveRate.blocksPerSec },
  syncer: ours && { headersPerSec: ours.blocksPerSec, xServeRate: ratio(ours, serveRate) },
  ...(p2pPeers > 0 ? { p2p: { peers: p2pPeers, serveRate: p2pServe?.blocksPerSec, syncer: p2pOurs?.blocksPerSec, xServeRate: ratio(p2pOurs, p2pServe) } } : {}),
  ...(syncerSkipped ? { syncerSkipped } : {}),
  ...(profile ? { profile } : {}),
  results: [...fetchRuns, ...syncerRuns],
  p2pResults: [...p2pLoopRuns, ...p2pSyncerRuns],
}
process.stderr.write(`\nbench:headers, headers 0..${to} over JSON-RPC (rates in headers/s)\n${table(output.results, { 'serve rate': serveRate })}\n`)
if (p2pPeers > 0) process.stderr.write(`\nover devp2p, headers 1..${to} from ${p2pPeers} peer(s)\n${table(output.p2pResults, { 'serve rate': p2pServe })}\n`)
if (profile) process.stderr.write(`\n${profileTable(profile)}\n`)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

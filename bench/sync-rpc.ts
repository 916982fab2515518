/**
 * bench:sync-rpc — evm-syncer syncing blocks 0..N from the replay JSON-RPC server into LMDB and into
 * redis-server, versus (same server, same run) a plain viem loop (best of concurrency 1 and 10), a
 * bare fetch loop (best of several batch x concurrency settings) and @subsquid/evm-processor.
 *
 *   npm run bench:sync-rpc [-- --blocks 1500 --stores lmdb,redis --profile --repeat 1
 *                             --syncer "<command with {rpc} {store} {to}>" --fetch 10x2,20x4
 *                             --only syncer|baselines --out results.json]
 *
 * Every client runs as a child process (bench/lib/harness.ts); the server runs in this process.
 * Prints one JSON object on stdout and a table with ratios to the baselines on stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './chain/args.js'
import { DEFAULT_SYNCER_COMMAND, fetchLoop, parseFetchConfigs, sqd, syncer, syncerUnavailable, viemLoop, type StoreKind } from './lib/clients.js'
import { profileTable, summariseProfiles, type ProfileSummary } from './lib/cpu-profile.js'
import { best, runClient, table, type ClientSpec, type RunResult } from './lib/harness.js'
import { machine } from './lib/machine.js'
import { log, startReplay } from './lib/replay.js'

const { values } = parseArgs({
  options: {
    ...CHAIN_OPTIONS,
    blocks: { type: 'string', default: '1500' },
    stores: { type: 'string', default: 'lmdb,redis' },
    syncer: { type: 'string', default: DEFAULT_SYNCER_COMMAND },
    fetch: { type: 'string', default: '5x4,10x2,10x4,20x2,20x4,50x2' },
    'sqd-capacity': { type: 'string', default: '5,10' },
    repeat: { type: 'string', default: '1' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})

const to = Number(values.blocks)
const repeat = Number(values.repeat)
const params = chainParams(values)
if (params.head < to) params.head = to

async function runBest(replay: Awaited<ReturnType<typeof startReplay>>, specs: ClientSpec[]): Promise<RunResult[]> {
  const results: RunResult[] = []
  for (const spec of specs) {
    for (let i = 0; i < repeat; i++) {
      const r = await runClient(spec, replay.server, replay.url, { from: 0, to })
      log(`${r.name}: ${r.ok ? `${r.blocksPerSec} blocks/s, ${r.activeSeconds} s, ${r.peakRssMiB} MiB, ${r.cpuSeconds.total} s CPU` : `FAILED ${r.error}`}`)
      results.push(r)
    }
  }
  return results
}

const replay = await startReplay(params, { head: params.head })
replay.server.setHead(to)
const results: { viem: RunResult[]; fetch: RunResult[]; sqd: RunResult[]; syncer: RunResult[] } = { viem: [], fetch: [], sqd: [], syncer: [] }
let profile: ProfileSummary | undefined
let syncerSkipped: string | undefined
try {
  if (values.only !== 'syncer') {
    results.fetch = await runBest(replay, parseFetchConfigs(values.fetch).map(([b, c]) => fetchLoop(b, c)))
    results.viem = await runBest(replay, [viemLoop(1), viemLoop(10)])
    results.sqd = await runBest(replay, values['sqd-capacity'].split(',').map((c) => sqd(Number(c))))
  }
  if (values.only !== 'baselines') {
    syncerSkipped = syncerUnavailable(values.syncer)
    if (syncerSkipped) log(`evm-syncer not measured: ${syncerSkipped}`)
    else {
      const stores = values.stores.split(',') as StoreKind[]
      results.syncer = await runBest(replay, stores.map((s) => syncer(values.syncer, s)))
      if (values.profile) {
        const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-prof-'))
        try {
          const r = await runClient(syncer(values.syncer, stores[0], { profileDir: dir, label: 'evm-syncer (profiled)' }), replay.server, replay.url, { from: 0, to })
          if (r.ok) profile = summariseProfiles(dir, r.blocks)
          else log(`profiled run failed: ${r.error}`)
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      }
    }
  }
} finally {
  await replay.stop()
}

const baselines = { viem: best(results.viem), sqd: best(results.sqd), fetch: best(results.fetch) }
const ratio = (r: RunResult | undefined, b: RunResult | undefined) => (r && b ? Math.round((100 * r.blocksPerSec) / b.blocksPerSec) / 100 : undefined)
const comparisons = results.syncer
  .filter((r) => r.ok)
  .map((r) => ({ client: r.name, blocksPerSec: r.blocksPerSec, xViem: ratio(r, baselines.viem), xSqd: ratio(r, baselines.sqd), xFetch: ratio(r, baselines.fetch) }))
const allResults = [...results.fetch, ...results.viem, ...results.sqd, ...results.syncer]
const output = {
  bench: 'sync-rpc',
  at: new Date().toISOString(),
  machine: machine(),
  chain: { ...params, blocks: to + 1, txs: allResults.find((r) => r.txs !== undefined)?.txs },
  best: { viem: baselines.viem?.name, sqd: baselines.sqd?.name, fetch: baselines.fetch?.name },
  comparisons,
  ...(syncerSkipped ? { syncerSkipped } : {}),
  ...(profile ? { profile } : {}),
  results: allResults,
}
process.stderr.write(`\nbench:sync-rpc, blocks 0..${to}, ${machine().cores} cores\n${table(output.results, baselines)}\n`)
if (profile) process.stderr.write(`\n${profileTable(profile)}\n`)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

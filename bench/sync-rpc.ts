/**
 * bench:sync-rpc — evm-syncer syncing blocks 0..N from the replay JSON-RPC server into LMDB and into
 * redis-server, versus (same server, same run) a plain viem loop (best of concurrency 1 and 10), a
 * bare fetch loop (best of several batch x concurrency settings) and @subsquid/evm-processor.
 *
 *   npm run bench:sync-rpc [-- --blocks 1500 --stores lmdb,redis --profile --repeat 3
 *                             --syncer "<command with {rpc} {store} {to}>" --label NAME --fetch 10x2,20x4
 *                             --variants="|--recover-senders" (extra syncer flags per variant, '|'-separated)
 *                             --only syncer|baselines --out results.json]
 *
 * Every client runs as a child process (bench/lib/harness.ts); the server runs in this process.
 * Prints one JSON object on stdout and a table with ratios to the baselines on stderr.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './chain/args.js'
import { DEFAULT_SYNCER_COMMAND, fetchLoop, parseFetchConfigs, rpcSource, sqd, syncer, syncerUnavailable, viemLoop, type StoreKind } from './lib/clients.js'
import { profileTable, type ProfileSummary } from './lib/cpu-profile.js'
import { best, bestByName, profiledRun, runClient, table, type ClientSpec, type RunResult } from './lib/harness.js'
import { machine } from './lib/machine.js'
import { log, startReplay, type Replay } from './lib/replay.js'

const { values } = parseArgs({
  options: {
    ...CHAIN_OPTIONS,
    blocks: { type: 'string', default: '1500' },
    stores: { type: 'string', default: 'lmdb,redis' },
    syncer: { type: 'string', default: DEFAULT_SYNCER_COMMAND },
    label: { type: 'string', default: 'evm-syncer' },
    variants: { type: 'string', default: '' },
    fetch: { type: 'string', default: '2x4,5x2,5x4,10x2' },
    'sqd-capacity': { type: 'string', default: '5,10' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})

const to = Number(values.blocks)
const repeat = Number(values.repeat)
const params = chainParams(values)
if (params.head < to) params.head = to

type Group = 'fetch' | 'viem' | 'sqd' | 'source' | 'syncer'

/**
 * `repeat` rounds over every client, interleaved, so a burst of load from elsewhere on the machine
 * hits all clients alike; each client's best round counts.
 */
async function runRounds(replay: Replay, specs: ReadonlyArray<readonly [Group, ClientSpec]>): Promise<Record<Group, RunResult[]>> {
  const results: Record<Group, RunResult[]> = { fetch: [], viem: [], sqd: [], source: [], syncer: [] }
  for (let round = 1; round <= repeat; round++) {
    for (const [group, spec] of specs) {
      const r = await runClient(spec, replay.target, { from: 0, to })
      log(`${repeat > 1 ? `round ${round}: ` : ''}${r.name}: ${r.ok ? `${r.blocksPerSec} blocks/s, ${r.activeSeconds} s, ${r.peakRssMiB} MiB, ${r.cpuSeconds.total} s CPU` : `FAILED ${r.error}`}`)
      results[group].push(r)
    }
  }
  return results
}

const specs: Array<[Group, ClientSpec]> = []
if (values.only !== 'syncer') {
  for (const [b, c] of parseFetchConfigs(values.fetch)) specs.push(['fetch', fetchLoop(b, c)])
  specs.push(['viem', viemLoop(1)], ['viem', viemLoop(10)])
  for (const c of values['sqd-capacity'].split(',')) specs.push(['sqd', sqd(Number(c))])
}
if (values.only !== 'baselines') specs.push(['source', rpcSource()])
const stores = values.stores.split(',') as StoreKind[]
const syncerSkipped = values.only === 'baselines' ? undefined : syncerUnavailable(values.syncer)
if (syncerSkipped) log(`evm-syncer not measured: ${syncerSkipped}`)
else if (values.only !== 'baselines') {
  for (const extra of values.variants.split('|').map((v) => v.trim())) {
    const label = extra ? `${values.label} ${extra}` : values.label
    for (const store of stores) specs.push(['syncer', syncer(`${values.syncer} ${extra}`, store, { label })])
  }
}

const replay = await startReplay(params, { head: to })
let results: Record<Group, RunResult[]>
let profile: ProfileSummary | undefined
try {
  results = await runRounds(replay, specs)
  if (values.profile && results.syncer.length > 0) {
    const spec = (profileDir: string) => syncer(values.syncer, stores[0], { profileDir, label: `${values.label} (profiled)` })
    profile = await profiledRun(spec, replay.target, { from: 0, to })
  }
} finally {
  await replay.stop()
}

const baselines = { viem: best(results.viem), sqd: best(results.sqd), fetch: best(results.fetch) }
const ratio = (r: RunResult | undefined, b: RunResult | undefined) => (r && b ? Math.round((100 * r.blocksPerSec) / b.blocksPerSec) / 100 : undefined)
const comparisons = bestByName(results.syncer)
  .filter((r) => r.ok)
  .map((r) => ({ client: r.name, blocksPerSec: r.blocksPerSec, xViem: ratio(r, baselines.viem), xSqd: ratio(r, baselines.sqd), xFetch: ratio(r, baselines.fetch) }))
const allResults = [...results.fetch, ...results.viem, ...results.sqd, ...results.source, ...results.syncer]
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
process.stderr.write(`\nbench:sync-rpc, blocks 0..${to}, ${machine().cores} cores, best of ${repeat} round(s)\n${table(bestByName(output.results), baselines)}\n`)
if (profile) process.stderr.write(`\n${profileTable(profile)}\n`)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

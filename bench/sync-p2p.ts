/**
 * bench:sync-p2p — evm-syncer syncing blocks 0..N over devp2p from 1 and from 4 replay peers (the
 * project's eth/68-69 server, geth's serving limits, running in this process), versus the peers' raw
 * serve rate measured by a bare request loop (bench/baselines/p2p-loop.ts) in the same run.
 * Target (issue 7): >= 0.9x min(raw serve rate, bench:validate rate x validation workers). The
 * validate rate is measured in the same run on the same blocks (bench/stages/validate-chain.ts, one
 * thread, eth/69 receipts as the replay peers serve them); the workers are the syncer's validation
 * threads (`--workers`, default the syncer's own default: cores - 1, at least 1).
 *
 *   npm run bench:sync-p2p [-- --blocks 1500 --peers 1,4 --store lmdb --repeat 1 --profile
 *                             --syncer "<command with {genesis} {store} {to}; peers in EVM_SYNCER_PEER>"]
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './chain/args.js'
import { DEFAULT_P2P_SYNCER_COMMAND, p2pLoop, syncer, syncerUnavailable, type StoreKind } from './lib/clients.js'
import { profileTable, type ProfileSummary } from './lib/cpu-profile.js'
import { best, bestByName, profiledRun, runClient, table, type ClientSpec, type RunResult } from './lib/harness.js'
import { machine } from './lib/machine.js'
import { startP2pReplay } from './lib/p2p-replay.js'
import { log } from './lib/replay.js'

const { values } = parseArgs({
  options: {
    ...CHAIN_OPTIONS,
    blocks: { type: 'string', default: '1500' },
    peers: { type: 'string', default: '1,4' },
    store: { type: 'string', default: 'lmdb' },
    syncer: { type: 'string', default: DEFAULT_P2P_SYNCER_COMMAND },
    loop: { type: 'string', default: '128x2' },
    workers: { type: 'string', default: String(Math.max(1, availableParallelism() - 1)) },
    repeat: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const to = Number(values.blocks)
const repeat = Number(values.repeat)
const peerCounts = values.peers.split(',').map(Number)
const [chunk, lanes] = values.loop.split('x').map(Number)
const params = chainParams(values)
params.head = Math.max(params.head, to)
const store = values.store as StoreKind

const syncerSkipped = syncerUnavailable(values.syncer)
if (syncerSkipped) log(`evm-syncer not measured: ${syncerSkipped}`)
const syncerFor = (peers: number, profileDir?: string) =>
  syncer(values.syncer, store, { label: `evm-syncer p2p peers=${peers}${profileDir ? ' (profiled)' : ''}`, env: { EVM_SYNCER_PEER: '{peers}' }, profileDir })

const replay = await startP2pReplay(params, to, Math.max(...peerCounts), { receipts: true })
const rows: Array<{ peers: number; loop: RunResult[]; syncer: RunResult[] }> = peerCounts.map((peers) => ({ peers, loop: [], syncer: [] }))
let profile: ProfileSummary | undefined
try {
  for (let round = 1; round <= repeat; round++) {
    for (const row of rows) {
      const specs: Array<[RunResult[], ClientSpec]> = [[row.loop, { ...p2pLoop(chunk, lanes), name: `p2p loop peers=${row.peers}` }]]
      if (!syncerSkipped) specs.push([row.syncer, syncerFor(row.peers)])
      for (const [into, spec] of specs) {
        const r = await runClient(spec, replay.target(row.peers), { from: 1, to })
        log(`${repeat > 1 ? `round ${round}: ` : ''}${r.name}: ${r.ok ? `${r.blocksPerSec} blocks/s, ${r.activeSeconds} s, ${r.peakRssMiB} MiB` : `FAILED ${r.error}`}`)
        into.push(r)
      }
    }
  }
  if (values.profile && !syncerSkipped) {
    const peers = Math.max(...peerCounts)
    profile = await profiledRun((dir) => syncerFor(peers, dir), replay.target(peers), { from: 1, to })
  }
} finally {
  await replay.stop()
}

/** One thread's validation rate on these blocks, measured in a child process after the syncs. */
function validateRate(): number {
  const chainArgs = ['--chain-head', values['chain-head'], '--txs', values.txs, '--seed', values.seed]
  const args = ['--import', 'tsx', 'bench/stages/validate-chain.ts', '--cases', 'inline', '--blocks', String(to), '--rounds', '3', ...chainArgs]
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  return (JSON.parse(out.trim().split('\n').pop()!) as { results: { inline: { blocksPerSec: number } } }).results.inline.blocksPerSec
}
const workers = Number(values.workers)
const validatePerThread = validateRate()
const round2 = (x: number) => Math.round(100 * x) / 100
const comparisons = rows.map((row) => {
  const raw = best(row.loop)
  const ours = best(row.syncer)
  const bound = raw ? Math.min(raw.blocksPerSec, validatePerThread * workers) : undefined
  return {
    peers: row.peers,
    rawServeRate: raw?.blocksPerSec,
    validateRate: { perThread: validatePerThread, workers },
    targetBound: bound,
    syncer: ours?.blocksPerSec,
    xRawServeRate: raw && ours ? round2(ours.blocksPerSec / raw.blocksPerSec) : undefined,
    xTargetBound: bound && ours ? round2(ours.blocksPerSec / bound) : undefined,
  }
})
const all = rows.flatMap((r) => [...r.loop, ...r.syncer])
const output = {
  bench: 'sync-p2p',
  at: new Date().toISOString(),
  machine: machine(),
  chain: { ...params, blocks: to + 1 },
  store,
  comparisons,
  ...(syncerSkipped ? { syncerSkipped } : {}),
  ...(profile ? { profile } : {}),
  results: all,
}
process.stderr.write(`\nbench:sync-p2p, blocks 0..${to}, best of ${repeat} round(s)\n${table(bestByName(all))}\n`)
for (const c of comparisons) {
  process.stderr.write(
    `peers=${c.peers}: raw serve ${c.rawServeRate ?? '-'} blocks/s, validate ${validatePerThread} blocks/s x ${workers} worker(s); ` +
      `evm-syncer ${c.syncer ?? '-'} blocks/s = ${c.xTargetBound ?? '-'}x min(raw, validate x workers) (target >= 0.9), ${c.xRawServeRate ?? '-'}x raw\n`,
  )
}
if (profile) process.stderr.write(`\n${profileTable(profile)}\n`)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

/**
 * bench:sync-p2p — evm-syncer syncing blocks 0..N over devp2p from 1 and from 4 replay peers (the
 * project's eth/68-69 server, geth's serving limits, running in this process), versus the peers' raw
 * serve rate measured by a bare request loop (bench/baselines/p2p-loop.ts) in the same run.
 * Target (issue 7): >= 0.9x min(raw serve rate, bench:validate rate x validation workers). The
 * validate rate is measured in the same run on the same blocks (bench/stages/validate-chain.ts, one
 * thread, eth/69 receipts as the replay peers serve them); the workers are the syncer's validation
 * threads (`--workers`, default the syncer's own default: cores - 1, at least 1); the validate rate is
 * measured before and after the syncs and the higher one counts. Beside it (not part of the target),
 * a cold validation pass: fresh workers validating these blocks once, with nothing else running (the
 * sync's own start is cold too; the rest of its gap is sharing the cores). `--steady` also
 * syncs to N/2 in each round and reports the rate of the second half (N/2 over the extra active
 * time), where the one-off start-up (V8's compilation, pipeline fill and drain) cancels out; the
 * validate term is a warmed-up rate too.
 *
 *   npm run bench:sync-p2p [-- --blocks 1500 --peers 1,4 --store lmdb --repeat 1 --profile --steady
 *                             --syncer "<command with {genesis} {store} {to}; peers in EVM_SYNCER_PEER>"]
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './chain/args.js'
import { DEFAULT_P2P_SYNCER_COMMAND, p2pLoop, syncer, syncerUnavailable, type StoreKind } from './lib/clients.js'
import { coreUseLine } from './lib/core-use.js'
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
    steady: { type: 'boolean', default: false },
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
const syncerFor = (peers: number, profileDir?: string, suffix = '') =>
  syncer(values.syncer, store, { label: `evm-syncer p2p peers=${peers}${suffix}${profileDir ? ' (profiled)' : ''}`, env: { EVM_SYNCER_PEER: '{peers}' }, profileDir })
/** `--steady`: each round also syncs to half the range; the difference is the rate once start-up (warm-up, pipeline fill) is paid. */
const half = Math.floor(to / 2)

/**
 * Validation rates on these blocks, measured in a child process: one thread after a warm-up (the
 * target's term), and one pass by `--workers` fresh workers (`cold`: what a sync of just these
 * blocks could reach if nothing else ran; reported beside the target, not instead of it).
 */
function validateRates(): { warm: number; cold: number } {
  const chainArgs = ['--chain-head', values['chain-head'], '--txs', values.txs, '--seed', values.seed]
  const args = ['--import', 'tsx', 'bench/stages/validate-chain.ts', '--cases', 'inline,cold', '--workers', values.workers, '--blocks', String(to), '--rounds', '3', ...chainArgs]
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const { results } = JSON.parse(out.trim().split('\n').pop()!) as { results: Record<'inline' | 'cold', { blocksPerSec: number }> }
  return { warm: results.inline.blocksPerSec, cold: results.cold.blocksPerSec }
}
// Measured before and after the syncs; the higher counts, so a round disturbed by other work cannot
// lower the bound and flatter the syncer's ratio.
const ratesBefore = validateRates()
const validateBefore = ratesBefore.warm
const replay = await startP2pReplay(params, to, Math.max(...peerCounts), { receipts: true })
const rows: Array<{ peers: number; loop: RunResult[]; syncer: RunResult[]; half: RunResult[] }> = peerCounts.map((peers) => ({ peers, loop: [], syncer: [], half: [] }))
let profile: ProfileSummary | undefined
try {
  for (let round = 1; round <= repeat; round++) {
    for (const row of rows) {
      const specs: Array<[RunResult[], ClientSpec, number]> = [[row.loop, { ...p2pLoop(chunk, lanes), name: `p2p loop peers=${row.peers}` }, to]]
      if (!syncerSkipped) specs.push([row.syncer, syncerFor(row.peers), to])
      if (!syncerSkipped && values.steady) specs.push([row.half, syncerFor(row.peers, undefined, ` to ${half}`), half])
      for (const [into, spec, upTo] of specs) {
        const r = await runClient(spec, replay.target(row.peers), { from: 1, to: upTo })
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

const workers = Number(values.workers)
const ratesAfter = validateRates()
const validateAfter = ratesAfter.warm
const validatePerThread = Math.max(validateBefore, validateAfter)
const coldPass = Math.max(ratesBefore.cold, ratesAfter.cold)
const round2 = (x: number) => Math.round(100 * x) / 100
const comparisons = rows.map((row) => {
  const raw = best(row.loop)
  const ours = best(row.syncer)
  const bound = raw ? Math.min(raw.blocksPerSec, validatePerThread * workers) : undefined
  const halfRun = best(row.half)
  // Blocks half+1..to over the extra active time they took: start-up is in both runs and cancels.
  const steady = ours && halfRun && ours.activeSeconds > halfRun.activeSeconds ? Math.round((10 * (to - half)) / (ours.activeSeconds - halfRun.activeSeconds)) / 10 : undefined
  return {
    peers: row.peers,
    rawServeRate: raw?.blocksPerSec,
    validateRate: { perThread: validatePerThread, workers, beforeAndAfter: [validateBefore, validateAfter] },
    targetBound: bound,
    syncer: ours?.blocksPerSec,
    xRawServeRate: raw && ours ? round2(ours.blocksPerSec / raw.blocksPerSec) : undefined,
    xTargetBound: bound && ours ? round2(ours.blocksPerSec / bound) : undefined,
    ...(steady !== undefined && bound ? { steadySyncer: steady, xTargetBoundSteady: round2(steady / bound) } : {}),
    coldValidatePass: { blocksPerSec: coldPass, beforeAndAfter: [ratesBefore.cold, ratesAfter.cold], xSyncer: ours ? round2(ours.blocksPerSec / coldPass) : undefined },
  }
})
const all = rows.flatMap((r) => [...r.loop, ...r.syncer, ...r.half])
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
for (const [i, c] of comparisons.entries()) {
  const cores = best(rows[i].syncer)?.cores
  process.stderr.write(
    `peers=${c.peers}: raw serve ${c.rawServeRate ?? '-'} blocks/s, validate ${validatePerThread} blocks/s x ${workers} worker(s); ` +
      `evm-syncer ${c.syncer ?? '-'} blocks/s = ${c.xTargetBound ?? '-'}x min(raw, validate x workers) (target >= 0.9), ${c.xRawServeRate ?? '-'}x raw\n` +
      (c.steadySyncer === undefined ? '' : `  steady (blocks ${half + 1}..${to} over the extra time past a sync to ${half}): ${c.steadySyncer} blocks/s = ${c.xTargetBoundSteady}x min(raw, validate x workers)\n`) +
      `  cold validation pass (${workers} fresh worker(s), these blocks once, nothing else running): ${coldPass} blocks/s; evm-syncer = ${c.coldValidatePass.xSyncer ?? '-'}x of it\n` +
      (cores ? `  evm-syncer's ${coreUseLine(cores)}\n` : ''),
  )
}
if (profile) process.stderr.write(`\n${profileTable(profile)}\n`)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

/**
 * bench:scale — the same sync for N and 2N blocks of one chain: the time ratio (target <= 2.1: no
 * slowdown as the store grows) and peak RSS of each (target: flat, <= 1 GiB).
 *
 *   npm run bench:scale [-- --blocks 1500 --client syncer:lmdb --syncer "<command>" --out FILE]
 *
 * `--client` is any harness client (syncer:lmdb, syncer:redis, fetch:10x4, viem:1, sqd:10).
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { CHAIN_OPTIONS, chainParams } from './chain/args.js'
import { clientByName, DEFAULT_SYNCER_COMMAND, syncerUnavailable } from './lib/clients.js'
import { runClient, table, type RunResult } from './lib/harness.js'
import { log, startReplay } from './lib/replay.js'
import { machine } from './lib/machine.js'

const { values } = parseArgs({
  options: {
    ...CHAIN_OPTIONS,
    blocks: { type: 'string', default: '1500' },
    client: { type: 'string', default: 'syncer:lmdb' },
    syncer: { type: 'string', default: DEFAULT_SYNCER_COMMAND },
    out: { type: 'string' },
  },
})
const n = Number(values.blocks)
const params = chainParams(values)
params.head = Math.max(params.head, 2 * n)

if (values.client.startsWith('syncer:')) {
  const why = syncerUnavailable(values.syncer)
  if (why) {
    log(`bench:scale cannot run ${values.client}: ${why}`)
    process.exit(2)
  }
}

const replay = await startReplay(params, { head: 2 * n })
const runs: RunResult[] = []
try {
  for (const to of [n, 2 * n]) {
    replay.server.setHead(to)
    const r = await runClient(clientByName(values.client, values.syncer), replay.target, { from: 0, to })
    r.name = `${r.name} (0..${to})`
    log(`${r.name}: ${r.ok ? `${r.activeSeconds} s, ${r.blocksPerSec} blocks/s, ${r.peakRssMiB} MiB` : `FAILED ${r.error}`}`)
    runs.push(r)
  }
} finally {
  await replay.stop()
}

const [small, large] = runs
const timeRatio = small.ok && large.ok ? Math.round((100 * large.activeSeconds) / small.activeSeconds) / 100 : undefined
// CPU time is what a busy machine disturbs least: the same ratio over CPU seconds.
const cpuRatio = small.ok && large.ok ? Math.round((100 * large.cpuSeconds.total) / small.cpuSeconds.total) / 100 : undefined
const rssRatio = small.ok && large.ok ? Math.round((100 * large.peakRssMiB) / small.peakRssMiB) / 100 : undefined
// Without the store's memory-mapped pages (LMDB), which grow with the store by design.
const anonRssRatio = small.ok && large.ok ? Math.round((100 * large.peakAnonRssMiB) / small.peakAnonRssMiB) / 100 : undefined
const output = {
  bench: 'scale',
  at: new Date().toISOString(),
  machine: machine(),
  client: values.client,
  blocks: [n + 1, 2 * n + 1],
  timeRatio,
  cpuRatio,
  rssRatio,
  anonRssRatio,
  peakRssMiB: Math.max(small.peakRssMiB, large.peakRssMiB),
  targets: { timeRatio: 2.1, peakRssMiB: 1024 },
  pass: timeRatio !== undefined && timeRatio <= 2.1 && Math.max(small.peakRssMiB, large.peakRssMiB) <= 1024,
  results: runs,
}
process.stderr.write(`\nbench:scale ${values.client}: time ratio 2N/N = ${timeRatio ?? '-'} (target <= 2.1), CPU time ratio ${cpuRatio ?? '-'}, peak RSS ${small.peakRssMiB} -> ${large.peakRssMiB} MiB (target flat, <= 1024), anonymous ${small.peakAnonRssMiB} -> ${large.peakAnonRssMiB} MiB\n${table(runs)}\n`)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

/**
 * Runs one client as a child process against replay servers and measures it from the outside:
 * wall time (spawn to exit), the active sync window (the server's first block request to exit, so
 * runtime start-up is not counted against short runs), peak RSS and CPU time (GNU time's wait4
 * figures: every thread and waited-for child of the client), plus what the server served. Peak RSS
 * counts the pages of a memory-mapped store (LMDB) the client touched, which grow with the store and
 * which the kernel may drop at will; the peak anonymous RSS (sampled from /proc every 100 ms) is the
 * client's own memory.
 *
 * The client is any command line; `{rpc}`, `{from}`, `{to}` and other `{name}` placeholders in its
 * arguments are filled in per run. It runs in its own process group so a timeout stops all of it.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ReplayRpcServer } from '../replay/rpc-server.js'
import type { ClientReport } from './client-args.js'
import { CoreSampler, processTree, type CoreUse } from './core-use.js'
import { summariseProfiles, type ProfileSummary } from './cpu-profile.js'

/** What a replay target served since its last reset. */
export interface Served {
  /** JSON-RPC calls per method, or (devp2p) items served per kind. */
  methods: Record<string, number>
  calls: number
  bytesOut: number
  /** performance.now() of the first block, header, body or receipt request; undefined = none. */
  firstBlockRequestAt: number | undefined
}

/** The server(s) a client syncs from, running in this process. */
export interface ReplayTarget {
  /** Placeholder values naming the target for the client's command line ({rpc}, {peers}, ...). */
  vars: Record<string, string>
  reset(): void
  served(): Served
}

export function rpcTarget(server: ReplayRpcServer, url: string): ReplayTarget {
  return {
    vars: { rpc: url },
    reset: () => void server.resetStats(),
    served: () => {
      const s = server.stats
      return { methods: s.methods, calls: s.calls, bytesOut: s.bytesOut, firstBlockRequestAt: s.firstBlockCallAt }
    },
  }
}

export interface ClientSpec {
  /** Label in tables and JSON. */
  name: string
  /** Executable and arguments; `{placeholder}`s are filled from the run's variables. */
  command: readonly string[]
  /** Extra environment; placeholders are filled here too. */
  env?: Record<string, string>
  /** Runs before the client (e.g. a fresh store directory); its variables join the placeholders. */
  prepare?: () => Promise<Record<string, string>> | Record<string, string>
  /** Runs after the client, whatever the outcome (e.g. remove the store directory). */
  cleanup?: () => Promise<void> | void
}

export interface RunResult {
  name: string
  ok: boolean
  exitCode: number | null
  blocks: number
  txs: number | undefined
  wallSeconds: number
  /** First block request seen by the server -> client exit. */
  activeSeconds: number
  blocksPerSec: number
  peakRssMiB: number
  /** Peak of the client's anonymous memory (heap, buffers), without file-backed pages; NaN without /proc. */
  peakAnonRssMiB: number
  cpuSeconds: { user: number; system: number; total: number }
  cpuMsPerBlock: number
  /** What the replay server(s) served, and the CPU this (server) process spent meanwhile. */
  server: Pick<Served, 'calls' | 'methods'> & { megabytesOut: number; cpuSeconds: number }
  /** Per-thread run and runnable-wait time of the client, the servers' CPU and idle cores over the active window (Linux). */
  cores?: CoreUse
  /** The client's own JSON line, when it prints one. */
  report?: ClientReport
  command: string
  error?: string
}

export interface RunOptions {
  from: number
  to: number
  /** Extra placeholder values. */
  vars?: Record<string, string>
  timeoutMs?: number
  /** Where the client's stderr goes: kept (tail shown on failure) or passed through. */
  stderr?: 'keep' | 'inherit'
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

export function fillPlaceholders(args: readonly string[], vars: Record<string, string>): string[] {
  return args.map((a) =>
    a.replace(/\{(\w+)\}/g, (m, name: string) => {
      if (!(name in vars)) throw new Error(`client argument ${a}: no value for ${m}`)
      return vars[name]
    }),
  )
}

/** GNU time's `-f '%e %U %S %M'`: elapsed, user, system seconds and max RSS in KiB. */
function readTimeFile(file: string): { user: number; system: number; maxRssKiB: number } | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  // A killed or failing child makes time print a "Command exited/terminated ..." line first.
  const line = text.trim().split('\n').pop() ?? ''
  const [, user, system, rss] = line.split(' ').map(Number)
  return Number.isFinite(rss) ? { user, system, maxRssKiB: rss } : undefined
}

/** Anonymous RSS (KiB) of a process tree (`processTree`, root first), from /proc; undefined when the root's cannot be read. */
function treeAnonRssKiB(pids: readonly number[]): number | undefined {
  let kib = 0
  for (const pid of pids) {
    try {
      kib += Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    } catch {
      if (pid === pids[0]) return undefined
    }
  }
  return pids.length === 0 ? undefined : kib
}

export async function runClient(spec: ClientSpec, target: ReplayTarget, opts: RunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-run-'))
  const timeFile = join(dir, 'time.txt')
  const prepared = (await spec.prepare?.()) ?? {}
  const vars = { ...target.vars, from: String(opts.from), to: String(opts.to), ...prepared, ...opts.vars }
  const argv = fillPlaceholders(spec.command, vars)
  const blocks = opts.to - opts.from + 1
  // The previous run's store pages are flushed now, not by the kernel during this run.
  execFileSync('sync')
  target.reset()
  try {
    const started = performance.now()
    const serverCpu = process.cpuUsage()
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...argv], {
      detached: true,
      env: { ...process.env, ...Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, fillPlaceholders([v], vars)[0]])) },
      stdio: ['ignore', 'pipe', opts.stderr === 'inherit' ? 'inherit' : 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)))
    let peakAnonKiB = NaN
    const cores = new CoreSampler()
    // One walk of the client's process tree per tick serves both samples.
    const sample = () => {
      const pids = child.pid === undefined ? [] : processTree(child.pid)
      const kib = treeAnonRssKiB(pids)
      if (kib !== undefined) peakAnonKiB = Number.isNaN(peakAnonKiB) ? kib : Math.max(peakAnonKiB, kib)
      cores.sample(pids)
    }
    sample()
    const sampler = setInterval(sample, 100)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    }, opts.timeoutMs ?? 600_000)
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => resolve(code))
    })
    const ended = performance.now()
    clearInterval(sampler)
    const serverCpuUsed = process.cpuUsage(serverCpu)
    clearTimeout(timer)
    const stats = target.served()
    const usage = readTimeFile(timeFile)
    const report = lastJsonLine(stdout)
    const wallSeconds = (ended - started) / 1000
    const activeSeconds = stats.firstBlockRequestAt === undefined ? wallSeconds : (ended - stats.firstBlockRequestAt) / 1000
    const cpuTotal = usage ? usage.user + usage.system : NaN
    const ok = exitCode === 0 && !timedOut
    const coreUse = cores.window(stats.firstBlockRequestAt ?? started)
    return {
      name: spec.name,
      ok,
      exitCode,
      blocks,
      txs: report?.txs,
      wallSeconds: round(wallSeconds),
      activeSeconds: round(activeSeconds),
      blocksPerSec: round(blocks / activeSeconds, 1),
      peakRssMiB: usage ? round(usage.maxRssKiB / 1024, 1) : NaN,
      peakAnonRssMiB: round(peakAnonKiB / 1024, 1),
      cpuSeconds: { user: usage?.user ?? NaN, system: usage?.system ?? NaN, total: round(cpuTotal) },
      cpuMsPerBlock: round((cpuTotal * 1000) / blocks, 3),
      server: { calls: stats.calls, methods: stats.methods, megabytesOut: round(stats.bytesOut / 1e6, 1), cpuSeconds: round((serverCpuUsed.user + serverCpuUsed.system) / 1e6) },
      ...(coreUse ? { cores: coreUse } : {}),
      ...(report ? { report } : {}),
      command: argv.join(' '),
      ...(ok ? {} : { error: timedOut ? `timed out after ${opts.timeoutMs ?? 600_000} ms` : `exit ${exitCode}: ${stderr.slice(-2000)}` }),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await spec.cleanup?.()
  }
}

function lastJsonLine(text: string): ClientReport | undefined {
  for (const line of text.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    try {
      return JSON.parse(line) as ClientReport
    } catch {
      // not a JSON line: keep looking
    }
  }
  return undefined
}

/**
 * One more run of a client with node's --cpu-prof (the spec is made for a profile directory), and
 * its profile summarised; undefined (with the reason on stderr) when the run fails.
 */
export async function profiledRun(specFor: (profileDir: string) => ClientSpec, target: ReplayTarget, opts: RunOptions): Promise<ProfileSummary | undefined> {
  // EVM_SYNCER_BENCH_PROFILE_DIR keeps the .cpuprofile files there (for Chrome DevTools or speedscope).
  const keep = process.env.EVM_SYNCER_BENCH_PROFILE_DIR
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'evm-syncer-bench-prof-'))
  if (keep) mkdirSync(keep, { recursive: true })
  try {
    const r = await runClient(specFor(dir), target, opts)
    if (r.ok) return summariseProfiles(dir, r.blocks)
    process.stderr.write(`[bench] profiled run failed: ${r.error}\n`)
    return undefined
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true })
  }
}

/** The best successful run (highest blocks/s) of several, e.g. over concurrency settings. */
export function best(results: readonly RunResult[]): RunResult | undefined {
  return results.filter((r) => r.ok).sort((a, b) => b.blocksPerSec - a.blocksPerSec)[0]
}

/** Each client's best run (by name, first-seen order): the rows of a table over repeated rounds. */
export function bestByName(results: readonly RunResult[]): RunResult[] {
  const names = [...new Set(results.map((r) => r.name))]
  return names.map((name) => best(results.filter((r) => r.name === name)) ?? results.find((r) => r.name === name)!)
}

/** A fixed-width text table (stderr), one row per result, with ratios to named baselines. */
export function table(results: readonly RunResult[], baselines: Record<string, RunResult | undefined> = {}): string {
  const header = ['client', 'blocks', 'blocks/s', 'wall s', 'active s', 'peak RSS MiB', 'anon MiB', 'CPU s', 'CPU ms/block', ...Object.keys(baselines).map((b) => `x ${b}`)]
  const rows = results.map((r) => [
    r.name + (r.ok ? '' : ' (FAILED)'),
    String(r.blocks),
    r.ok ? r.blocksPerSec.toFixed(1) : '-',
    r.wallSeconds.toFixed(2),
    r.activeSeconds.toFixed(2),
    r.peakRssMiB.toFixed(0),
    Number.isNaN(r.peakAnonRssMiB) ? '-' : r.peakAnonRssMiB.toFixed(0),
    r.cpuSeconds.total.toFixed(2),
    r.cpuMsPerBlock.toFixed(2),
    ...Object.values(baselines).map((b) => (b && r.ok ? (r.blocksPerSec / b.blocksPerSec).toFixed(2) : '-')),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

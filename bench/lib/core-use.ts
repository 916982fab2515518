/**
 * Where a machine's cores went while a client ran: per thread of the client's process tree, the
 * time it ran and the time it waited, runnable, for a core (`/proc/<pid>/task/<tid>/schedstat`) and
 * how much of its run was in the kernel (`.../stat`: system calls such as the store's writes, and
 * page faults), the CPU of this (the replay servers') process, and the machine's idle core time
 * (`/proc/stat`). Sampled
 * with the harness's 100 ms tick; a window is read between the last sample at or before its start
 * and the last sample taken (a thread's last values count when it ended earlier). Linux only: where
 * /proc cannot be read the window is undefined.
 *
 * It tells a sync that is short of cores (its busiest thread waiting runnable while the others run)
 * from one that is short of work (that thread idle) or limited by placement (waiting while cores
 * sit idle).
 */
import { availableParallelism } from 'node:os'
import { readdirSync, readFileSync } from 'node:fs'

interface ThreadTimes {
  /** ms on a core. */
  run: number
  /** ms runnable, waiting for a core. */
  wait: number
  /** ms of the run in the kernel (10 ms ticks). */
  kernel: number
}

interface Sample {
  at: number
  threads: Map<string, ThreadTimes>
  /** Machine idle + iowait, ms of core time. */
  idle: number
  /** This process's user + system CPU, ms. */
  self: number
}

export interface ThreadUse {
  /** `main <pid>` for a process's first thread, else `thread <tid>`. */
  thread: string
  runSeconds: number
  waitSeconds: number
  /** Part of `runSeconds` spent in the kernel (counted in 10 ms ticks, so approximate). */
  kernelSeconds: number
}

export interface CoreUse {
  seconds: number
  cores: number
  /** Machine idle core time over the window (all processes). */
  idleCoreSeconds: number
  /** CPU of this process (the replay servers) over the window. */
  serverSeconds: number
  /** The client's threads, busiest first. */
  threads: ThreadUse[]
}

const USER_HZ_MS = 10

/** `pid` and its descendants, `pid` first (from /proc/<pid>/task/<pid>/children); [] once `pid` has ended. */
export function processTree(pid: number): number[] {
  let children: string[]
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)
  } catch {
    return []
  }
  return [pid, ...children.flatMap((child) => processTree(Number(child)))]
}

/** A thread's system time, ms, from its stat line (fields after the parenthesised name; stime is the 13th). */
function kernelMs(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * USER_HZ_MS
}

/** Run, runnable-wait and kernel time of every thread of `pids`. */
function readThreads(pids: readonly number[]): Map<string, ThreadTimes> {
  const into = new Map<string, ThreadTimes>()
  for (const pid of pids) {
    let tids: string[]
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue // the process ended between samples
    }
    for (const tid of tids) {
      try {
        const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number)
        const kernel = kernelMs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
        into.set(Number(tid) === pid ? `main ${pid}` : `thread ${tid}`, { run: run / 1e6, wait: wait / 1e6, kernel })
      } catch {
        // the thread ended between listing and reading
      }
    }
  }
  return into
}

function machineIdleMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n')[0].trim().split(/\s+/)
  return (Number(fields[4]) + Number(fields[5])) * USER_HZ_MS
}

export class CoreSampler {
  private readonly samples: Sample[] = []
  private broken = false

  /** Samples the threads of `pids` (a client's `processTree`). */
  sample(pids: readonly number[]): void {
    if (this.broken) return
    try {
      const threads = readThreads(pids)
      const self = process.cpuUsage()
      this.samples.push({ at: performance.now(), threads, idle: machineIdleMs(), self: (self.user + self.system) / 1000 })
    } catch {
      this.broken = true
    }
  }

  /** Use from `from` (performance.now()) to the last sample. */
  window(from: number): CoreUse | undefined {
    if (this.broken) return undefined
    const startIndex = this.samples.findLastIndex((s) => s.at <= from)
    const start = this.samples[Math.max(0, startIndex)]
    const end = this.samples.at(-1)
    if (!start || !end || end === start) return undefined
    const last = new Map<string, ThreadTimes>()
    for (const s of this.samples) for (const [name, t] of s.threads) last.set(name, t)
    const seconds = (ms: number) => Math.round(ms) / 1000
    const threads = [...last]
      .map(([thread, t]) => {
        const before = start.threads.get(thread) ?? { run: 0, wait: 0, kernel: 0 }
        return { thread, runSeconds: seconds(t.run - before.run), waitSeconds: seconds(t.wait - before.wait), kernelSeconds: seconds(t.kernel - before.kernel) }
      })
      .filter((t) => t.runSeconds > 0 || t.waitSeconds > 0)
      .sort((a, b) => b.runSeconds - a.runSeconds)
    return {
      seconds: seconds(end.at - start.at),
      cores: availableParallelism(),
      idleCoreSeconds: seconds(end.idle - start.idle),
      serverSeconds: seconds(end.self - start.self),
      threads,
    }
  }
}

/** One line: the client's main thread and its busiest other thread (run, kernel part, runnable wait), the rest, the servers, idle. */
export function coreUseLine(use: CoreUse): string {
  const s = (x: number) => x.toFixed(2)
  const main = use.threads.find((t) => t.thread.startsWith('main'))
  const busiest = use.threads.find((t) => t !== main)
  const rest = use.threads.filter((t) => t !== main && t !== busiest)
  const sum = (ts: readonly ThreadUse[], f: (t: ThreadUse) => number) => ts.reduce((total, t) => total + f(t), 0)
  const ran = (ts: readonly ThreadUse[]) => `ran ${s(sum(ts, (t) => t.runSeconds))} s (${s(sum(ts, (t) => t.kernelSeconds))} s in the kernel)`
  const part = (label: string, t: ThreadUse | undefined) => (t ? `${label} ${ran([t])} and waited for a core ${s(t.waitSeconds)} s; ` : '')
  return (
    `cores over the window (${use.cores} x ${s(use.seconds)} s): ` +
    part('busiest thread besides main', busiest) +
    part('main thread', main) +
    `${rest.length} other threads ${ran(rest)}; ` +
    `replay servers ${s(use.serverSeconds)} s; idle ${s(use.idleCoreSeconds)} s`
  )
}

/**
 * Runs the built CLI (dist/cli/main.js). `npm test` builds before running vitest; a dist older than
 * src fails loudly instead of testing stale code (rebuilding here would race between test files).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../fixtures.js'

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js')

function newestMtime(dir: string): number {
  let newest = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const s = statSync(p)
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs)
  }
  return newest
}

export function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return
  throw new Error(`${CLI} is missing or older than src/: run \`npm run build\` (npm test does it first)`)
}

export function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

export interface RunningCli {
  readonly pid: number
  /** Every stderr line so far (pino JSON logs and messages). */
  readonly lines: string[]
  readonly stdout: () => string
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Waits for a stderr line matching `pattern`; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>
  kill(signal?: NodeJS.Signals): void
}

/** Starts the built CLI as a child process (the caller must await `exited` or kill it). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let out = ''
  let partial = ''
  const waiters: Array<() => void> = []
  const notify = () => waiters.splice(0).forEach((w) => w())
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    notify()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      if (partial) lines.push(partial)
      notify()
      resolve({ code, signal })
    }),
  )
  let done = false
  void exited.then(() => (done = true))
  return {
    pid: child.pid!,
    lines,
    stdout: () => out,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    async waitForLine(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = lines.find((l) => pattern.test(l))
        if (hit) return hit
        if (done) throw new Error(`process exited before logging ${pattern}; last lines:\n${lines.slice(-10).join('\n')}`)
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; last lines:\n${lines.slice(-10).join('\n')}`)
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(500, deadline - Date.now()))
          waiters.push(() => {
            clearTimeout(t)
            r()
          })
        })
      }
    },
  }
}

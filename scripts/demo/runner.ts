/**
 * What both demos share: steps with timings, the built CLI (`dist/cli/main.js`) run as a child with
 * the terminal passed through (so the progress bar shows), Ctrl-C handling, and the final summary.
 *
 * Ctrl-C: the CLI child runs in its own process group, so the terminal's SIGINT reaches only this
 * script, which forwards exactly one SIGINT to it: the sync stops gracefully (drain, flush,
 * checkpoint) and the demo goes on to verify what was stored. A second Ctrl-C (or one while no CLI
 * child runs) stops the child at once, stops the peer by PID and ends the demo. The peer is in the
 * terminal's process group, so Ctrl-C reaches it too; stopping it by PID afterwards is then a no-op.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import { CLI } from '../../test/helpers/cli.js'
import { freePort } from '../../test/helpers/anvil.js'
import { REPO_ROOT } from '../../test/fixtures.js'

export const EXIT_INTERRUPTED = 130

export interface CliResult {
  code: number
  seconds: number
  /** The child's stdout, when captured. */
  stdout: string
}

export class Demo {
  private readonly cleanups: Array<() => Promise<void>> = []
  private readonly rows: Array<[string, string]> = []
  private child: ChildProcess | undefined
  private signals = 0
  private failed = false
  private finishing: Promise<never> | undefined

  constructor(readonly title: string) {
    process.on('SIGINT', () => this.onSignal('SIGINT'))
    process.on('SIGTERM', () => this.onSignal('SIGTERM'))
    process.stdout.write(`\n${title}\n\n`)
  }

  get interrupted(): boolean {
    return this.signals > 0
  }

  /** Registers a stop function (run in reverse order at the end, or on Ctrl-C). */
  onCleanup(stop: () => Promise<void>): void {
    this.cleanups.push(stop)
  }

  /** A summary row (printed by `finish`). */
  row(label: string, text: string): void {
    this.rows.push([label, text])
  }

  fail(label: string, text: string): void {
    this.failed = true
    this.row(label, text)
  }

  /** Runs `work` as a step, printing its name and how long it took. */
  async step<T>(name: string, work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
    process.stdout.write(`==> ${name}\n`)
    const started = performance.now()
    const value = await work()
    const seconds = (performance.now() - started) / 1000
    process.stdout.write(`    done in ${seconds.toFixed(1)} s\n`)
    return { value, seconds }
  }

  /**
   * Runs `evm-syncer <args>` with stdin ignored and stderr on the terminal (the progress bar);
   * stdout is inherited, or captured (and echoed unless `quiet`).
   */
  runCli(args: readonly string[], opts: { captureStdout?: boolean; quiet?: boolean } = {}): Promise<CliResult> {
    process.stdout.write(`    $ evm-syncer ${args.join(' ')}\n`)
    const started = performance.now()
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', opts.captureStdout ? 'pipe' : 'inherit', 'inherit'],
      detached: true,
    })
    this.child = child
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      if (!opts.quiet) process.stdout.write(chunk)
    })
    return new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => {
        this.child = undefined
        resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), seconds: (performance.now() - started) / 1000, stdout })
      })
    })
  }

  /** Stops what was started, prints the summary, and exits (non-zero on any failure or Ctrl-C). */
  finish(): Promise<never> {
    this.finishing ??= this.summarize()
    return this.finishing
  }

  private async summarize(): Promise<never> {
    await this.cleanUp()
    const width = Math.max(...this.rows.map(([label]) => label.length))
    process.stdout.write(`\n${this.title}: summary\n`)
    for (const [label, text] of this.rows) process.stdout.write(`  ${label.padEnd(width)}  ${text}\n`)
    const verdict = this.interrupted ? 'INTERRUPTED' : this.failed ? 'FAILED' : 'OK'
    process.stdout.write(`  ${'result'.padEnd(width)}  ${verdict}\n\n`)
    process.exit(this.interrupted ? EXIT_INTERRUPTED : this.failed ? 1 : 0)
  }

  /** Reports an unexpected error (not the peer going away on Ctrl-C), stops everything, exits 1. */
  abort(err: unknown): Promise<never> {
    if (!this.interrupted) {
      process.stderr.write(`\ndemo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      this.failed = true
    }
    return this.finish()
  }

  private async cleanUp(): Promise<void> {
    for (const stop of this.cleanups.splice(0).reverse()) {
      await stop().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`))
    }
  }

  private onSignal(signal: NodeJS.Signals): void {
    this.signals++
    const child = this.child
    const running = child?.pid !== undefined && child.exitCode === null && child.signalCode === null
    // The sync stops gracefully on the first signal and at once on the second.
    if (running) process.kill(child.pid!, 'SIGINT')
    if (running && this.signals === 1) return
    process.stderr.write(`\n${signal}: stopping the demo\n`)
    void this.finish()
  }
}

export interface SyncAndVerify {
  /** How the sync reaches its source, e.g. ['--rpc', url]. */
  sourceArgs: readonly string[]
  /** How the source is named in the step title, e.g. 'JSON-RPC'. */
  via: string
  /** Store directory below the repository (wiped first: each run syncs from genesis). */
  storeDir: string
  /** The source's head, which the store's head must equal at the end. */
  head: { number: number; hash: string }
}

/**
 * The part both demos share: `sync` into a fresh LMDB store with the progress bar, `verify` on it,
 * and the stored head compared with the source's (`get block latest`).
 */
export async function syncAndVerify(demo: Demo, s: SyncAndVerify): Promise<void> {
  rmSync(join(REPO_ROOT, s.storeDir), { recursive: true, force: true })
  const store = `lmdb:${s.storeDir}`
  const metrics = `127.0.0.1:${await freePort()}`
  // On a terminal the bar shows progress; info logs (JSON lines) would break it up.
  const logLevel = process.stderr.isTTY ? ['--log-level', 'warn'] : []
  // Progress is the committed head: small commits keep the bar moving on a chain this short.
  const batch = ['--batch-size', '10']
  const { value: sync } = await demo.step(`syncing over ${s.via}: headers, bodies and receipts, every root checked (metrics on http://${metrics}/metrics)`, () =>
    demo.runCli(['sync', ...s.sourceArgs, '--store', store, '--metrics', metrics, ...batch, ...logLevel]),
  )
  const blocks = s.head.number + 1
  if (demo.interrupted) demo.row('sync', `stopped by Ctrl-C after ${sync.seconds.toFixed(1)} s, exit code ${sync.code}`)
  else if (sync.code === 0) demo.row('sync', `${plural(blocks, 'block')} in ${sync.seconds.toFixed(1)} s (${(blocks / sync.seconds).toFixed(1)} blocks/s, process start included) into ${store}`)
  else demo.fail('sync', `exit code ${sync.code} after ${sync.seconds.toFixed(1)} s`)

  const { value: verify } = await demo.step('verifying the store from its bytes: links, roots, blooms, pointers, commit record', () =>
    demo.runCli(['verify', '--store', store], { captureStdout: true }),
  )
  const verdict = verify.stdout.trim().split('\n')[0] || `exit code ${verify.code}`
  if (verify.code === 0) demo.row('verify', `${verdict} (${verify.seconds.toFixed(1)} s)`)
  else demo.fail('verify', verdict)

  const latest = await demo.runCli(['get', 'block', 'latest', '--store', store], { captureStdout: true, quiet: true })
  const stored = latest.code === 0 ? (JSON.parse(latest.stdout) as { block: { number: string; hash: string } }).block : undefined
  if (stored && Number(stored.number) === s.head.number && stored.hash === s.head.hash) demo.row('head', `block ${s.head.number} ${s.head.hash}: the store's head is the source's`)
  else if (demo.interrupted) demo.row('head', `stopped at ${stored ? `block ${Number(stored.number)}` : 'no block'} of ${s.head.number}`)
  else demo.fail('head', `the store's head ${stored ? `${Number(stored.number)} ${stored.hash}` : '(none)'} is not the source's ${s.head.number} ${s.head.hash}`)
  demo.row('inspect', `node dist/cli/main.js status --store ${store}; node dist/cli/main.js get block ${s.head.number} --store ${store} --receipts`)
}

export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
}

/**
 * The clients a benchmark can run: the baselines (bench/baselines/*.ts, run through tsx) and
 * evm-syncer itself, whose command line is a template so any build or flag set can be measured.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClientSpec } from './harness.js'
import { RedisServer } from '../../test/helpers/redis.js'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const NODE = process.execPath

/** A client script under bench/ run through tsx, with the common flags and its own. */
function benchScript(name: string, script: string, flags: Record<string, number>): ClientSpec {
  const own = Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])
  return { name, command: [NODE, '--import', 'tsx', join(REPO_ROOT, 'bench', script), '--rpc', '{rpc}', '--from', '{from}', '--to', '{to}', ...own] }
}
const baseline = (name: string, script: string, flags: Record<string, number>) => benchScript(name, `baselines/${script}`, flags)

export const viemLoop = (concurrency: number) => baseline(`viem c=${concurrency}`, 'viem-loop.ts', { concurrency })
export const fetchLoop = (batch: number, concurrency: number, headersOnly = false) =>
  baseline(`fetch${headersOnly ? ' headers' : ''} b=${batch} c=${concurrency}`, 'fetch-loop.ts', { batch, concurrency, 'headers-only': headersOnly ? 1 : 0 })
export const sqd = (capacity: number) => baseline(`sqd cap=${capacity}`, 'sqd.ts', { capacity })

/** evm-syncer's JSON-RPC source stage alone (fetch, parse, rebuild, header hash; no validation, no store). */
export const rpcSource = (window = 64, lanes = 2) => benchScript(`rpc source w=${window} l=${lanes}`, 'stages/rpc-source.ts', { window, lanes })

/** The devp2p bare request loop over the peers in {peers}. */
export const p2pLoop = (chunk = 128, lanes = 2, headersOnly = false): ClientSpec => ({
  name: `p2p loop${headersOnly ? ' headers' : ''} chunk=${chunk} lanes=${lanes}`,
  command: [
    ...[NODE, '--import', 'tsx', join(REPO_ROOT, 'bench', 'baselines', 'p2p-loop.ts'), '--peers', '{peers}', '--genesis', '{genesis}', '--to', '{to}'],
    ...['--chunk', String(chunk), '--lanes', String(lanes), ...(headersOnly ? ['--headers-only'] : [])],
  ],
})

/** `--fetch 10x2,20x4` style batch x concurrency lists. */
export function parseFetchConfigs(text: string): Array<[batch: number, concurrency: number]> {
  return text.split(',').map((pair) => {
    const [batch, concurrency] = pair.split('x').map(Number)
    if (!(batch >= 1 && concurrency >= 1)) throw new Error(`bad fetch config ${pair}: want BATCHxCONCURRENCY`)
    return [batch, concurrency]
  })
}

const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js')
export const DEFAULT_SYNCER_COMMAND = `${NODE} ${CLI} sync --rpc {rpc} --store {store} --to {to} --no-progress --no-metrics`
/**
 * Over devp2p: the peers come in EVM_SYNCER_PEER (a comma list); {rpc} serves block 0 only, so the
 * syncer knows the dev chain (bench/lib/p2p-replay.ts) and fetches every block over devp2p.
 */
export const DEFAULT_P2P_SYNCER_COMMAND = `${NODE} ${CLI} sync --rpc {rpc} --store {store} --to {to} --no-progress --no-metrics`

export type StoreKind = 'lmdb' | 'redis'

/**
 * evm-syncer into a fresh store per run: an LMDB directory in a temp dir, or a redis-server started
 * for the run (its own CPU and memory are not counted: it stands for the production Pika server).
 * `profileDir` adds `--cpu-prof` (one .cpuprofile per thread) when the command runs node.
 */
export function syncer(commandTemplate: string, store: StoreKind, opts: { profileDir?: string; label?: string; env?: Record<string, string> } = {}): ClientSpec {
  let command = commandTemplate.split(/\s+/).filter(Boolean)
  if (opts.profileDir && command[0] === NODE) command = [NODE, '--cpu-prof', '--cpu-prof-dir', opts.profileDir, ...command.slice(1)]
  let dir: string | undefined
  let redis: RedisServer | undefined
  return {
    name: `${opts.label ?? 'evm-syncer'} ${store}`,
    command,
    env: { EVM_SYNCER_LOG_LEVEL: process.env.EVM_SYNCER_LOG_LEVEL ?? 'warn', ...opts.env },
    prepare: async () => {
      if (store === 'lmdb') {
        dir = mkdtempSync(join(tmpdir(), 'evm-syncer-bench-lmdb-'))
        return { store: `lmdb:${join(dir, 'data')}` }
      }
      redis = await RedisServer.start()
      return { store: redis.url }
    },
    cleanup: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true })
      dir = undefined
      await redis?.close()
      redis = undefined
    },
  }
}

/**
 * Why the syncer command cannot run (no build, no `sync` command, or its help does not list one of
 * its flags or `requiredFlags`), or undefined when it can.
 */
export function syncerUnavailable(commandTemplate: string, requiredFlags: readonly string[] = []): string | undefined {
  const [exe, ...args] = commandTemplate.split(/\s+/).filter(Boolean)
  const script = args.find((a) => a.endsWith('.js'))
  if (script && !existsSync(script)) return `${script} not found (run npm run build)`
  const subcommand = args.slice(args.indexOf(script ?? '') + 1).find((a) => !a.startsWith('-'))
  const help = spawnSync(exe, [...(script ? [script] : []), ...(subcommand ? [subcommand] : []), '--help'], { encoding: 'utf8', timeout: 30_000 })
  const what = [exe, script, subcommand].filter(Boolean).join(' ')
  if (help.status !== 0) return `${what} --help failed: ${(help.stderr || help.stdout).trim().split('\n')[0]}`
  // Commander answers `--help` of an unknown subcommand with the top-level help: check the flags.
  // Flags before the script are node's own (e.g. --max-semi-space-size), not the syncer's.
  const syncerArgs = script ? args.slice(args.indexOf(script) + 1) : args
  const flags = [...new Set([...syncerArgs.filter((a) => /^--[a-z]/.test(a)), ...requiredFlags])]
  const missing = flags.filter((f) => !help.stdout.includes(f))
  return missing.length > 0 ? `${what} has no ${missing.join(', ')} option` : undefined
}

/**
 * A client named on the command line: `syncer:lmdb`, `syncer:redis`, `fetch:BATCHxCONCURRENCY`,
 * `viem:CONCURRENCY`, `sqd:CAPACITY`. The syncer's command line comes from `syncerCommand`.
 */
export function clientByName(text: string, syncerCommand = DEFAULT_SYNCER_COMMAND): ClientSpec {
  const [kind, arg = ''] = text.split(':')
  switch (kind) {
    case 'syncer':
      if (arg !== 'lmdb' && arg !== 'redis') throw new Error(`${text}: want syncer:lmdb or syncer:redis`)
      return syncer(syncerCommand, arg)
    case 'fetch': {
      const [[batch, concurrency]] = parseFetchConfigs(arg || '10x4')
      return fetchLoop(batch, concurrency)
    }
    case 'viem':
      return viemLoop(Number(arg || 1))
    case 'sqd':
      return sqd(Number(arg || 10))
    default:
      throw new Error(`unknown client ${text}: want syncer:lmdb|redis, fetch:BxC, viem:C or sqd:CAP`)
  }
}

/**
 * A real Anvil node for tests: the binary from `@foundry-rs/anvil-linux-amd64`, started directly (so
 * its PID is the node's PID) on a free 127.0.0.1 port in a temp dir, and stopped by that PID.
 *
 * Defaults follow PEERS.md: `--no-mining` (blocks are mined explicitly), 100 funded accounts, Prague,
 * and `--order fifo` (with fee ordering Anvil silently drops mixed tx types from one sender).
 */
import { freePort } from './net.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { REPO_ROOT } from '../fixtures.js'

export const ANVIL_BIN = join(REPO_ROOT, 'node_modules', '@foundry-rs', 'anvil-linux-amd64', 'bin', 'anvil')

/** Anvil's default mnemonic ("test test ... junk"), account 0: a publicly known dev key, for raw-signed txs. */
export const ANVIL_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
export const ANVIL_CHAIN_ID = 31337

export interface AnvilOptions {
  accounts?: number
  hardfork?: string
  /** Start from a state file written by `dumpState` (blocks and hashes are preserved). */
  loadState?: string
  /** Write the chain state here when the node stops. */
  dumpState?: string
  /** Further command-line arguments. */
  args?: readonly string[]
  /** How long to wait for the node to answer. */
  startTimeoutMs?: number
}

export interface JsonRpcRequest {
  method: string
  params?: readonly unknown[]
}

export interface Anvil {
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly dir: string
  /** One call; a JSON-RPC error is thrown. */
  rpc<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>
  /** A JSON-RPC batch; any error in it is thrown (naming the method). */
  batch<T = unknown>(calls: readonly JsonRpcRequest[]): Promise<T[]>
  /** Stops the node by PID (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>
}


let requestId = 0

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`)
  return res.json()
}

type Reply = { id: number; result?: unknown; error?: { code: number; message: string } }

/** Minimal JSON-RPC client for test set-up (the code under test has its own). */
export function jsonRpcClient(url: string): Pick<Anvil, 'rpc' | 'batch'> {
  const batch = async <T>(calls: readonly JsonRpcRequest[]): Promise<T[]> => {
    if (calls.length === 0) return []
    const first = requestId + 1
    requestId += calls.length
    const replies = (await post(url, calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? [] })))) as Reply[]
    const byId = new Map(replies.map((r) => [r.id, r]))
    return calls.map((c, i) => {
      const r = byId.get(first + i)
      if (!r) throw new Error(`${c.method}: no reply`)
      if (r.error) throw new Error(`${c.method}: ${r.error.message} (${r.error.code})`)
      return r.result as T
    })
  }
  return { batch, rpc: async <T>(method: string, params: readonly unknown[] = []) => (await batch<T>([{ method, params }]))[0] }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  process.kill(child.pid, 'SIGTERM')
  if (await waitForExit(child, 15_000)) return
  process.kill(child.pid, 'SIGKILL')
  await waitForExit(child, 5_000)
}

async function launch(port: number, dir: string, opts: AnvilOptions): Promise<ChildProcess> {
  const args = [
    '--host', '127.0.0.1',
    '--port', String(port),
    '--no-mining',
    '--accounts', String(opts.accounts ?? 100),
    '--hardfork', opts.hardfork ?? 'prague',
    '--order', 'fifo',
    '-q',
    ...(opts.loadState ? ['--load-state', opts.loadState] : []),
    ...(opts.dumpState ? ['--dump-state', opts.dumpState] : []),
    ...(opts.args ?? []),
  ]
  const log = openSync(join(dir, 'anvil.log'), 'a')
  try {
    return spawn(ANVIL_BIN, args, { cwd: dir, stdio: ['ignore', log, log] })
  } finally {
    closeSync(log)
  }
}

/** Polls eth_chainId until the node answers, exits, or the deadline passes. */
async function waitReady(child: ChildProcess, url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    try {
      await jsonRpcClient(url).rpc('eth_chainId')
      return true
    } catch {
      await sleep(50)
    }
  }
  return false
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  if (!existsSync(ANVIL_BIN)) throw new Error(`anvil binary missing: ${ANVIL_BIN}`)
  const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-anvil-'))
  // A free port can be taken between the probe and the bind: retry on a fresh one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const child = await launch(port, dir, opts)
    if (await waitReady(child, url, opts.startTimeoutMs ?? 30_000)) {
      const client = jsonRpcClient(url)
      return {
        url,
        port,
        pid: child.pid!,
        dir,
        ...client,
        stop: async () => {
          await stopChild(child)
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
    await stopChild(child)
  }
  const log = readFileSync(join(dir, 'anvil.log'), 'utf8').slice(-2000)
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`anvil did not start:\n${log}`)
}


/**
 * A real EthereumJS client (`@ethereumjs/client` 0.10.5, eth/66-68) serving one of geth's devp2p
 * test chains, for integration tests:
 *  - `prepareEthjsDataDir(name)` imports the chain once (the client executes it, so it has receipts)
 *    and caches the data dir under a temp cache keyed by the fixture, client and patch hashes; other
 *    test files and later runs reuse it (a lock keeps two workers from importing at the same time);
 *  - `startEthjsClient(name)` copies the cached dir (so several identical peers can run), starts the
 *    client on free 127.0.0.1 ports with discovery off, and reads its enode from `admin_nodeInfo`;
 *  - `client.stop()` kills it by PID and waits for the exit.
 * Besides geth's fixture chains (by name) any `ClientChain` works, e.g. the generated demo chain.
 * The client's GetReceipts serving is fixed by `patches/@ethereumjs+client+0.10.5.patch`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createCommonFromGethGenesis } from '@ethereumjs/common'
import { bytesToHex, hexToBytes, type Bytes } from '../../src/primitives/bytes.js'
import type { ForkId } from '../../src/sources/devp2p/messages.js'
import { fixturePath, REPO_ROOT } from '../fixtures.js'

export type ChainName = 'hive' | 'legacy'

const CHAIN_DIRS: Record<ChainName, string[]> = {
  /** Current hive test chain: 600 PoS blocks, Shanghai -> Cancun -> Prague, tx types 0-4. */
  hive: ['go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata'],
  /** Older 500-block chain: Homestead -> ... -> merge at 71 (fake PoW seals) -> Cancun, with uncles. */
  legacy: ['go-ethereum', 'at-577be37e0e', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata'],
}

const CLIENT_CLI = join(REPO_ROOT, 'node_modules', '@ethereumjs', 'client', 'dist', 'esm', 'bin', 'cli.js')
const PATCH_FILE = join(REPO_ROOT, 'patches', '@ethereumjs+client+0.10.5.patch')
const IMPORT_TIMEOUT_MS = 240_000
const START_TIMEOUT_MS = 90_000

/** A chain the client can import (genesis.json, chain.rlp) and the head the import must reach. */
export interface ClientChain {
  name: string
  genesisPath: string
  chainRlpPath: string
  genesisHash: Bytes
  head: { number: number; hash: Bytes }
}

export interface ChainFixture extends ClientChain {
  name: ChainName
  networkId: bigint
  head: { number: number; hash: Bytes; timestamp: number }
  /** Fork id at the head, computed with @ethereumjs/common (the client announces the same). */
  forkId: ForkId
}

export function chainFixture(name: ChainName): ChainFixture {
  const dir = fixturePath(...CHAIN_DIRS[name])
  const genesisPath = join(dir, 'genesis.json')
  const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as { config: { chainId: number } }
  const headBlock = JSON.parse(readFileSync(join(dir, 'headblock.json'), 'utf8')) as { number: string; hash: string; timestamp: string }
  const genesisHash = hexToBytes(GENESIS_HASHES[name])
  const common = createCommonFromGethGenesis(genesis as never, { chain: 'genesis' })
  common.setHardforkBy({ blockNumber: BigInt(headBlock.number), timestamp: BigInt(headBlock.timestamp) })
  const hardfork = common.hardfork()
  return {
    name,
    genesisPath,
    chainRlpPath: join(dir, 'chain.rlp'),
    networkId: BigInt(genesis.config.chainId),
    genesisHash,
    head: { number: Number(headBlock.number), hash: hexToBytes(headBlock.hash), timestamp: Number(headBlock.timestamp) },
    forkId: { hash: hexToBytes(common.forkHash(hardfork, genesisHash)), next: common.nextHardforkBlockOrTimestamp(hardfork) ?? 0n },
  }
}

/** Parent hash of block 1 in each chain.rlp (the files start at block 1); checked against the client. */
const GENESIS_HASHES: Record<ChainName, string> = {
  hive: '0xbd6a252af394d80904c5993b859574bd4669642cea00a116970ec7887db67533',
  legacy: '0x3d35e0b689cdd20720592d9a4d0d208de0612ebcb46e391141501e7d55d55b42',
}

function cacheRoot(): string {
  return process.env.EVM_SYNCER_TEST_CACHE ?? join(tmpdir(), 'evm-syncer-test-cache')
}

function cacheKey(f: ClientChain): string {
  const h = createHash('sha256')
  h.update(readFileSync(f.genesisPath))
  h.update(readFileSync(f.chainRlpPath))
  h.update(readFileSync(join(REPO_ROOT, 'node_modules', '@ethereumjs', 'client', 'package.json')))
  h.update(readFileSync(PATCH_FILE))
  return h.digest('hex').slice(0, 16)
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function rpcCall(port: number, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(10_000),
  })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

interface Spawned {
  child: ChildProcess
  exited: Promise<number | null>
  logPath: string
}

function spawnClient(f: ClientChain, dataDir: string, workDir: string, rlpxPort: number, rpcPort: number, importChain: boolean): Spawned {
  const logPath = join(workDir, 'client.log')
  const log = openSync(logPath, 'a')
  const args = [
    CLIENT_CLI,
    '--gethGenesis', resolve(f.genesisPath),
    ...(importChain ? ['--loadBlocksFromRlp', resolve(f.chainRlpPath)] : []),
    '--dataDir', dataDir,
    '--port', String(rlpxPort),
    '--extIP', '127.0.0.1',
    '--discDns', 'false',
    '--discV4', 'false',
    '--saveReceipts',
    '--rpc', '--rpcAddr', '127.0.0.1', '--rpcPort', String(rpcPort),
    '--logFile', 'false',
    // Must stay last: an empty bootnode list.
    '--bootnodes',
  ]
  // cwd = workDir: the client's logger drops files into its working directory.
  const child = spawn(process.execPath, args, { cwd: workDir, stdio: ['ignore', log, log] })
  closeSync(log)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, logPath }
}

function logTail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'
}

/** Waits until the client's JSON-RPC answers (it starts after the chain import and execution). */
async function waitForRpc(s: Spawned, rpcPort: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void s.exited.then(() => (exited = true))
  while (Date.now() < deadline) {
    if (exited) throw new Error(`client exited before serving:\n${logTail(s.logPath)}`)
    try {
      await rpcCall(rpcPort, 'admin_nodeInfo')
      return
    } catch {
      await sleep(250)
    }
  }
  throw new Error(`client did not start within ${timeoutMs} ms:\n${logTail(s.logPath)}`)
}

async function stopProcess(s: Spawned, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return
  const pid = s.child.pid
  if (pid === undefined) return
  process.kill(pid, signal)
  const exitedInTime = await Promise.race([s.exited.then(() => true), sleep(graceMs).then(() => false)])
  if (!exitedInTime) {
    process.kill(pid, 'SIGKILL')
    await s.exited
  }
}

async function withLock<T>(lockDir: string, done: () => boolean, work: () => Promise<T>): Promise<T | undefined> {
  for (;;) {
    if (done()) return undefined
    try {
      mkdirSync(lockDir)
      writeFileSync(join(lockDir, 'pid'), String(process.pid))
      break
    } catch {
      const pid = Number(existsSync(join(lockDir, 'pid')) ? readFileSync(join(lockDir, 'pid'), 'utf8') : NaN)
      // A lock left by a process that died is stale.
      if (Number.isInteger(pid) && !pidAlive(pid)) rmSync(lockDir, { recursive: true, force: true })
      else await sleep(500)
    }
  }
  try {
    return done() ? undefined : await work()
  } finally {
    rmSync(lockDir, { recursive: true, force: true })
  }
}

const resolveChain = (chain: ChainName | ClientChain): ClientChain => (typeof chain === 'string' ? chainFixture(chain) : chain)

/** Path of a data dir that has imported and executed the chain (prepared once, then cached in `cacheDir`). */
export async function prepareEthjsDataDir(chain: ChainName | ClientChain, cacheDir = cacheRoot()): Promise<string> {
  const f = resolveChain(chain)
  mkdirSync(cacheDir, { recursive: true })
  const target = join(cacheDir, `ethjs-${f.name}-${cacheKey(f)}`)
  await withLock(`${target}.lock`, () => existsSync(target), async () => {
    const workDir = mkdtempSync(join(cacheDir, `prepare-${f.name}-`))
    const dataDir = join(workDir, 'data')
    const [rlpxPort, rpcPort] = [await freePort(), await freePort()]
    const s = spawnClient(f, dataDir, workDir, rlpxPort, rpcPort, true)
    try {
      await waitForRpc(s, rpcPort, IMPORT_TIMEOUT_MS)
      const head = (await rpcCall(rpcPort, 'eth_getBlockByNumber', ['latest', false])) as { number: string; hash: string }
      if (Number(head.number) !== f.head.number || head.hash !== bytesToHex(f.head.hash)) {
        throw new Error(`imported head ${head.number} ${head.hash} is not the chain's head ${f.head.number} ${bytesToHex(f.head.hash)}`)
      }
    } finally {
      // Graceful stop: the cached LevelDB must be flushed.
      await stopProcess(s, 'SIGINT', 60_000)
    }
    renameSync(dataDir, target)
    rmSync(workDir, { recursive: true, force: true })
  })
  return target
}

export interface EthjsClient<C extends ClientChain = ChainFixture> {
  readonly pid: number
  readonly enode: string
  readonly rlpxPort: number
  readonly rpcPort: number
  readonly fixture: C
  rpc(method: string, params?: unknown[]): Promise<unknown>
  /** Kills the client by PID, waits for it to exit and removes its data dir copy. */
  stop(): Promise<void>
}

export function startEthjsClient(chain: ChainName, cacheDir?: string): Promise<EthjsClient>
export function startEthjsClient<C extends ClientChain>(chain: C, cacheDir?: string): Promise<EthjsClient<C>>
export async function startEthjsClient(chain: ChainName | ClientChain, cacheDir = cacheRoot()): Promise<EthjsClient<ClientChain>> {
  const f = resolveChain(chain)
  const cached = await prepareEthjsDataDir(f, cacheDir)
  const workDir = mkdtempSync(join(tmpdir(), `ethjs-${f.name}-`))
  const dataDir = join(workDir, 'data')
  cpSync(cached, dataDir, { recursive: true })
  const [rlpxPort, rpcPort] = [await freePort(), await freePort()]
  const s = spawnClient(f, dataDir, workDir, rlpxPort, rpcPort, false)
  const cleanup = async () => {
    // The copy is thrown away, so no graceful shutdown is needed.
    await stopProcess(s, 'SIGKILL', 10_000)
    rmSync(workDir, { recursive: true, force: true })
  }
  try {
    await waitForRpc(s, rpcPort, START_TIMEOUT_MS)
    const info = (await rpcCall(rpcPort, 'admin_nodeInfo')) as { enode: string; protocols: { eth: { genesis: string } } }
    if (info.protocols.eth.genesis !== bytesToHex(f.genesisHash)) throw new Error(`client genesis ${info.protocols.eth.genesis} is not the fixture's`)
    return {
      pid: s.child.pid as number,
      enode: info.enode,
      rlpxPort,
      rpcPort,
      fixture: f,
      rpc: (method, params = []) => rpcCall(rpcPort, method, params),
      stop: cleanup,
    }
  } catch (err) {
    await cleanup()
    throw err
  }
}

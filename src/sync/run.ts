/**
 * Wires concrete implementations together for `evm-syncer sync`: chain adapter, sources, store,
 * metrics endpoint, progress display, signals. Returns the process exit code:
 * 0 target reached or clean shutdown, 1 runtime failure, 2 usage/config error, 3 reorg too deep.
 */
import type { Chain } from '../chain/chain.js'
import { chainById, devChain, loadChain } from '../chain/chains.js'
import { HARDFORKS, type Hardfork } from '../chain/forks.js'
import { ProgressBar } from '../cli/progress-bar.js'
import { identityOf } from '../cli/store-chain.js'
import type { OptionValues } from '../cli/options.js'
import { ConfigError, SyncerError, errorMessage } from '../errors.js'
import { createLogger, LOG_LEVELS, type LogLevel, type Logger } from '../logger.js'
import { SyncMetrics } from '../metrics/metrics.js'
import { MetricsServer, parseListenAddress } from '../metrics/server.js'
import { assertFastCrypto } from '../primitives/crypto-check.js'
import { Devp2pPool } from '../sources/devp2p/index.js'
import { RpcPool } from '../sources/rpc/index.js'
import type { SourcePool } from '../sources/types.js'
import { openStore } from '../store/open.js'
import type { Store } from '../store/types.js'
import type { Bytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import { defaultSyncConfig, type SyncConfig, type SyncMode } from './config.js'
import { DeepReorgError } from './reorg.js'
import { Syncer } from './syncer.js'

export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, deepReorg: 3 } as const

const ETHASH_MODES = ['off', 'sampled', 'all'] as const

function str(v: OptionValues[string]): string | undefined {
  return typeof v === 'string' ? v : undefined
}
function num(v: OptionValues[string]): number | undefined {
  return typeof v === 'number' ? v : undefined
}
function list(v: OptionValues[string]): string[] {
  return Array.isArray(v) ? v : []
}

export function toSyncConfig(v: OptionValues): SyncConfig {
  const d = defaultSyncConfig()
  return {
    ...d,
    mode: (v.headersOnly ? 'headers-only' : 'full') as SyncMode,
    startBlock: num(v.from) ?? 0,
    targetBlock: num(v.to) ?? 0,
    follow: v.follow === true,
    batchSize: num(v.batchSize) ?? d.batchSize,
    checkpointInterval: num(v.checkpointInterval) ?? d.checkpointInterval,
    workerCount: num(v.workers) ?? d.workerCount,
    validationThreads: num(v.validationThreads) ?? d.validationThreads,
    recoverSenders: v.recoverSenders === true,
    finalityDepth: num(v.finalityDepth),
    memoryBudgetBytes: (num(v.memory) ?? d.memoryBudgetBytes / 2 ** 20) * 2 ** 20,
    stallTimeoutMs: (num(v.stallTimeout) ?? d.stallTimeoutMs / 1000) * 1000,
  }
}

function parseLogLevel(v: string | undefined, progressBar: boolean): LogLevel {
  const level = (v ?? (progressBar ? 'warn' : 'info')) as LogLevel
  if (!LOG_LEVELS.includes(level)) throw new ConfigError('BAD_OPTION', `--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`)
  return level
}

function parseEthash(v: string | undefined): (typeof ETHASH_MODES)[number] {
  const mode = (v ?? 'sampled') as (typeof ETHASH_MODES)[number]
  if (!ETHASH_MODES.includes(mode)) throw new ConfigError('BAD_OPTION', `--ethash must be off, sampled or all, got "${v}"`)
  return mode
}

function parseHardfork(v: string | undefined): Hardfork {
  const fork = (v ?? 'prague') as Hardfork
  if (!HARDFORKS.includes(fork)) throw new ConfigError('BAD_OPTION', `--hardfork must be one of ${HARDFORKS.join(', ')}, got "${v}"`)
  return fork
}

interface Wiring {
  chain: Chain
  pools: SourcePool[]
  store: Store
  /** Tells sources that announce our head (devp2p Status, BlockRangeUpdate) that it moved. */
  announceHead: (head: { number: number; hash: Bytes; timestamp: number }) => void
}

/**
 * Chain, store and sources, in the order they depend on each other. JSON-RPC endpoints are probed
 * first: their chain id picks the chain when --chain is absent (an unknown id is a dev chain built
 * from the source's genesis). The store is opened next (it must hold this chain). devp2p comes last:
 * its Status handshake announces our genesis, head and fork id, and filters peers by theirs.
 */
async function wire(v: OptionValues, log: Logger, opened: Array<{ stop(): Promise<void> } | Store>): Promise<Wiring> {
  const rpcUrls = list(v.rpc)
  const peers = list(v.peer)
  const bootnodes = list(v.bootnode)
  const ethash = { mode: parseEthash(str(v.ethash)) }
  const chainArg = str(v.chain)
  let chain: Chain | undefined = chainArg ? loadChain(chainArg, { ethash }) : undefined
  // Like geth: with no source named, find peers through discovery from the chain's bootnodes.
  const noSources = rpcUrls.length === 0 && peers.length === 0
  const discovery = v.discovery === true || bootnodes.length > 0 || (noSources && (chain?.bootnodes.length ?? 0) > 0)
  if (noSources && !discovery) {
    throw new ConfigError('NO_SOURCES', 'give at least one source: --rpc URL, --peer ENODE, --bootnode ENODE, or --chain with default bootnodes')
  }
  let devHardfork: Hardfork | undefined
  const pools: SourcePool[] = []
  if (rpcUrls.length > 0) {
    const rpc = new RpcPool({ urls: rpcUrls, expectedChainId: chain?.chainId, logger: log })
    opened.push(rpc)
    await rpc.start()
    pools.push(rpc)
    if (!chain) {
      const chainId = rpc.chainId()!
      chain = chainById(chainId, { ethash })
      if (!chain) {
        const genesis = await rpc.peers()[0].genesisHeader()
        devHardfork = parseHardfork(str(v.hardfork))
        chain = devChain(chainId, genesis, devHardfork, { ethash })
        log.info({ chainId: String(chainId), hardfork: str(v.hardfork) }, "unknown chain id: treating it as a dev chain with the source's genesis")
      }
    }
  }
  chain ??= loadChain('mainnet', { ethash })
  const store = await openStore(str(v.store) ?? 'lmdb:./data', { logger: log, chain: identityOf(chain, devHardfork) })
  opened.push(store)
  const stored = await store.head()
  const headBlock = stored && (await store.block(stored.number))
  const headHeader = headBlock ? BlockHeader.decode(headBlock.header) : chain.genesisHeader
  let local = { number: headHeader.number, time: headHeader.timestamp }
  let announceHead: Wiring['announceHead'] = () => undefined
  if (peers.length > 0 || discovery) {
    const c = chain
    const p2p = new Devp2pPool({
      networkId: c.networkId,
      genesisHash: c.genesis.hash,
      forkId: c.forkId(local.number, local.time),
      forkFilter: c.forkFilter(() => local),
      head: { number: headHeader.number, hash: headHeader.hash },
      staticPeers: peers,
      maxPeers: num(v.maxPeers),
      maxMessageBytes: (num(v.maxMessageSize) ?? 10) * 2 ** 20,
      discovery: discovery ? { bootnodes: bootnodes.length > 0 ? bootnodes : [...c.bootnodes] } : undefined,
      logger: log,
    })
    opened.push(p2p)
    await p2p.start()
    pools.push(p2p)
    announceHead = (h) => {
      local = { number: h.number, time: h.timestamp }
      p2p.setLocalHead({ number: h.number, hash: h.hash }, c.forkId(h.number, h.timestamp))
    }
  }
  return { chain, pools, store, announceHead }
}

export async function runSync(v: OptionValues): Promise<number> {
  const bar = v.progress === false ? undefined : ProgressBar.forStderr()
  let log: Logger
  let config: SyncConfig
  try {
    log = createLogger(parseLogLevel(str(v.logLevel), bar !== undefined))
    config = toSyncConfig(v)
    assertFastCrypto(v.allowSlowCrypto === true)
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n`)
    return EXIT_CODES.usage
  }
  const listen = v.metrics === false ? undefined : str(v.metrics)
  // Process metrics (GC observer, event-loop monitor) cost CPU on every GC; only a served endpoint reads them.
  const metrics = new SyncMetrics({ processMetrics: listen !== undefined })
  const opened: Array<{ stop(): Promise<void> } | Store> = []
  let server: MetricsServer | undefined
  let syncer: Syncer | undefined
  let signals = 0
  const onSignal = (sig: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      // Everything committed is safe (the commit record is written last); leave now.
      log.warn({ signal: sig }, 'second signal: exiting immediately')
      process.exit(EXIT_CODES.ok)
    }
    log.info({ signal: sig }, 'shutting down gracefully (send again to exit at once)')
    void syncer?.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let barTimer: NodeJS.Timeout | undefined
  try {
    const wiring = await wire(v, log, opened)
    syncer = new Syncer({ config, chain: wiring.chain, sources: wiring.pools, store: wiring.store, logger: log, metrics, onHead: wiring.announceHead })
    if (listen) {
      server = new MetricsServer({ ...parseListenAddress(listen), metrics, health: () => syncer!.health() })
      const addr = await server.start()
      log.info(addr, 'metrics at /metrics, health at /health')
    }
    log.info({ chain: wiring.chain.name, chainId: String(wiring.chain.chainId), store: wiring.store.url, sources: wiring.pools.map((p) => p.kind) }, 'sync starting')
    await syncer.start()
    if (bar) {
      barTimer = setInterval(() => bar.update(syncer!.stats(), syncer!.stats().sources), 250)
      barTimer.unref()
    }
    const outcome = await syncer.done
    const s = syncer.stats()
    if (bar) bar.update(s, s.sources, true)
    log.info({ outcome, block: s.currentBlock, target: s.targetBlock, reorgs: s.reorgs }, 'sync finished')
    return EXIT_CODES.ok
  } catch (err) {
    if (err instanceof DeepReorgError) {
      log.fatal({ code: err.code, details: err.details }, err.message)
      return EXIT_CODES.deepReorg
    }
    if (err instanceof ConfigError) {
      log.error({ code: err.code }, err.message)
      process.stderr.write(`error: ${err.message}\n`)
      return EXIT_CODES.usage
    }
    log.fatal({ code: err instanceof SyncerError ? err.code : undefined, err: errorMessage(err) }, 'sync failed')
    return EXIT_CODES.failure
  } finally {
    clearInterval(barTimer)
    bar?.done()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await server?.stop()
    // Sources first (no more answers arrive), the store last.
    for (const item of opened.reverse()) await ('stop' in item ? item.stop() : item.close()).catch(() => undefined)
    log.flush()
  }
}

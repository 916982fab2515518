/**
 * `evm-syncer sync`: the main job. Options come from flags, `EVM_SYNCER_<FLAG>` environment
 * variables and a JSON `--config` file, in that order of precedence (see README "Configuration").
 */
import v8 from 'node:v8'
import { Command } from 'commander'
import { addOptions, readConfigFile, resolveOptions, typedOptions, type OptionSpec, type OptionValues } from '../options.js'

export const SYNC_OPTIONS: readonly OptionSpec[] = [
  { flag: 'chain', kind: 'string', valueName: 'NAME|GENESIS_JSON', description: 'chain: mainnet, sepolia, holesky, hoodi, goerli, bsc, or a geth genesis.json; default: detected from the source (JSON-RPC), mainnet for devp2p' },
  { flag: 'peer', kind: 'list', valueName: 'ENODE', description: 'static devp2p peer (enode://...)' },
  { flag: 'bootnode', kind: 'list', valueName: 'ENODE', description: 'discovery v4 bootnode; enables discovery (default bootnodes of --chain with --discovery)' },
  { flag: 'discovery', kind: 'bool', description: "find peers with discovery v4 from the chain's bootnodes (on by default when no --rpc/--peer is given)", defaultValue: false },
  { flag: 'max-peers', kind: 'int', valueName: 'N', description: 'devp2p peers to keep', defaultValue: 25 },
  { flag: 'max-message-size', kind: 'int', valueName: 'MIB', description: 'largest devp2p message accepted (the eth protocol limit is 10 MiB; geth test chains need more)', defaultValue: 10 },
  { flag: 'rpc', kind: 'list', valueName: 'URL', description: 'JSON-RPC endpoint (http/https)' },
  { flag: 'store', kind: 'string', valueName: 'URL', description: 'lmdb:DIR, redis://host:port[/db], pika://..., rediss://...', defaultValue: 'lmdb:./data' },
  { flag: 'from', kind: 'int', valueName: 'N', description: 'first block; N>0 trusts the source\'s block N as the anchor (a saved checkpoint in range wins)', defaultValue: 0 },
  { flag: 'to', kind: 'int', valueName: 'N', description: 'last block, inclusive; 0 = the best source head at start', defaultValue: 0 },
  { flag: 'follow', kind: 'bool', description: 'after reaching the target keep following the head', defaultValue: false },
  { flag: 'headers-only', kind: 'bool', description: 'sync and store the verified header chain only', defaultValue: false },
  { flag: 'batch-size', kind: 'int', valueName: 'N', description: 'blocks per store commit', defaultValue: 100 },
  { flag: 'workers', kind: 'int', valueName: 'N', description: 'concurrent source requests', defaultValue: 50 },
  { flag: 'validation-threads', kind: 'int', valueName: 'N', description: 'validation worker threads (default: cores - 1)' },
  { flag: 'recover-senders', kind: 'bool', description: "recover every transaction's sender while validating (~4x CPU)", defaultValue: false },
  { flag: 'checkpoint-interval', kind: 'int', valueName: 'N', description: 'blocks between checkpoint log lines (progress itself is committed every batch)', defaultValue: 1000 },
  { flag: 'finality-depth', kind: 'int', valueName: 'N', description: "reorg window when the source has no finalized block (default: the chain's)" },
  { flag: 'hardfork', kind: 'string', valueName: 'NAME', description: 'dev chains (unknown chain id): forks active from genesis up to NAME', defaultValue: 'prague' },
  { flag: 'ethash', kind: 'string', valueName: 'off|sampled|all', description: 'Ethash seal verification for PoW blocks', defaultValue: 'sampled' },
  { flag: 'memory', kind: 'int', valueName: 'MIB', description: 'memory budget for blocks in the pipeline', defaultValue: 512 },
  { flag: 'stall-timeout', kind: 'int', valueName: 'SECONDS', description: 'no progress for this long: log why, re-plan, /health 503', defaultValue: 120 },
  { flag: 'metrics', kind: 'string', valueName: 'HOST:PORT', description: 'Prometheus /metrics and /health', defaultValue: '127.0.0.1:2112', negatable: true },
  { flag: 'progress', kind: 'bool', description: 'progress bar on a TTY', defaultValue: true, negatable: true },
  { flag: 'log-level', kind: 'string', valueName: 'LEVEL', description: 'fatal, error, warn, info, debug, trace, silent (default: info; warn while the progress bar is shown, so logs do not break it)' },
  { flag: 'allow-slow-crypto', kind: 'bool', description: 'run even if the native secp256k1 addon failed to load', defaultValue: false },
]

export function register(program: Command): void {
  const cmd = new Command('sync')
    .description('download, verify and store blocks (headers, bodies, receipts) from devp2p peers and/or JSON-RPC endpoints')
    .option('--config <FILE>', 'JSON file with any of the options below (keys as flags or camelCase) [env EVM_SYNCER_CONFIG]')
  addOptions(cmd, SYNC_OPTIONS)
  cmd.action(async (_opts: unknown, self: Command) => {
    const configFile = (self.opts().config as string | undefined) ?? process.env.EVM_SYNCER_CONFIG
    const file = configFile ? readConfigFile(configFile) : {}
    const values: OptionValues = resolveOptions(SYNC_OPTIONS, typedOptions(self), process.env, file, configFile)
    // A sync allocates and frees hundreds of megabytes of ArrayBuffers (responses, rebuilt blocks,
    // batches moved between threads). Freeing them on the thread that runs the GC costs less than
    // V8's background sweeper on 2 busy cores: ~5 % less CPU per block (PERFORMANCE.md). Set before
    // the worker threads start, so their isolates sweep the same way.
    v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping')
    const { runSync } = await import('../../sync/run.js')
    process.exitCode = await runSync(values)
  })
  program.addCommand(cmd)
}

/**
 * `evm-syncer status --store S [--json]` prints the commit record `sync:progress`: current and target
 * block, where and when the sync started, speed, ETA, reorgs, last hash, and the chain the store
 * holds. Exit 0 (an empty store is a status too), 1 store failure, 2 bad arguments.
 */
import type { Command } from 'commander'
import { DEFAULT_STORE_URL } from '../../store/defaults.js'

interface StatusOptions {
  store: string
  prefix?: string
  json?: boolean
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown'
  const s = Math.round(seconds)
  const parts = [Math.floor(s / 86400) + 'd', Math.floor((s % 86400) / 3600) + 'h', Math.floor((s % 3600) / 60) + 'm', (s % 60) + 's']
  return parts.filter((p, i) => !p.startsWith('0') || i === 3).join(' ')
}

async function status(options: StatusOptions): Promise<number> {
  const [{ withReadOnlyStore, READ_EXIT }, { bytesToHex }] = await Promise.all([import('../../store/read-only.js'), import('../../primitives/bytes.js')])
  return withReadOnlyStore(options, async (store) => {
    const [progress, chain, tail] = await Promise.all([store.progress(), store.chain(), store.tail()])
    const chainJson = chain && { name: chain.name, chainId: chain.chainId.toString(), genesisHash: bytesToHex(chain.genesisHash), forkConfig: chain.forkConfig }
    if (!progress) {
      process.stdout.write(options.json ? JSON.stringify({ empty: true, chain: chainJson }) + '\n' : 'the store is empty\n')
      return READ_EXIT.ok
    }
    const remaining = Math.max(0, progress.targetBlock - progress.currentBlock)
    const etaSeconds = remaining === 0 ? 0 : progress.speed > 0 ? remaining / progress.speed : null
    const span = progress.targetBlock - progress.firstBlock + 1
    const report = {
      chain: chainJson,
      currentBlock: progress.currentBlock,
      targetBlock: progress.targetBlock,
      firstBlock: progress.firstBlock,
      progressPercent: span > 0 ? Math.round(((progress.currentBlock - progress.firstBlock + 1) / span) * 10_000) / 100 : 100,
      lastHash: bytesToHex(progress.lastHash),
      startBlock: progress.startBlock,
      startTime: new Date(progress.startTime).toISOString(),
      speed: progress.speed,
      etaSeconds,
      reorgCount: progress.reorgCount,
      lastReorgDepth: progress.lastReorgDepth,
      totalSynced: progress.totalSynced,
      updatedAt: new Date(progress.updatedAt).toISOString(),
      uncommittedTail: tail.length,
    }
    if (options.json) {
      process.stdout.write(JSON.stringify(report) + '\n')
      return READ_EXIT.ok
    }
    const lines = [
      `chain      ${chainJson ? `${chainJson.name} (chain id ${chainJson.chainId})` : 'not recorded'}`,
      `block      ${report.currentBlock} of ${report.targetBlock} (${report.progressPercent}%), first ${report.firstBlock}`,
      `last hash  ${report.lastHash}`,
      `started    block ${report.startBlock} at ${report.startTime}`,
      `speed      ${report.speed.toFixed(1)} blocks/s, ETA ${etaSeconds === null ? 'unknown' : duration(etaSeconds)}`,
      `reorgs     ${report.reorgCount} (last depth ${report.lastReorgDepth})`,
      `synced     ${report.totalSynced} blocks written in total, record updated ${report.updatedAt}`,
    ]
    process.stdout.write(lines.join('\n') + '\n')
    return READ_EXIT.ok
  })
}

export function register(program: Command): void {
  program
    .command('status')
    .description('show the sync progress recorded in a store')
    .option('--store <url>', 'store URL: lmdb:DIR, redis://host:port[/db], pika://..., rediss://...', DEFAULT_STORE_URL)
    .option('--prefix <prefix>', 'key prefix of the chain in a shared store')
    .option('--json', 'print JSON')
    .action(async (options: StatusOptions) => {
      process.exitCode = await status(options)
    })
}

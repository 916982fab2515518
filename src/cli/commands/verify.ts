/**
 * `evm-syncer verify --store S [--from N] [--to N] [--json]` re-checks the stored chain offline:
 * parent-hash links, every root and bloom from the stored bytes, canonical pointers against blobs,
 * the commit record against the pointers and the tail above it. Runs next to a sync writing the
 * same store. Exit 0 only if everything holds, 1 with each problem listed, 2 bad arguments.
 */
import { type Command, InvalidArgumentError } from 'commander'
import { DEFAULT_STORE_URL } from '../../store/defaults.js'

interface VerifyCommandOptions {
  store: string
  chain?: string
  prefix?: string
  from?: number
  to?: number
  json?: boolean
}

function blockNumber(value: string): number {
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a block number')
  return Number(value)
}

async function verify(options: VerifyCommandOptions): Promise<number> {
  const [{ withReadOnlyStore, READ_EXIT }, { verifyStore }, { chainOfStore }] = await Promise.all([
    import('../../store/read-only.js'),
    import('../../store/verify.js'),
    import('../store-chain.js'),
  ])
  return withReadOnlyStore(options, async (store) => {
    const chain = await chainOfStore(store, options.chain)
    const rulesAt = chain && ((h: { number: number; timestamp: number }) => chain.rulesAt(h.number, h.timestamp))
    const report = await verifyStore(store, { from: options.from, to: options.to, rulesAt })
    if (options.json) {
      process.stdout.write(JSON.stringify(report) + '\n')
    } else if (report.head === undefined) {
      process.stdout.write('ok: the store is empty\n')
    } else {
      const range = report.from === undefined ? 'no blocks' : `blocks ${report.from}-${report.to} (${report.checked})`
      const tail = report.tail.length > 0 ? `; ${report.tail.length} uncommitted pointer(s) above the head (a batch in flight, or repaired when the writer opens)` : ''
      process.stdout.write(`${report.ok ? 'ok' : 'FAILED'}: ${range} checked, head ${report.head} ${report.headHash}${tail}\n`)
      for (const p of report.problems) process.stdout.write(`${p.block === undefined ? '' : `block ${p.block}: `}${p.code}: ${p.message}\n`)
    }
    return report.ok ? READ_EXIT.ok : READ_EXIT.failure
  })
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('re-check a stored chain from its bytes: links, roots, blooms, pointers, commit record')
    .option('--store <url>', 'store URL: lmdb:DIR, redis://host:port[/db], pika://..., rediss://...', DEFAULT_STORE_URL)
    .option('--prefix <prefix>', 'key prefix of the chain in a shared store')
    .option('--chain <name|genesis.json>', 'fork rules for the checks (default: the chain the store records)')
    .option('--from <n>', 'first block to check (default: the store\'s first)', blockNumber)
    .option('--to <n>', 'last block to check (default: the committed head)', blockNumber)
    .option('--json', 'print the report as JSON')
    .action(async (options: VerifyCommandOptions) => {
      process.exitCode = await verify(options)
    })
}

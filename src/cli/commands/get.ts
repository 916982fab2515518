/**
 * `evm-syncer get block <number|hash|latest> --store S [--receipts]` prints one committed block as
 * JSON-RPC does: {"block": eth_getBlockByNumber(n, true), "receipts": eth_getBlockReceipts} (receipts
 * with --receipts). Exit 0 found, 1 absent (or store failure), 2 bad arguments. Scripts call it in
 * loops, so everything beyond commander is imported inside the action.
 */
import type { Command } from 'commander'
import { DEFAULT_STORE_URL } from '../../store/defaults.js'

interface GetBlockOptions {
  store: string
  prefix?: string
  receipts?: boolean
}

const HASH = /^0x[0-9a-fA-F]{64}$/
const NUMBER = /^(\d{1,16}|0x[0-9a-fA-F]{1,13})$/

async function getBlock(id: string, options: GetBlockOptions): Promise<number> {
  const [{ withReadOnlyStore, READ_EXIT }, { hexToBytes }] = await Promise.all([import('../../store/read-only.js'), import('../../primitives/bytes.js')])
  if (id !== 'latest' && !HASH.test(id) && !NUMBER.test(id)) {
    process.stderr.write(`error: "${id}" is not a block number, a 32-byte 0x hash, or "latest"\n`)
    return READ_EXIT.usage
  }
  return withReadOnlyStore(options, async (store) => {
    const key = id === 'latest' ? (await store.head())?.number : HASH.test(id) ? hexToBytes(id) : Number(id)
    const stored = key === undefined ? undefined : await store.block(key)
    if (!stored) {
      process.stderr.write(`block ${id} is not in the store\n`)
      return READ_EXIT.failure
    }
    const { blockJson } = await import('../../store/json.js')
    process.stdout.write(JSON.stringify(blockJson(stored, { receipts: options.receipts })) + '\n')
    return READ_EXIT.ok
  })
}

export function register(program: Command): void {
  program
    .command('get')
    .description('read from a store')
    .command('block <id>')
    .description('print a committed block (number, 0x hash or "latest") as eth_getBlockByNumber(n, true) does')
    .option('--store <url>', 'store URL: lmdb:DIR, redis://host:port[/db], pika://..., rediss://...', DEFAULT_STORE_URL)
    .option('--prefix <prefix>', 'key prefix of the chain in a shared store')
    .option('--receipts', 'add the receipts as eth_getBlockReceipts prints them')
    .action(async (id: string, options: GetBlockOptions) => {
      process.exitCode = await getBlock(id, options)
    })
}

/**
 * The contract between the harness and a baseline client script: the client syncs blocks
 * `--from`..`--to` (inclusive) from `--rpc`, then prints one JSON line (ClientReport) on stdout.
 */
import { parseArgs } from 'node:util'

export interface ClientReport {
  client: string
  blocks: number
  /** Transactions seen, for clients that decode blocks. */
  txs?: number
  /** The client's own timing of its sync loop (the harness measures wall time independently). */
  seconds: number
  /** Settings the client ran with (concurrency, batch sizes). */
  settings?: Record<string, unknown>
}

/** Parses the common flags (`--rpc`, `--from`, `--to`) plus the client's own numeric flags (name -> default). */
export function clientArgs<K extends string>(defaults: Record<K, number>): { rpc: string; from: number; to: number } & Record<K, number> {
  const own = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, { type: 'string' as const, default: String(v) }]))
  const { values } = parseArgs({ options: { rpc: { type: 'string' }, from: { type: 'string', default: '0' }, to: { type: 'string' }, ...own }, strict: true })
  const { rpc, to } = values as Record<string, string | undefined>
  if (rpc === undefined || to === undefined) throw new Error('--rpc URL and --to N are required')
  const numbers = Object.fromEntries(Object.keys(defaults).map((k) => [k, Number((values as Record<string, string>)[k])])) as Record<K, number>
  return { ...numbers, rpc, from: Number((values as Record<string, string>).from), to: Number(to) }
}

export function report(r: ClientReport): void {
  process.stdout.write(JSON.stringify(r) + '\n')
}

/** Runs `work` on `concurrency` lanes, each taking the next block number until `to`. */
export async function forEachBlock(from: number, to: number, concurrency: number, work: (n: number) => Promise<void>): Promise<void> {
  let next = from
  const lane = async () => {
    while (next <= to) await work(next++)
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
}

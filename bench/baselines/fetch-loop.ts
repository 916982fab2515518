/**
 * Baseline: the floor for any JSON-RPC client — raw `fetch` of eth_getBlockByNumber(n, true) and
 * eth_getBlockReceipts(n) in JSON-RPC batches of `--batch` blocks, `--concurrency` batches in flight,
 * JSON.parse of the answer and nothing else (no validation, no decoding, no storing).
 * `--headers-only 1` fetches eth_getBlockByNumber(n, false) alone: the serve rate of header JSON.
 *
 *   tsx bench/baselines/fetch-loop.ts --rpc URL --to N [--batch 10] [--concurrency 4] [--headers-only 1]
 */
import { clientArgs, report } from '../lib/client-args.js'

const args = clientArgs({ batch: 10, concurrency: 4, 'headers-only': 0 })
const { batch, concurrency } = args
const headersOnly = args['headers-only'] === 1

interface Reply {
  id: number
  result?: { transactions?: unknown[] } | unknown[]
  error?: unknown
}

let txs = 0
let next = args.from
const started = performance.now()
const lane = async () => {
  while (next <= args.to) {
    const from = next
    const to = Math.min(args.to, from + batch - 1)
    next = to + 1
    const calls = []
    for (let n = from; n <= to; n++) {
      const tag = `0x${n.toString(16)}`
      calls.push({ jsonrpc: '2.0', id: calls.length, method: 'eth_getBlockByNumber', params: [tag, !headersOnly] })
      if (!headersOnly) calls.push({ jsonrpc: '2.0', id: calls.length, method: 'eth_getBlockReceipts', params: [tag] })
    }
    const res = await fetch(args.rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(calls) })
    const replies = (await res.json()) as Reply[]
    if (replies.length !== calls.length || replies.some((r) => r.error !== undefined || r.result == null)) throw new Error(`blocks ${from}-${to}: incomplete answer`)
    for (const r of replies) if (!Array.isArray(r.result)) txs += r.result!.transactions!.length
  }
}
await Promise.all(Array.from({ length: concurrency }, lane))
report({ client: `fetch${headersOnly ? ' headers' : ''} b=${batch} c=${concurrency}`, blocks: args.to - args.from + 1, txs, seconds: (performance.now() - started) / 1000, settings: { batch, concurrency, headersOnly } })

/**
 * Stage figure: the JSON -> RLP rebuild alone, in this process, on the cached benchmark chain (no
 * HTTP, no validation). Each block's eth_getBlockByNumber(n, true) and eth_getBlockReceipts(n)
 * answers, as one JSON-RPC batch response the way the replay server sends it, go through
 *   - the reference rebuild it replaced (test/sources/rpc/reference-rebuild.ts): JSON.parse, one
 *     Buffer per field, `encode`;
 *   - the tape rebuild as the source runs it (batch-rebuild.ts): tokenize the bytes (json-tape.ts),
 *     match the answers, write RLP back to front (rebuild.ts);
 * and every block's header, body and receipts must come out byte for byte the same. CPU time per
 * block is measured per stage (process CPU: stable under load), best of `--repeat` rounds.
 *
 *   npx tsx bench/stages/rebuild.ts [--blocks 1500 --repeat 5 --out FILE]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { equalBytes } from '../../src/primitives/bytes.js'
import { rebuildBlockBatch } from '../../src/sources/rpc/batch-rebuild.js'
import { JsonTape } from '../../src/sources/rpc/json-tape.js'
import { blocksFromMarks, type JsonObject } from '../../src/sources/rpc/rebuild.js'
import type { RawResponse } from '../../src/sources/rpc/transport.js'
import * as reference from '../../test/sources/rpc/reference-rebuild.js'
import { CHAIN_OPTIONS, chainParams } from '../chain/args.js'
import { ensureBenchChain, loadBenchChain } from '../chain/cache.js'
import { machine } from '../lib/machine.js'
import { log } from '../lib/replay.js'

const { values } = parseArgs({
  options: { ...CHAIN_OPTIONS, blocks: { type: 'string', default: '1500' }, repeat: { type: 'string', default: '5' }, out: { type: 'string' } },
})
const params = chainParams(values)
const { dir } = await ensureBenchChain(params, log)
const chain = loadBenchChain(dir, Number(values.blocks))
// One batch response per block: its eth_getBlockByNumber and eth_getBlockReceipts answers.
const answer = (id: number, result: Uint8Array) => [Buffer.from(`{"jsonrpc":"2.0","id":${id},"result":`), result, Buffer.from('}')]
const responses = chain.blocks.map((b, n) => Buffer.concat([Buffer.from('['), ...answer(1, b), Buffer.from(','), ...answer(2, chain.receipts[n]), Buffer.from(']')]))
const count = responses.length
const jsonBytes = responses.reduce((a, r) => a + r.length, 0)

function referenceRebuild(bytes: Buffer) {
  const [block, receipts] = (JSON.parse(bytes.toString('utf8')) as Array<{ result: unknown }>).map((r) => r.result) as [JsonObject, unknown[]]
  return reference.rebuildBlock(block, { receipts })
}

function tapeRebuild(bytes: Buffer, n: number) {
  const calls = [
    { method: 'eth_getBlockByNumber', params: [n, true] },
    { method: 'eth_getBlockReceipts', params: [n] },
  ]
  const raw: RawResponse = { calls, firstId: 1, bytes }
  const rebuilt = rebuildBlockBatch(raw, { numbers: [n], withReceipts: true, verifyTxHashes: false })
  if (!rebuilt) throw new Error(`block ${n}: the batch was declined`)
  return blocksFromMarks(rebuilt.bytes, rebuilt.marks)[0]
}

let rlpBytes = 0
for (const [n, bytes] of responses.entries()) {
  const want = referenceRebuild(bytes)
  const got = tapeRebuild(bytes, n)
  for (const part of ['header', 'body', 'receipts'] as const) {
    if (!equalBytes(want[part]!, got[part]!)) throw new Error(`block ${n}: the tape rebuild's ${part} differs from the reference rebuild's`)
  }
  rlpBytes += got.header.length + got.body.length + got.receipts!.length
}
log(`${count} blocks: the tape rebuild writes the reference rebuild's bytes`)

/** CPU ms per block of `work` over every response (user + system of this process). */
function cpuMsPerBlock(work: (bytes: Buffer, n: number) => void): number {
  const before = process.cpuUsage()
  responses.forEach(work)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000 / count
}

const rounds: Array<Record<string, number>> = []
for (let round = 0; round < Number(values.repeat); round++) {
  const r = {
    referenceParse: cpuMsPerBlock((bytes) => JSON.parse(bytes.toString('utf8'))),
    reference: cpuMsPerBlock((bytes) => referenceRebuild(bytes)),
    tokenize: cpuMsPerBlock((bytes) => JsonTape.parse(bytes, { reuse: true })),
    tape: cpuMsPerBlock((bytes, n) => tapeRebuild(bytes, n)),
  }
  rounds.push(r)
  log(`round ${round + 1}: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')} ms/block`)
}
const best = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, Math.min(...rounds.map((r) => r[k]))]))
const round3 = (v: number) => Math.round(v * 1000) / 1000
const output = {
  bench: 'stage-rebuild',
  at: new Date().toISOString(),
  machine: machine(),
  chain: { ...params, blocks: count, jsonKiBPerBlock: Math.round(jsonBytes / count / 1024), rlpKiBPerBlock: Math.round(rlpBytes / count / 1024) },
  identical: count,
  cpuMsPerBlock: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, round3(v)])),
  speedup: round3(best.reference / best.tape),
  rounds,
}
process.stderr.write(
  `\nstage rebuild, ${count} blocks (${output.chain.jsonKiBPerBlock} KiB JSON -> ${output.chain.rlpKiBPerBlock} KiB RLP each), CPU ms/block, best of ${rounds.length}\n` +
    `  reference (JSON.parse ${round3(best.referenceParse)} + rebuild): ${round3(best.reference)}\n` +
    `  tape (tokenize ${round3(best.tokenize)} + rebuild):   ${round3(best.tape)}   (${output.speedup}x)\n`,
)
process.stdout.write(JSON.stringify(output, null, 2) + '\n')
if (values.out) writeFileSync(values.out, JSON.stringify(output, null, 2) + '\n')

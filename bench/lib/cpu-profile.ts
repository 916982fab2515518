/**
 * Summarises the `.cpuprofile` files node writes with `--cpu-prof` (one per thread: main and each
 * worker): self time per function (the hot spots) and per pipeline stage, so a sync's CPU per block
 * can be split into JSON parse, RLP rebuild, hashing/tries, signature recovery, validation, store
 * and I/O. Stages are assigned from the function's source URL and name; the first matching rule wins.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface HotSpot {
  function: string
  location: string
  stage: string
  selfMs: number
  percent: number
}

export interface ProfileSummary {
  /** Sampled CPU per thread (main first, then workers in start order). */
  threads: Array<{ thread: string; ms: number }>
  /** CPU time sampled (idle excluded), ms. */
  totalMs: number
  byStage: Array<{ stage: string; selfMs: number; percent: number; msPerBlock: number; msPerBlockByThread: Record<string, number> }>
  top: HotSpot[]
}

/** [stage, test on "url functionName"]; order matters. */
const STAGES: ReadonlyArray<readonly [string, RegExp]> = [
  ['garbage collection', /\(garbage collector\)/],
  // JSON.parse is a builtin: its time is the self time of the caller (the transport's post()).
  ['JSON parse', /sources\/rpc\/transport\.[jt]s post$|^ (parse|JSON\.parse)$/],
  ['JSON -> RLP rebuild', /sources\/rpc\/(rebuild|hex)\./],
  // Buffer.from(hex) and friends: the rebuild's hex decoding, mostly.
  ['Buffer / hex (node)', /^node:buffer|^node:internal\/buffer| hexWrite$/],
  ['RLP encode / decode', /primitives\/(rlp|bytes)\./],
  // hash-wasm's keccak runs as anonymous wasm functions.
  ['keccak / tries', /primitives\/(keccak|trie)\.|hash-wasm|^wasm:/],
  ['signature recovery', /secp256k1|primitives\/secp/],
  ['validation', /\/validator\/|primitives\/(header|body|transaction|receipt)\./],
  ['store', /\/store\/|lmdb|ioredis|msgpackr|redis/i],
  ['devp2p wire (RLPx, snappy)', /snappy|\/sources\/devp2p\/|@ethereumjs\/devp2p/i],
  ['JSON-RPC source', /\/sources\//],
  ['downloader / sync / writer', /\/downloader\/|\/sync\/|\/writer\//],
  ['network / http', /node:(http|net|_http|stream|internal\/(http|net|stream))|undici|\(program\)/],
  ['worker messaging', / postMessage$|internal\/worker/],
  ['other node internals', /^node:|^ /],
]

function stageOf(url: string, fn: string): string {
  const key = `${url} ${fn}`
  for (const [stage, test] of STAGES) if (test.test(key)) return stage
  return 'other'
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/src/')
  if (i >= 0) return url.slice(i + 1)
  const m = url.lastIndexOf('node_modules/')
  return m >= 0 ? url.slice(m + 'node_modules/'.length) : url
}

export function summariseProfiles(dir: string, blocks: number, topN = 15): ProfileSummary {
  // node names them CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile; thread 0 is the main thread.
  const threadOf = (f: string) => Number(f.split('.').at(-3))
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => threadOf(a) - threadOf(b))
  const threads: Array<{ thread: string; ms: number }> = []
  const selfByFunction = new Map<string, { fn: string; location: string; stage: string; us: number }>()
  /** stage -> thread -> us */
  const stages = new Map<string, Map<string, number>>()
  let totalUs = 0
  for (const file of files) {
    const id = threadOf(file)
    const thread = id === 0 ? 'main' : `worker ${id}`
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
    const byId = new Map(profile.nodes.map((n) => [n.id, n]))
    let threadUs = 0
    for (let i = 0; i < profile.samples.length; i++) {
      const node = byId.get(profile.samples[i])
      if (!node) continue
      const { functionName, url, lineNumber } = node.callFrame
      if (functionName === '(idle)') continue
      const us = profile.timeDeltas[i] ?? 0
      threadUs += us
      const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : '(native)'
      const key = `${functionName}@${location}`
      const entry = selfByFunction.get(key) ?? { fn: functionName || '(anonymous)', location, stage: stageOf(url, functionName), us: 0 }
      entry.us += us
      selfByFunction.set(key, entry)
      const perThread = stages.get(entry.stage) ?? new Map<string, number>()
      perThread.set(thread, (perThread.get(thread) ?? 0) + us)
      stages.set(entry.stage, perThread)
    }
    totalUs += threadUs
    threads.push({ thread, ms: Math.round(threadUs / 1000) })
  }
  const pct = (us: number) => Math.round((1000 * us) / Math.max(1, totalUs)) / 10
  const ms = (us: number) => Math.round(us / 100) / 10
  const perBlock = (us: number) => Math.round((us / 1000 / blocks) * 1000) / 1000
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  return {
    threads,
    totalMs: ms(totalUs),
    byStage: [...stages.entries()]
      .sort((a, b) => sum(b[1]) - sum(a[1]))
      .map(([stage, perThread]) => ({
        stage,
        selfMs: ms(sum(perThread)),
        percent: pct(sum(perThread)),
        msPerBlock: perBlock(sum(perThread)),
        msPerBlockByThread: Object.fromEntries([...perThread.entries()].map(([t, us]) => [t, perBlock(us)])),
      })),
    top: [...selfByFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ function: e.fn, location: e.location, stage: e.stage, selfMs: ms(e.us), percent: pct(e.us) })),
  }
}

export function profileTable(summary: ProfileSummary): string {
  const threadNames = summary.threads.map((t) => t.thread)
  const threads = summary.threads.map((t) => `${t.thread} ${t.ms} ms`).join(', ')
  const lines = [
    `CPU profile: ${summary.totalMs} ms sampled (idle excluded): ${threads}`,
    `  by stage (ms/block: all threads, then ${threadNames.join(' / ')}):`,
  ]
  for (const s of summary.byStage) {
    const split = threadNames.map((t) => (s.msPerBlockByThread[t] ?? 0).toFixed(3)).join(' / ')
    lines.push(`    ${s.stage.padEnd(28)} ${String(s.percent).padStart(5)}%  ${s.msPerBlock.toFixed(3)}  (${split})`)
  }
  lines.push('  top functions (self time):')
  for (const h of summary.top) lines.push(`    ${String(h.percent).padStart(5)}%  ${h.function} (${h.location}) [${h.stage}]`)
  return lines.join('\n')
}

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
  threads: number
  /** CPU time sampled (idle excluded), ms. */
  totalMs: number
  byStage: Array<{ stage: string; selfMs: number; percent: number; msPerBlock: number }>
  top: HotSpot[]
}

/** [stage, test on "url functionName"]; order matters. */
const STAGES: ReadonlyArray<readonly [string, RegExp]> = [
  ['garbage collection', /\(garbage collector\)/],
  // JSON.parse is a builtin: its time is the self time of the caller (the transport's post()).
  ['JSON parse', /sources\/rpc\/transport\.[jt]s post$|^ (parse|JSON\.parse)$/],
  ['RLP rebuild (JSON -> bytes)', /sources\/rpc\/(rebuild|hex)\.|primitives\/rlp\./],
  // Buffer.from(hex) and friends: the rebuild's hex decoding, mostly.
  ['Buffer / hex (node)', /^node:buffer|^node:internal\/buffer| hexWrite$/],
  ['hashing / tries', /primitives\/(keccak|trie)\.|hash-wasm|keccak/i],
  ['signature recovery', /secp256k1|primitives\/secp/],
  ['validation', /\/validator\/|primitives\/(header|body|transaction|receipt)\./],
  ['store', /\/store\/|lmdb|ioredis|msgpackr|redis/i],
  ['JSON-RPC source', /\/sources\//],
  ['downloader / sync', /\/downloader\/|\/sync\//],
  ['network / http', /node:(http|net|_http|stream|internal\/(http|net|stream))|undici|\(program\)/],
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
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  const selfByFunction = new Map<string, { fn: string; location: string; stage: string; us: number }>()
  let totalUs = 0
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
    const byId = new Map(profile.nodes.map((n) => [n.id, n]))
    for (let i = 0; i < profile.samples.length; i++) {
      const node = byId.get(profile.samples[i])
      if (!node) continue
      const { functionName, url, lineNumber } = node.callFrame
      if (functionName === '(idle)') continue
      const us = profile.timeDeltas[i] ?? 0
      totalUs += us
      const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : '(native)'
      const key = `${functionName}@${location}`
      const entry = selfByFunction.get(key) ?? { fn: functionName || '(anonymous)', location, stage: stageOf(url, functionName), us: 0 }
      entry.us += us
      selfByFunction.set(key, entry)
    }
  }
  const stages = new Map<string, number>()
  for (const e of selfByFunction.values()) stages.set(e.stage, (stages.get(e.stage) ?? 0) + e.us)
  const pct = (us: number) => Math.round((1000 * us) / Math.max(1, totalUs)) / 10
  const ms = (us: number) => Math.round(us / 100) / 10
  return {
    threads: files.length,
    totalMs: ms(totalUs),
    byStage: [...stages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([stage, us]) => ({ stage, selfMs: ms(us), percent: pct(us), msPerBlock: Math.round((us / 1000 / blocks) * 1000) / 1000 })),
    top: [...selfByFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ function: e.fn, location: e.location, stage: e.stage, selfMs: ms(e.us), percent: pct(e.us) })),
  }
}

export function profileTable(summary: ProfileSummary): string {
  const lines = [`CPU profile: ${summary.threads} thread(s), ${summary.totalMs} ms sampled (idle excluded)`, '  by stage:']
  for (const s of summary.byStage) lines.push(`    ${s.stage.padEnd(30)} ${String(s.selfMs).padStart(9)} ms  ${String(s.percent).padStart(5)}%  ${s.msPerBlock.toFixed(3)} ms/block`)
  lines.push('  top functions (self time):')
  for (const h of summary.top) lines.push(`    ${String(h.percent).padStart(5)}%  ${h.function} (${h.location}) [${h.stage}]`)
  return lines.join('\n')
}

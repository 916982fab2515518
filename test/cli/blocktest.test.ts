/**
 * Runs `evm-syncer blocktest` (the built CLI) over every BlockchainTests fixture and checks the
 * printed lines against the INDEX.md expectations: every valid block accepted, every invalid block
 * rejected — those tagged H (header/body/seal) or T (transaction) by a real rule, not by the
 * "given only as rlp" fallback — and every test's fork-choice head equal to `lastblockhash`.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { BlocktestBlockLine, BlocktestHeadLine } from '../../src/cli/commands/blocktest.js'
import { fixturePath } from '../fixtures.js'
import { ensureBuilt, runCli } from '../helpers/cli.js'

const SUITES = ['ethereum-tests', 'ethereum-legacytests'] as const
const DIRS = [fixturePath('ethereum-tests', 'BlockchainTests'), fixturePath('ethereum-legacytests', 'Constantinople', 'BlockchainTests')]

/**
 * Rlp-only blocks whose fault needs execution: bcForkBlockTest forges gas costs / storage refunds on
 * otherwise well-formed Frontier blocks. INDEX.md tags every rlp-only block H; no header, body or
 * transaction rule can catch these four, so they are rejected by the rlp-only rule.
 */
const EXECUTION_ONLY = new Set(['BlockWrongResetGas', 'BlockWrongStoreClears', 'BlockWrongStoreSetGas', 'SimpleTxCosts20000'].map((t) => `bcForkBlockTest.json/${t}`))

type BlockLine = BlocktestBlockLine
type HeadLine = BlocktestHeadLine

/** INDEX.md: per file, exception name -> class tag (H/T/R/S), and the block / invalid counts. */
function readIndex(suite: string): Map<string, { tags: Map<string, string>; blocks: number; invalid: number }> {
  const out = new Map<string, { tags: Map<string, string>; blocks: number; invalid: number }>()
  for (const line of readFileSync(fixturePath(suite, 'INDEX.md'), 'utf8').split('\n')) {
    if (!line.startsWith('| ') || !line.includes('.json')) continue
    const cells = line.slice(2, -2).split(' | ')
    const [file, , , , blocks, invalid, exceptions] = cells
    const tags = new Map<string, string>()
    if (exceptions !== '-') {
      for (const part of exceptions.split('; ')) {
        const m = /^(.*) x\d+ \[([HTRS])\]$/.exec(part)
        if (!m) throw new Error(`unparsed INDEX entry: ${part}`)
        tags.set(m[1].startsWith('(no blockHeader') ? 'RLP_ONLY' : m[1], m[2])
      }
    }
    out.set(file, { tags, blocks: Number(blocks), invalid: Number(invalid) })
  }
  return out
}

let lines: Array<BlockLine | HeadLine> = []
let status: number | null = null

beforeAll(() => {
  ensureBuilt()
  const run = runCli(['blocktest', ...DIRS])
  status = run.status
  lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BlockLine | HeadLine)
}, 300_000)

describe('evm-syncer blocktest over the fixtures', () => {
  it('ran every file (exit 0, no file errors)', () => {
    expect(status).toBe(0)
    expect(lines.filter((l) => 'error' in l && !('block' in l))).toEqual([])
  })

  for (const suite of SUITES) {
    describe(suite, () => {
      const index = readIndex(suite)
      const root = fixturePath(suite)
      const blockLines = () => lines.filter((l): l is BlockLine => 'block' in l && l.file.startsWith(root))
      const testsOf = new Map<string, Record<string, { blocks: Array<Record<string, unknown>> }>>()
      const jsonBlock = (l: BlockLine) => {
        if (!testsOf.has(l.file)) testsOf.set(l.file, JSON.parse(readFileSync(l.file, 'utf8')))
        return (testsOf.get(l.file) as Record<string, { blocks: Array<Record<string, unknown>> }>)[l.test].blocks[l.block]
      }

      it('prints one line per block, as many blocks and invalid blocks as INDEX.md lists', () => {
        const perFile = new Map<string, { blocks: number; invalid: number }>()
        for (const l of blockLines()) {
          const key = relative(root, l.file)
          const c = perFile.get(key) ?? { blocks: 0, invalid: 0 }
          c.blocks++
          if (l.expect === 'invalid') c.invalid++
          perFile.set(key, c)
        }
        for (const [file, entry] of index) expect(perFile.get(file), file).toEqual({ blocks: entry.blocks, invalid: entry.invalid })
      })

      it('accepts every valid block', () => {
        const wrong = blockLines().filter((l) => l.expect === 'valid' && l.result !== 'accepted')
        expect(wrong.map((l) => `${l.test}#${l.block}: ${l.error}`)).toEqual([])
        expect(blockLines().filter((l) => l.expect === 'valid').length).toBeGreaterThan(300)
      })

      it('rejects every invalid block; H and T classes by a real rule', () => {
        const missed: string[] = []
        let checkedByRule = 0
        for (const l of blockLines().filter((b) => b.expect === 'invalid')) {
          if (l.result !== 'rejected') missed.push(`${l.test}#${l.block}: accepted`)
          const block = jsonBlock(l)
          const key = Object.keys(block).find((k) => k.startsWith('expectException'))
          const tags = index.get(relative(root, l.file))?.tags
          const tag = tags?.get(key ? String(block[key]) : 'RLP_ONLY')
          if (tag !== 'H' && tag !== 'T') continue
          const fallback = l.error?.startsWith('BLOCKTEST_RLP_ONLY') ?? false
          const name = `${l.file.split('/').pop()}/${l.test}`
          if (fallback && !EXECUTION_ONLY.has(name)) missed.push(`${name}#${l.block} [${tag}]: only the rlp-only fallback rejected it`)
          if (!fallback) checkedByRule++
        }
        expect(missed).toEqual([])
        expect(checkedByRule).toBeGreaterThan(100)
      })

      it('fork choice selects lastblockhash in every test', () => {
        const heads = lines.filter((l): l is HeadLine => 'head' in l && l.file.startsWith(root))
        expect(heads.length).toBeGreaterThan(100)
        expect(heads.filter((h) => h.head !== h.lastblockhash).map((h) => h.test)).toEqual([])
      })
    })
  }
})

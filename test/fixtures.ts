/** Paths into the shared conformance fixtures (../shared/fixtures beside the repository). */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures')

export function fixturePath(...parts: string[]): string {
  const p = join(FIXTURES, ...parts)
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (../shared/fixtures must sit beside the repo)`)
  return p
}

export function readFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T
}

/** Every file below `dir` whose name ends with `ext`, sorted. */
export function listFiles(dir: string, ext: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith(ext)) out.push(p)
    }
  }
  walk(dir)
  return out
}

export const PORTAL_BLOCKS = [14764013, 15537393, 17034869, 17034870, 19426586, 19426587, 22431083, 22431084] as const

/** A real mainnet block from portal-spec-tests: raw header, body and eth/69-form receipts (hex). */
export function readPortalBlock(n: number): { header: string; body: string; receipts: string } {
  const text = readFileSync(fixturePath('portal-spec-tests', 'tests', 'mainnet', 'history', 'block_data', `block-data-${n}.yaml`), 'utf8')
  const field = (k: string) => {
    const m = text.match(new RegExp(`^${k}: (0x[0-9a-f]*)`, 'm'))
    if (!m) throw new Error(`block-data-${n}.yaml has no ${k}`)
    return m[1]
  }
  return { header: field('header'), body: field('body'), receipts: field('receipts') }
}

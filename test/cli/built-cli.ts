/**
 * Runs the built CLI (dist/cli/main.js). `npm test` builds before running vitest; a dist older than
 * src fails loudly instead of testing stale code (rebuilding here would race between test files).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../fixtures.js'

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js')

function newestMtime(dir: string): number {
  let newest = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const s = statSync(p)
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs)
  }
  return newest
}

export function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return
  throw new Error(`${CLI} is missing or older than src/: run \`npm run build\` (npm test does it first)`)
}

export function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

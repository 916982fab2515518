/**
 * npm run bench — every benchmark this checkout has, one after another (they share two cores, so
 * never in parallel): bench:validate, bench:store, bench:sync-rpc, bench:scale, bench:headers and
 * bench:sync-p2p, those of them defined in package.json. Each one's table goes to stderr; the JSON
 * of all of them is printed on stdout (and written to `--out FILE`).
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from './lib/clients.js'
import { log } from './lib/replay.js'

const ORDER = ['bench:validate', 'bench:store', 'bench:sync-rpc', 'bench:scale', 'bench:headers', 'bench:sync-p2p']
const { values } = parseArgs({ options: { out: { type: 'string' } } })
const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
const missing = ORDER.filter((s) => !(s in scripts))
if (missing.length > 0) log(`not defined in package.json, skipped: ${missing.join(', ')}`)

function run(script: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout }))
  })
}

const results: Record<string, unknown> = {}
let failed = 0
for (const script of ORDER.filter((s) => s in scripts)) {
  log(`running ${script}`)
  const { code, stdout } = await run(script)
  try {
    results[script] = code === 0 ? JSON.parse(stdout) : { failed: `exit ${code}` }
  } catch {
    results[script] = { output: stdout.trim() }
  }
  if (code !== 0) failed++
}
const text = JSON.stringify({ at: new Date().toISOString(), skipped: missing, results }, null, 2) + '\n'
process.stdout.write(text)
if (values.out) writeFileSync(values.out, text)
process.exitCode = failed > 0 ? 1 : 0

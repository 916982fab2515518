import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SYNC_OPTIONS } from '../../src/cli/commands/sync.js'
import { optionsTable } from '../../src/cli/options.js'
import { SPEC_METRIC_NAMES } from '../../src/metrics/metrics.js'
import { REPO_ROOT } from '../fixtures.js'

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')

describe('README', () => {
  it('starts with the two set-up commands, the second being what CI runs', () => {
    const commands = readme.split('\n').filter((l) => l.startsWith('    ')).slice(0, 2).map((l) => l.trim())
    expect(commands[0]).toMatch(/^npm ci && npx evm-syncer sync /)
    expect(commands[1]).toBe('bash scripts/install-test-deps.sh && npm ci && npm test')
    expect(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8')).toContain(commands[1])
  })

  it('documents every sync option exactly as the CLI defines it (npm run docs:config)', () => {
    expect(readme).toContain(optionsTable(SYNC_OPTIONS))
  })

  it('lists all 15 spec metrics and links files that exist', () => {
    for (const name of SPEC_METRIC_NAMES) expect(readme).toContain(`\`${name}\``)
    for (const [, target] of readme.matchAll(/\]\(([^)#]+)\)/g)) expect(existsSync(join(REPO_ROOT, target)), target).toBe(true)
    expect(readme).toContain('docs/grafana-dashboard.json')
    expect(existsSync(join(REPO_ROOT, 'docs', 'grafana-dashboard.json'))).toBe(true)
  })
})

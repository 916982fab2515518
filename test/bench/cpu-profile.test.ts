/** The profile summary on a real `node --cpu-prof` profile of a known hot function. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { profileTable, summariseProfiles } from '../../bench/lib/cpu-profile.js'

const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-prof-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it('finds the hot function and accounts every sampled millisecond to a stage', () => {
  const script = `function burnCycles(){let x=0;const end=Date.now()+300;while(Date.now()<end)for(let i=0;i<1e4;i++)x+=Math.sqrt(i);return x}burnCycles()`
  const run = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '-e', script], { encoding: 'utf8' })
  expect(run.status).toBe(0)
  const summary = summariseProfiles(dir, 10)
  expect(summary.threads).toEqual([{ thread: 'main', ms: expect.any(Number) }])
  expect(summary.totalMs).toBeGreaterThan(200)
  expect(summary.top[0].function).toBe('burnCycles')
  expect(summary.top[0].percent).toBeGreaterThan(50)
  const stageMs = summary.byStage.reduce((a, s) => a + s.selfMs, 0)
  expect(Math.abs(stageMs - summary.totalMs)).toBeLessThan(1)
  expect(profileTable(summary)).toContain('burnCycles')
})

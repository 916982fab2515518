import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { defaultSyncConfig, validateSyncConfig } from '../../src/sync/config.js'
import { ensureBuilt, runCli } from '../helpers/cli.js'

describe('sync configuration', () => {
  it('has the spec defaults', () => {
    const c = defaultSyncConfig()
    expect(c).toMatchObject({ mode: 'full', startBlock: 0, targetBlock: 0, batchSize: 100, checkpointInterval: 1000, workerCount: 50 })
    expect(validateSyncConfig(c)).toBe(c)
  })

  it.each([
    [{ batchSize: 0 }, /batchSize: must be 1\.\.10000, got 0/],
    [{ workerCount: 5000 }, /workerCount/],
    [{ startBlock: 10, targetBlock: 5 }, /targetBlock: 5 is below startBlock 10/],
    [{ mode: 'fast' as never }, /mode: must be "full" or "headers-only"/],
    [{ finalityDepth: 0 }, /finalityDepth: must be >= 1/],
  ])('rejects %o with a one-line ConfigError', (patch, message) => {
    const err = (() => {
      try {
        validateSyncConfig({ ...defaultSyncConfig(), ...patch })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(message)
    expect((err as Error).message).not.toContain('\n')
  })

  it('exits 2 with a clear message on usage and config errors', () => {
    ensureBuilt()
    const noSource = runCli(['sync', '--store', 'lmdb:/nonexistent/never-created'])
    expect(noSource.status).toBe(2)
    expect(noSource.stderr).toMatch(/give at least one source/) // no --chain: nothing to discover
    const badNumber = runCli(['sync', '--rpc', 'http://127.0.0.1:9', '--batch-size', 'many'])
    expect(badNumber.status).toBe(2)
    expect(badNumber.stderr).toMatch(/--batch-size expects a non-negative integer/)
    const unknownFlag = runCli(['sync', '--no-such-flag'])
    expect(unknownFlag.status).toBe(2)
    const badChain = runCli(['sync', '--chain', 'atlantis', '--rpc', 'http://127.0.0.1:9'])
    expect(badChain.status).toBe(2)
    expect(badChain.stderr).toMatch(/unknown chain "atlantis"/)
  })
})

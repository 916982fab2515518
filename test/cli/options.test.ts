import { Command } from 'commander'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addOptions, envName, typedOptions, readConfigFile, resolveOptions, type OptionSpec } from '../../src/cli/options.js'
import { ConfigError } from '../../src/errors.js'

const specs: OptionSpec[] = [
  { flag: 'batch-size', kind: 'int', description: 'blocks per commit', defaultValue: 100 },
  { flag: 'rpc', kind: 'list', description: 'endpoint' },
  { flag: 'follow', kind: 'bool', description: 'follow the head', defaultValue: false },
  { flag: 'metrics', kind: 'string', description: 'listen address', defaultValue: '127.0.0.1:2112', negatable: true },
]

function parse(argv: string[]): Record<string, unknown> {
  const cmd = addOptions(new Command('t').exitOverride(), specs)
  cmd.parse(argv, { from: 'user' })
  return typedOptions(cmd)
}

describe('layered options', () => {
  it('takes flags over env over file over defaults', () => {
    const file = { batchSize: 7, 'rpc': ['http://file'], follow: true }
    expect(resolveOptions(specs, parse([]), {}, {})).toEqual({ batchSize: 100, rpc: undefined, follow: false, metrics: '127.0.0.1:2112' })
    expect(resolveOptions(specs, parse([]), {}, file).batchSize).toBe(7)
    expect(resolveOptions(specs, parse([]), { [envName('batch-size')]: '9' }, file).batchSize).toBe(9)
    expect(resolveOptions(specs, parse(['--batch-size', '11']), { EVM_SYNCER_BATCH_SIZE: '9' }, file).batchSize).toBe(11)
    expect(resolveOptions(specs, parse(['--rpc', 'http://a', '--rpc', 'http://b']), {}, file).rpc).toEqual(['http://a', 'http://b'])
    expect(resolveOptions(specs, parse([]), { EVM_SYNCER_RPC: 'http://a,http://b' }, {}).rpc).toEqual(['http://a', 'http://b'])
    expect(resolveOptions(specs, parse([]), { EVM_SYNCER_FOLLOW: 'yes' }, {}).follow).toBe(true)
  })

  it('switches a negatable option off from a flag or the environment', () => {
    expect(resolveOptions(specs, parse(['--no-metrics']), {}, {}).metrics).toBe(false)
    expect(resolveOptions(specs, parse([]), { EVM_SYNCER_METRICS: 'off' }, {}).metrics).toBe(false)
    expect(resolveOptions(specs, parse(['--metrics', '0.0.0.0:9000']), {}, {}).metrics).toBe('0.0.0.0:9000')
  })

  it('rejects bad values and unknown config keys with a ConfigError naming the origin', () => {
    expect(() => resolveOptions(specs, parse(['--batch-size', 'ten']), {}, {})).toThrow(/command line: --batch-size expects a non-negative integer/)
    expect(() => resolveOptions(specs, parse([]), { EVM_SYNCER_BATCH_SIZE: '-3' }, {})).toThrow(ConfigError)
    expect(() => resolveOptions(specs, parse([]), {}, { batchsize: 3 })).toThrow(/unknown key "batchsize"/)
  })

  it('reads JSON config files and reports unreadable or invalid ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evm-syncer-opts-'))
    writeFileSync(join(dir, 'ok.json'), '{"batch-size": 5}')
    writeFileSync(join(dir, 'bad.json'), '{batch')
    expect(readConfigFile(join(dir, 'ok.json'))).toEqual({ 'batch-size': 5 })
    expect(() => readConfigFile(join(dir, 'bad.json'))).toThrow(/not valid JSON/)
    expect(() => readConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read/)
  })
})

/**
 * Layered options: command-line flags > environment (`EVM_SYNCER_<FLAG>`) > JSON config file >
 * defaults. One declarative table per command drives commander, the env names, the config keys and
 * the help text, so the four can never drift apart.
 */
import { readFileSync } from 'node:fs'
import { type Command, Option } from 'commander'
import { ConfigError } from '../errors.js'

export type OptionKind = 'string' | 'int' | 'bool' | 'list'

export interface OptionSpec {
  /** Kebab-case flag name without dashes, e.g. `batch-size`. */
  flag: string
  kind: OptionKind
  description: string
  valueName?: string
  defaultValue?: string | number | boolean | string[]
  /** Also accept `--no-<flag>` (booleans that default to true). */
  negatable?: boolean
}

export type OptionValues = Record<string, string | number | boolean | string[] | undefined>

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

export function envName(flag: string): string {
  return `EVM_SYNCER_${flag.toUpperCase().replace(/-/g, '_')}`
}

export function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const value = spec.valueName ?? spec.flag.toUpperCase().replace(/-/g, '_')
    const def = spec.defaultValue === undefined ? '' : ` (default: ${JSON.stringify(spec.defaultValue)})`
    const help = `${spec.description}${def} [env ${envName(spec.flag)}]`
    if (spec.kind === 'bool') {
      cmd.addOption(new Option(`--${spec.flag}`, help))
    } else if (spec.kind === 'list') {
      cmd.addOption(new Option(`--${spec.flag} <${value}>`, `${help}; repeatable`).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    } else {
      cmd.addOption(new Option(`--${spec.flag} <${value}>`, help))
    }
    // Added after the positive form, so commander does not invent a default of `true`.
    if (spec.negatable) cmd.addOption(new Option(`--no-${spec.flag}`, `disable --${spec.flag}`))
  }
  return cmd
}

/** The options the user actually typed (not commander's implied values), keyed by camelCase. */
export function typedOptions(cmd: Command): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(cmd.opts())) {
    if (cmd.getOptionValueSource(key) === 'cli') out[key] = value
  }
  return out
}

function parseValue(spec: OptionSpec, raw: unknown, origin: string): string | number | boolean | string[] {
  const bad = (what: string): never => {
    throw new ConfigError('BAD_OPTION', `${origin}: --${spec.flag} ${what}, got ${JSON.stringify(raw)}`, { details: { flag: spec.flag } })
  }
  // `--no-metrics`, EVM_SYNCER_METRICS=off: a negatable option switched off.
  if (spec.negatable && spec.kind !== 'bool' && (raw === false || (typeof raw === 'string' && /^(false|off|no)$/i.test(raw)))) return false
  switch (spec.kind) {
    case 'bool':
      if (typeof raw === 'boolean') return raw
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false
      return bad('expects true/false')
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN
      return Number.isSafeInteger(n) && n >= 0 ? n : bad('expects a non-negative integer')
    }
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[]
      if (typeof raw === 'string') return raw.split(/[\s,]+/).filter(Boolean)
      return bad('expects a list of strings')
    case 'string':
      return typeof raw === 'string' || typeof raw === 'number' ? String(raw) : bad('expects a string')
  }
}

/** Reads a JSON config file; keys may be camelCase (`batchSize`) or flag names (`batch-size`). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `cannot read config file ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('CONFIG_FILE_INVALID', `config file ${path} is not valid JSON: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('CONFIG_FILE_INVALID', `config file ${path} must hold a JSON object`)
  }
  return parsed as Record<string, unknown>
}

/**
 * Merges the layers. `cli` holds only flags the user actually typed (commander without defaults),
 * keyed by camelCase. Unknown config-file keys are errors: a typo must not silently do nothing.
 */
export function resolveOptions(
  specs: readonly OptionSpec[],
  cli: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown> = {},
  fileName = 'config file',
): OptionValues {
  const byKey = new Map(specs.map((s) => [camelCase(s.flag), s]))
  const fileValues = new Map<string, unknown>()
  for (const [k, v] of Object.entries(file)) {
    const key = byKey.has(k) ? k : camelCase(k)
    if (!byKey.has(key)) throw new ConfigError('CONFIG_FILE_INVALID', `${fileName}: unknown key "${k}"`)
    fileValues.set(key, v)
  }
  const out: OptionValues = {}
  for (const spec of specs) {
    const key = camelCase(spec.flag)
    if (cli[key] !== undefined) out[key] = parseValue(spec, cli[key], 'command line')
    else if (env[envName(spec.flag)] !== undefined) out[key] = parseValue(spec, env[envName(spec.flag)], envName(spec.flag))
    else if (fileValues.has(key)) out[key] = parseValue(spec, fileValues.get(key), fileName)
    else out[key] = spec.defaultValue
  }
  return out
}

/** Markdown table of a command's options: flag, environment variable, config key, default, meaning. */
export function optionsTable(specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const value = s.kind === 'bool' ? '' : ` ${s.valueName ?? 'VALUE'}`
    const flag = `\`--${s.flag}${value}\`${s.negatable ? ` / \`--no-${s.flag}\`` : ''}${s.kind === 'list' ? ' (repeatable)' : ''}`
    const def = s.defaultValue === undefined ? '' : `\`${JSON.stringify(s.defaultValue)}\``
    const cells = [flag, `\`${envName(s.flag)}\``, `\`${camelCase(s.flag)}\``, def, s.description]
    return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`
  })
  return ['| flag | environment | config key | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}

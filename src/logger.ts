/**
 * Structured logs (pino, JSON) on stderr; stdout is reserved for machine-readable command output.
 * Levels follow the spec: info = progress and major events, warn = reorgs, peer failures, retries,
 * error = critical failures and validation errors, debug = per-operation detail.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function createLogger(level: LogLevel = 'info', name = 'evm-syncer'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }))
}

/** A logger that drops everything (library default and unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}

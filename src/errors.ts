/**
 * Errors are values with a kind: every error the syncer raises carries a stable `code`, whether a
 * retry can help (`retryable`), optional structured `details` and the `cause` it wraps. Peers are
 * scored by the kind of error they caused, so callers switch on the class and the code, never on
 * message text.
 */
export interface ErrorOptions {
  retryable?: boolean
  details?: Record<string, unknown>
  cause?: unknown
}

export class SyncerError extends Error {
  readonly code: string
  readonly retryable: boolean
  readonly details: Record<string, unknown> | undefined

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retryable = options.retryable ?? false
    this.details = options.details
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/** Malformed or non-canonical RLP, or a structure with the wrong shape. Never retryable from the same bytes. */
export class DecodeError extends SyncerError {}

/** A block, header, body or receipt list that breaks a consensus rule. */
export class ValidationError extends SyncerError {}

/** Bad configuration or command-line input. */
export class ConfigError extends SyncerError {}

/** Storage failure (connection, write, corrupted record). */
export class StoreError extends SyncerError {}

/** A source (peer or endpoint) failed to deliver: timeout, disconnect, protocol violation. */
export class SourceError extends SyncerError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

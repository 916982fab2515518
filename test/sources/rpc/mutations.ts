/**
 * Property testing of the tape rebuild against the reference rebuild (reference-rebuild.ts): random
 * single-field changes of real block and receipt JSON (quirks a node may print, and damage), after
 * which both must write the same bytes or fail with the same typed error.
 */
import { expect } from 'vitest'
import { bytesToHex } from '../../../src/primitives/bytes.js'
import { RpcError } from '../../../src/sources/rpc/errors.js'

type Json = Record<string, unknown>

/** Field changes; hex ones apply to strings, the rest to any value. */
const CHANGES: ReadonlyArray<(v: unknown) => unknown> = [
  (v) => (typeof v === 'string' && v.startsWith('0x') ? '0x00' + v.slice(2) : v), // leading zeros
  (v) => (typeof v === 'string' ? v.toUpperCase().replace(/^0X/, '0x') : v), // uppercase digits
  (v) => (typeof v === 'string' ? v.replace(/^0x/, '0X') : v),
  (v) => (typeof v === 'string' ? v.slice(0, -2) : v), // one byte short
  (v) => (typeof v === 'string' ? v + '00' : v), // one byte long
  (v) => (typeof v === 'string' ? v + '0' : v), // odd length
  (v) => (typeof v === 'string' ? v.slice(0, -1) + 'g' : v), // not hex
  (v) => (typeof v === 'string' && v.length > 4 ? v.slice(0, 3) + 'Z' + v.slice(4) : v),
  (v) => (typeof v === 'string' ? v.slice(2) : v), // no prefix
  () => '0x',
  () => '0x0',
  () => '0x1',
  () => '0x1b',
  () => '0x1c',
  () => '0x2',
  () => '0x80',
  () => '0x' + 'f'.repeat(66),
  () => '0x' + 'f'.repeat(17),
  () => '0x' + '0'.repeat(15),
  () => null,
  () => undefined,
  () => 5,
  () => ({}),
  () => [],
  () => '',
]

/** The objects of a JSON tree that a change may hit (the root and everything below). */
function objects(root: unknown): Json[] {
  const out: Json[] = []
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === 'object' && v !== null) {
      out.push(v as Json)
      Object.values(v).forEach(walk)
    }
  }
  walk(root)
  return out
}

/**
 * A deep copy of `root` with one change: a field of a random object (one of its own keys, or
 * sometimes one of `extraKeys`) replaced by a change of its value. Returns a description.
 */
export function mutate(root: unknown, next: () => number, extraKeys: readonly string[]): { value: unknown; key: string; what: string } {
  const value = structuredClone(root)
  const all = objects(value)
  const target = all[Math.floor(next() * all.length)]
  const keys = Object.keys(target)
  const key = next() < 0.1 || keys.length === 0 ? extraKeys[Math.floor(next() * extraKeys.length)] : keys[Math.floor(next() * keys.length)]
  const change = Math.floor(next() * CHANGES.length)
  const before = target[key]
  const after = CHANGES[change](before)
  if (after === undefined) delete target[key]
  else target[key] = after
  return { value, key, what: `${key}: ${JSON.stringify(before)?.slice(0, 40)} -> ${JSON.stringify(after)?.slice(0, 40)}` }
}

type Outcome = { ok: true; bytes: string } | { ok: false; code: string; field: unknown; message: string }

function outcome(run: () => Uint8Array | Uint8Array[]): Outcome {
  try {
    const out = run()
    return { ok: true, bytes: (Array.isArray(out) ? out : [out]).map(bytesToHex).join('|') }
  } catch (err) {
    if (!(err instanceof RpcError)) throw err
    return { ok: false, code: err.code, field: err.details?.field, message: err.message }
  }
}

/**
 * A change of a transaction's or receipt's `type` re-reads the whole object under other rules and
 * usually breaks several fields at once; the tape rebuild reads fields last first, so it may name
 * another of them (same error code).
 */
export const MANY_FAULTS_KEYS = new Set(['type'])

/**
 * Runs both rebuilds; they must agree: the same bytes, or the same error code, field and message
 * (only the code when the change broke several fields, see MANY_FAULTS_KEYS). Returns whether
 * they succeeded.
 */
export function expectSameOutcome(change: { key: string; what: string }, reference: () => Uint8Array | Uint8Array[], tape: () => Uint8Array | Uint8Array[]): boolean {
  const want = outcome(reference)
  const got = outcome(tape)
  const { what } = change
  if (want.ok || got.ok) {
    expect(got, what).toEqual(want)
    return want.ok
  }
  if (MANY_FAULTS_KEYS.has(change.key)) {
    expect(got.code, `${what}: ${want.message} / ${got.message}`).toBe(want.code)
    return false
  }
  expect({ code: got.code, field: got.field }, `${what}: ${want.message} / ${got.message}`).toEqual({ code: want.code, field: want.field })
  expect(got.message, what).toBe(want.message)
  return false
}

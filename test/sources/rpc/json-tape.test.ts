import { describe, expect, it } from 'vitest'
import { JsonKeys, JsonKind, JsonSyntaxError, JsonTape } from '../../../src/sources/rpc/json-tape.js'
import { prng } from '../../helpers/chain-gen.js'

const bytes = (text: string) => Buffer.from(text, 'utf8')

/** JSON.parse of the bytes, with the tape's one leniency: raw control characters inside strings (read as spaces). */
function lenientParse(b: Uint8Array): unknown {
  let state: 'outside' | 'string' | 'escape' = 'outside'
  let text = ''
  for (const ch of Buffer.from(b).toString('utf8')) {
    if (state === 'escape') state = 'string'
    else if (state === 'string' && ch === '\\') state = 'escape'
    else if (ch === '"') state = state === 'string' ? 'outside' : 'string'
    text += state === 'string' && ch < ' ' ? ' ' : ch
  }
  return JSON.parse(text)
}

/** Whether JSON.parse accepts the bytes, but for raw control characters inside strings. */
function parses(b: Uint8Array): boolean {
  try {
    lenientParse(b)
    return true
  } catch {
    return false
  }
}

function tapeOrError(b: Uint8Array): JsonTape | JsonSyntaxError {
  try {
    return JsonTape.parse(b)
  } catch (err) {
    expect(err).toBeInstanceOf(SyntaxError)
    return err as JsonSyntaxError
  }
}


function randomValue(next: () => number, depth: number): unknown {
  const r = next()
  if (depth > 4 || r < 0.35) {
    const pick = Math.floor(next() * 8)
    if (pick === 0) return null
    if (pick === 1) return next() < 0.5
    if (pick === 2) return Math.floor(next() * 1e6) - 5e5
    if (pick === 3) return (next() - 0.5) * 1e-3
    if (pick === 4) return '0x' + Math.floor(next() * 2 ** 48).toString(16)
    if (pick === 5) return 'quote " back \\ tab \t nl \n uni \u00e9 \u2028 ctl \u0001'
    if (pick === 6) return ''
    return 'x'.repeat(Math.floor(next() * 100))
  }
  if (r < 0.65) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1))
  const obj: Record<string, unknown> = {}
  for (let i = Math.floor(next() * 6); i > 0; i--) obj[['hash', 'nonce', 'a', 'é', 'k"q', ''][Math.floor(next() * 6)] + i] = randomValue(next, depth + 1)
  return obj
}

/** JSON text with random whitespace between tokens (JSON.stringify's indentation, then more). */
function spaced(value: unknown, next: () => number): string {
  const text = JSON.stringify(value, null, next() < 0.5 ? undefined : Math.floor(next() * 3))
  return next() < 0.5 ? text : ` \r\n\t${text}\n `
}

describe('JsonTape: the JSON.parse grammar, as typed arrays', () => {
  it('tokens carry kind, byte range and the next sibling; values come back as JSON.parse made them', () => {
    const tape = JsonTape.parse(bytes('{"a": [1, "x", {"b": null}], "c": true, "d": -2.5e3}'))
    expect(tape.kinds[0]).toBe(JsonKind.Object)
    const a = tape.get(0, 'a')
    expect(tape.kinds[a]).toBe(JsonKind.Array)
    expect(tape.length(a)).toBe(3)
    const [one, x, obj] = tape.elements(a)
    expect([tape.kinds[one], tape.kinds[x], tape.kinds[obj]]).toEqual([JsonKind.Number, JsonKind.String, JsonKind.Object])
    expect(tape.text(x)).toBe('x')
    expect(tape.isMissing(tape.get(obj, 'b'))).toBe(true)
    expect(tape.isMissing(tape.get(obj, 'zz'))).toBe(true)
    expect(tape.get(0, 'nope')).toBe(-1)
    expect(tape.value(tape.get(0, 'd'))).toBe(-2500)
    expect(tape.value(tape.get(0, 'c'))).toBe(true)
    expect(tape.keys(0)).toEqual(['a', 'c', 'd'])
    expect(tape.value(0)).toEqual(JSON.parse('{"a": [1, "x", {"b": null}], "c": true, "d": -2.5e3}'))
  })

  it('accepts what JSON.parse accepts, and raw control characters inside strings (grammar edge cases)', () => {
    const cases = [
      '0', '-0', '1.5', '1e5', '1E+5', '1e-5', '-1.25e-10', '"s"', 'true', 'false', 'null', '[]', '{}', ' [ ] ', '[[]]', '{"":1}',
      '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"', '{"a":{"b":{"c":[1,[2,[3]]]}}}',
      '', ' ', '01', '-', '1.', '.5', '1e', '+1', '0x10', 'tru', 'nul', 'True', '[1,]', '[,1]', '{"a":1,}', '{,}', '{"a"}', '{"a":}',
      '{a:1}', "{'a':1}", '[1 2]', '{"a":1 "b":2}', '"abc', '"a\\x"', '"\\u12g4"', '"\\u12"', '"tab\there"', '[1]]', '[1] x', '{"a":1}}',
      '\ufeff[]', '[1,2', '{"a":[}', 'NaN', 'Infinity', '"\u0000"', '"a\u0001b"', '{"k\u0009":"\u001f"}', '"\\u0041\n"',
    ]
    for (const text of cases) {
      const b = bytes(text)
      const got = tapeOrError(b)
      expect(got instanceof JsonTape, JSON.stringify(text)).toBe(parses(b))
      if (got instanceof JsonTape) expect(got.value(0)).toEqual(lenientParse(b))
    }
  })

  it('property: random documents round-trip; random byte damage is rejected exactly when JSON.parse rejects it (but for control characters in strings)', () => {
    const next = prng(7)
    let damagedAccepted = 0
    for (let n = 0; n < 400; n++) {
      const value = randomValue(next, 0)
      const text = spaced(value, next)
      const tape = JsonTape.parse(bytes(text))
      expect(tape.value(0)).toEqual(JSON.parse(text))
      const b = bytes(text)
      for (let k = 0; k < 3; k++) {
        const damaged = Uint8Array.from(b)
        const at = Math.floor(next() * damaged.length)
        damaged[at] = ' "{}[],:\\0e.-tfnx\u0001'.charCodeAt(Math.floor(next() * 20))
        const got = tapeOrError(damaged)
        expect(got instanceof JsonTape, Buffer.from(damaged).toString()).toBe(parses(damaged))
        if (got instanceof JsonTape) {
          damagedAccepted++
          expect(got.value(0)).toEqual(lenientParse(damaged))
        }
      }
    }
    expect(damagedAccepted).toBeGreaterThan(50)
  })

  it('with reuse, successive tapes share the thread\'s token arrays (each valid until the next)', () => {
    const big = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ n: i })))
    const first = JsonTape.parse(bytes(big), { reuse: true })
    expect(first.value(0)).toEqual(JSON.parse(big))
    const second = JsonTape.parse(bytes('{"a":[1,2]}'), { reuse: true })
    expect(second.value(0)).toEqual({ a: [1, 2] })
    expect(second.kinds).toBe(first.kinds)
    expect(JsonTape.parse(bytes('[]')).kinds).not.toBe(first.kinds)
  })

  it('deep nesting costs heap, not call stack', () => {
    const depth = 200_000
    const tape = JsonTape.parse(bytes('['.repeat(depth) + ']'.repeat(depth)))
    expect(tape.count).toBe(depth)
    expect(tape.nexts[0]).toBe(depth)
    expect(() => JsonTape.parse(bytes('['.repeat(depth) + ']'.repeat(depth - 1)))).toThrow(JsonSyntaxError)
  })

  it('escaped keys and values mean what JSON.parse makes of them', () => {
    const tape = JsonTape.parse(bytes('{"n\\u006fnce":"0x\\u0031","hash":"a","hash":"b","x":"q\\"q"}'))
    expect(tape.text(tape.get(0, 'nonce'))).toBe('0x1')
    // A repeated key means its last value.
    expect(tape.text(tape.get(0, 'hash'))).toBe('b')
    expect(tape.value(tape.get(0, 'x'))).toBe('q"q')
  })

  it('the error names the byte where the input stops being JSON', () => {
    expect(() => JsonTape.parse(bytes('{"a":[1,2,}'))).toThrow(/expected a JSON value at byte 10/)
    expect(() => JsonTape.parse(bytes('[1,2'))).toThrow(/unexpected end of JSON/)
  })
})

describe('JsonKeys: one pass over an object for every known key', () => {
  const keys = new JsonKeys(['hash', 'nonce', 'to', 'v', 'r', 's', 'input', 'data', 'maxPriorityFeePerGas', 'blobVersionedHashes'] as const)

  it('finds known keys, skips unknown ones (even of the same length), keeps the last of a repeated key', () => {
    const tape = JsonTape.parse(bytes('{"hash":"1","nonce":"2","nonc3":"x","to":null,"tx":"y","v":"3","r":"4","":"e","s":"5","hash":"6","maxPriorityFeePerGaz":"7"}'))
    const slots = keys.read(tape, 0)
    const text = (name: (typeof keys.names)[number]) => (slots[keys.ids[name]] < 0 ? undefined : tape.value(slots[keys.ids[name]]))
    expect(text('hash')).toBe('6')
    expect(text('nonce')).toBe('2')
    expect(text('to')).toBeNull()
    expect([text('v'), text('r'), text('s')]).toEqual(['3', '4', '5'])
    expect(text('input')).toBeUndefined()
    expect(text('maxPriorityFeePerGas')).toBeUndefined()
    expect(keys.read(JsonTape.parse(bytes('{}')), 0).every((t) => t === -1)).toBe(true)
  })

  it('agrees with a plain lookup on random objects of known and near-miss keys', () => {
    const next = prng(11)
    const pool = [...keys.names, 'hasH', 'nonc', 'nonces', 'inputs', 'dat', 'x', 'blobVersionedHashez', 'maxPriorityFeePerGa']
    for (let n = 0; n < 300; n++) {
      const members: string[] = []
      for (let i = Math.floor(next() * 12); i > 0; i--) members.push(`${JSON.stringify(pool[Math.floor(next() * pool.length)])}:${n * 100 + i}`)
      const text = `{${members.join(',')}}`
      const tape = JsonTape.parse(bytes(text))
      const slots = keys.read(tape, 0)
      const parsed = JSON.parse(text) as Record<string, unknown>
      for (const name of keys.names) expect(slots[keys.ids[name]] < 0 ? undefined : tape.value(slots[keys.ids[name]])).toBe(parsed[name])
    }
  })
})

/**
 * JSON tokenized into typed arrays (a "tape") instead of JS objects and strings. A block with its
 * receipts is ~350 KB of JSON whose values are almost all hex strings; JSON.parse would make ~15,000
 * strings and objects of it that the rebuild then reads once and drops. The tape keeps, per token,
 * its kind, byte range and the index of the token after its subtree, so the rebuild decodes hex
 * straight from the response bytes and nothing per field is allocated.
 *
 * The tokenizer checks the JSON grammar (structure, literals, numbers, string escapes): it accepts
 * what JSON.parse accepts, and raw control characters inside strings, which JSON.parse rejects
 * (finding a string's end natively is what makes the scan fast): such a string can be neither a
 * known key nor valid hex, so no value the rebuild reads differs. Semantics follow JSON.parse too: a
 * repeated key means its last value (`get`, `JsonKeys`), and a document with escaped strings is
 * re-spelled once without the escapes its text does not need (real nodes never escape hex or keys),
 * after which an escaped string can be neither a known key nor valid hex.
 */

export const JsonKind = {
  Object: 1,
  Array: 2,
  String: 3,
  Number: 4,
  True: 5,
  False: 6,
  Null: 7,
} as const

/** The input is not JSON; `position` is the byte offset where the tokenizer gave up. */
export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at byte ${position}`)
    this.name = 'JsonSyntaxError'
  }
}

const WHITESPACE = new Uint8Array(256)
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[c] = 1

const SIMPLE_ESCAPES = new Uint8Array(256)
for (const c of '"\\/bfnrt') SIMPLE_ESCAPES[c.charCodeAt(0)] = 1

const HEX_DIGIT = new Uint8Array(256)
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1

const isDigit = (c: number) => c >= 0x30 && c <= 0x39

const QUOTE = 0x22
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d

const TRUE = [0x74, 0x72, 0x75, 0x65]
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65]
const NULL = [0x6e, 0x75, 0x6c, 0x6c]

const utf8 = new TextDecoder()

export class JsonTape {
  /** Tokens on the tape; token 0 is the document's value. */
  readonly count: number

  private constructor(
    /** The JSON text the byte offsets point into. */
    readonly bytes: Uint8Array,
    /** JsonKind per token. */
    readonly kinds: Uint8Array,
    /** First byte of the token; for strings the first byte after the opening quote. */
    readonly starts: Int32Array,
    /** One past the token's last byte; for strings the closing quote. */
    readonly ends: Int32Array,
    /** Index of the token after this one's subtree (the next sibling, or the parent's end). */
    readonly nexts: Int32Array,
    count: number,
  ) {
    this.count = count
  }

  /**
   * Tokenizes `bytes`; throws JsonSyntaxError where JSON.parse would throw (but for control
   * characters in strings). With `reuse`, the token arrays are the thread's reusable ones: the tape
   * is then valid only until the next such parse, for work done synchronously (a batch rebuilt at
   * once makes no garbage of ~3 MB of arrays per response).
   */
  static parse(bytes: Uint8Array, opts: { reuse?: boolean } = {}): JsonTape {
    const first = scan(bytes, opts.reuse === true)
    if (!first.escaped) return new JsonTape(bytes, first.kinds, first.starts, first.ends, first.nexts, first.count)
    const normal = unescaped(bytes, first)
    const again = scan(normal, false)
    return new JsonTape(normal, again.kinds, again.starts, again.ends, again.nexts, again.count)
  }

  /** The tape of a JS value (through JSON.stringify); `undefined` properties are absent, as in JSON. */
  static of(value: unknown): JsonTape {
    return JsonTape.parse(Buffer.from(JSON.stringify(value), 'utf8'))
  }

  /** Absent (-1) or JSON null: what JSON-RPC field readers treat as "not there". */
  isMissing(token: number): boolean {
    return token < 0 || this.kinds[token] === JsonKind.Null
  }

  /** Children of an array token, in order. */
  elements(array: number): number[] {
    const out: number[] = []
    const end = this.nexts[array]
    for (let t = array + 1; t < end; t = this.nexts[t]) out.push(t)
    return out
  }

  /** Number of children of an array token. */
  length(array: number): number {
    let n = 0
    const end = this.nexts[array]
    for (let t = array + 1; t < end; t = this.nexts[t]) n++
    return n
  }

  /** Value token of `key` in an object token (its last occurrence, as JSON.parse keeps), or -1. */
  get(object: number, key: string): number {
    let found = -1
    const end = this.nexts[object]
    for (let k = object + 1; k < end; k = this.nexts[k + 1]) if (this.textEquals(k, key)) found = k + 1
    return found
  }

  /** Keys of an object token, in order (repeated keys once). */
  keys(object: number): string[] {
    const out = new Set<string>()
    const end = this.nexts[object]
    for (let k = object + 1; k < end; k = this.nexts[k + 1]) out.add(this.text(k))
    return [...out]
  }

  /** A string token's text. */
  text(token: number): string {
    return utf8.decode(this.bytes.subarray(this.starts[token], this.ends[token]))
  }

  /**
   * The JS value of a token's subtree (JSON.parse of its bytes): for error objects and small
   * results. Raw control characters in its strings (which the tape lets pass) read as spaces.
   */
  value(token: number): unknown {
    const kind = this.kinds[token]
    const start = kind === JsonKind.String ? this.starts[token] - 1 : this.starts[token]
    const end = kind === JsonKind.String ? this.ends[token] + 1 : this.ends[token]
    const text = utf8.decode(this.bytes.subarray(start, end))
    try {
      return JSON.parse(text)
    } catch {
      // Outside strings a control character can only be whitespace: a space keeps the structure.
      return JSON.parse(controlsAsSpaces(text))
    }
  }

  /** Whether a string token's bytes are exactly `ascii`. */
  textEquals(token: number, ascii: string): boolean {
    const start = this.starts[token]
    if (this.ends[token] - start !== ascii.length) return false
    for (let i = 0; i < ascii.length; i++) if (this.bytes[start + i] !== ascii.charCodeAt(i)) return false
    return true
  }
}

/**
 * The keys of one kind of object (a transaction, a receipt...), matched in one pass over an object's
 * members: `read` returns the value token of every key (-1 = absent), instead of a scan per lookup.
 * A key's length and three of its bytes pick a table slot (the mixing seed is chosen so the known
 * keys do not collide); the bytes are then compared in full.
 */
export class JsonKeys<K extends string> {
  /** Slot of each key in what `read` returns. */
  readonly ids: Readonly<Record<K, number>>
  private readonly slots: Int32Array
  /** Hash bucket -> key slot + 1 (0 = no key). */
  private readonly table = new Int16Array(KEY_TABLE_SIZE)
  private readonly names8: Uint8Array[]
  private readonly seed: number

  constructor(readonly names: readonly K[]) {
    const ids = {} as Record<K, number>
    names.forEach((name, slot) => (ids[name] = slot))
    this.ids = ids
    this.slots = new Int32Array(names.length)
    this.names8 = names.map((name) => Buffer.from(name, 'latin1'))
    let seed = 1
    while (!this.fill(seed)) seed++
    this.seed = seed
  }

  /** Places every key with `seed`; false on a collision. */
  private fill(seed: number): boolean {
    this.table.fill(0)
    return this.names8.every((name, slot) => {
      const h = keyHash(name, 0, name.length, seed)
      if (this.table[h] !== 0) return false
      this.table[h] = slot + 1
      return true
    })
  }

  /**
   * Value tokens of the known keys of `object` (a repeated key keeps its last value, as with
   * JSON.parse). The array is this instance's and is overwritten by the next `read`: copy what
   * must outlive it.
   */
  read(tape: JsonTape, object: number): Int32Array {
    const { slots, table, names8, seed } = this
    for (let i = 0; i < slots.length; i++) slots[i] = -1
    const { bytes, starts, ends, nexts } = tape
    const end = nexts[object]
    for (let k = object + 1; k < end; k = nexts[k + 1]) {
      const start = starts[k]
      const len = ends[k] - start
      if (len === 0) continue
      const slot = table[keyHash(bytes, start, len, seed)] - 1
      if (slot < 0) continue
      const name = names8[slot]
      if (name.length !== len) continue
      let i = 0
      while (i < len && bytes[start + i] === name[i]) i++
      if (i === len) slots[slot] = k + 1
    }
    return slots
  }
}

const KEY_TABLE_SIZE = 1024

function keyHash(b: Uint8Array, start: number, len: number, seed: number): number {
  return (Math.imul(len * 0x9e37 + b[start] * 31 + b[start + len - 1] * 131 + b[start + (len >> 1)] * 7, seed * 0x2c1b3c6d + 0x297a2d39) >>> 22) & (KEY_TABLE_SIZE - 1)
}

interface Scan {
  kinds: Uint8Array
  starts: Int32Array
  ends: Int32Array
  nexts: Int32Array
  count: number
  escaped: boolean
}

/** Control characters read as spaces: a raw one is whitespace outside strings, and let pass inside them. */
function controlsAsSpaces(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i) < 0x20 ? ' ' : text[i]
  return out
}

/**
 * The same document with every escaped string (key or value) re-spelled as JSON.stringify spells
 * its text: escapes remain only for what no key or hex value can contain (quotes, backslashes,
 * control characters, lone surrogates). Everything else, numbers included, is copied as it was.
 */
function unescaped(bytes: Uint8Array, tokens: Scan): Uint8Array {
  const parts: Uint8Array[] = []
  let copied = 0
  for (let t = 0; t < tokens.count; t++) {
    if (tokens.kinds[t] !== JsonKind.String) continue
    const start = tokens.starts[t]
    const end = tokens.ends[t]
    const slash = bytes.indexOf(0x5c, start)
    if (slash < 0 || slash >= end) continue
    const text = JSON.parse(controlsAsSpaces(utf8.decode(bytes.subarray(start - 1, end + 1)))) as string
    parts.push(bytes.subarray(copied, start), Buffer.from(JSON.stringify(text).slice(1, -1), 'utf8'))
    copied = end
  }
  parts.push(bytes.subarray(copied))
  return Buffer.concat(parts)
}

/** The thread's reusable token arrays (`JsonTape.parse` with `reuse`), kept up to a bound. */
let reusable: Scan | undefined
const REUSABLE_MAX_TOKENS = 1 << 22

/** Set by `stringEnd` when a string has an escape (module variables: a scan is synchronous). */
let sawEscape = false
/** Offset of the first backslash at or after the scan position (the input's length when none). */
let nextSlash = 0

/**
 * Index of the closing quote of the string whose first content byte is at `i`. The quote is found
 * by the native indexOf (several times faster than a byte loop on hex strings); only a string with
 * a backslash before that quote is walked escape by escape.
 */
function stringEnd(b: Uint8Array, i: number): number {
  const quote = b.indexOf(QUOTE, i)
  if (quote < 0) throw syntaxError(b, 'unterminated string', b.length)
  if (nextSlash < i) nextSlash = slashFrom(b, i)
  if (quote < nextSlash) return quote
  sawEscape = true
  for (;;) {
    const c = b[i]
    if (c === QUOTE) break
    if (c === 0x5c) {
      const e = b[i + 1]
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) if (HEX_DIGIT[b[i + k]] !== 1) throw syntaxError(b, 'bad \\u escape', i)
        i += 6
      } else if (SIMPLE_ESCAPES[e] === 1) {
        i += 2
      } else {
        throw syntaxError(b, 'bad escape', i)
      }
    } else {
      if (i >= b.length) throw syntaxError(b, 'unterminated string', i)
      i++
    }
  }
  nextSlash = slashFrom(b, i)
  return i
}

function slashFrom(b: Uint8Array, i: number): number {
  const at = b.indexOf(0x5c, i)
  return at < 0 ? b.length : at
}

/** End of the number starting at `i` (JSON grammar: no leading zeros, no bare dot, no '+'). */
function numberEnd(b: Uint8Array, i: number): number {
  if (b[i] === 0x2d) i++
  if (b[i] === 0x30) i++
  else if (isDigit(b[i])) while (isDigit(b[i])) i++
  else throw syntaxError(b, 'bad number', i)
  if (b[i] === 0x2e) {
    i++
    if (!isDigit(b[i])) throw syntaxError(b, 'bad fraction', i)
    while (isDigit(b[i])) i++
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++
    if (b[i] === 0x2b || b[i] === 0x2d) i++
    if (!isDigit(b[i])) throw syntaxError(b, 'bad exponent', i)
    while (isDigit(b[i])) i++
  }
  return i
}

function literalEnd(b: Uint8Array, i: number, text: readonly number[]): number {
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text[k]) throw syntaxError(b, 'bad literal', i)
  return i + text.length
}

function syntaxError(b: Uint8Array, message: string, at: number): JsonSyntaxError {
  return new JsonSyntaxError(at >= b.length ? 'unexpected end of JSON' : message, at)
}

/**
 * One pass over the bytes, in one function so the hot state stays in locals. Containers are opened
 * when met and closed through an explicit stack: nesting costs heap, never call stack.
 */
function scan(b: Uint8Array, reuse: boolean): Scan {
  const n = b.length
  // ~1 token per 25 bytes in block JSON; grown when a document is denser.
  let capacity = Math.max(64, n >> 4)
  if (reuse && reusable !== undefined && reusable.kinds.length >= capacity) capacity = reusable.kinds.length
  const arrays = reuse && reusable !== undefined && reusable.kinds.length === capacity ? reusable : undefined
  let kinds = arrays?.kinds ?? new Uint8Array(capacity)
  let starts = arrays?.starts ?? new Int32Array(capacity)
  let ends = arrays?.ends ?? new Int32Array(capacity)
  let nexts = arrays?.nexts ?? new Int32Array(capacity)
  let stack = new Int32Array(64)
  let depth = 0
  let t = 0
  let i = 0
  let expectKey = false
  sawEscape = false
  nextSlash = slashFrom(b, 0)
  for (;;) {
    // A value (preceded by its key inside an object).
    let c = b[i]
    while (WHITESPACE[c] === 1) c = b[++i]
    if (t + 2 > capacity) {
      capacity *= 2
      kinds = grown(kinds, new Uint8Array(capacity))
      starts = grown(starts, new Int32Array(capacity))
      ends = grown(ends, new Int32Array(capacity))
      nexts = grown(nexts, new Int32Array(capacity))
    }
    if (expectKey) {
      if (c !== QUOTE) throw syntaxError(b, 'expected a string key', i)
      const end = stringEnd(b, i + 1)
      kinds[t] = JsonKind.String
      starts[t] = i + 1
      ends[t] = end
      nexts[t] = t + 1
      t++
      i = end + 1
      c = b[i]
      while (WHITESPACE[c] === 1) c = b[++i]
      if (c !== COLON) throw syntaxError(b, "expected ':' after a key", i)
      c = b[++i]
      while (WHITESPACE[c] === 1) c = b[++i]
    }
    const start = i
    let kind: number
    if (c === QUOTE) {
      kind = JsonKind.String
      const end = stringEnd(b, i + 1)
      kinds[t] = kind
      starts[t] = i + 1
      ends[t] = end
      nexts[t] = t + 1
      t++
      i = end + 1
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      kinds[t] = c === OPEN_OBJECT ? JsonKind.Object : JsonKind.Array
      starts[t] = i
      if (depth === stack.length) stack = grown(stack, new Int32Array(depth * 2))
      stack[depth++] = t
      t++
      c = b[++i]
      while (WHITESPACE[c] === 1) c = b[++i]
      if (c !== (kinds[t - 1] === JsonKind.Object ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        expectKey = kinds[t - 1] === JsonKind.Object
        continue
      }
      // Empty: closed below like any other container.
    } else {
      if (c === 0x2d || isDigit(c)) {
        kind = JsonKind.Number
        i = numberEnd(b, i)
      } else if (c === TRUE[0]) {
        kind = JsonKind.True
        i = literalEnd(b, i, TRUE)
      } else if (c === FALSE[0]) {
        kind = JsonKind.False
        i = literalEnd(b, i, FALSE)
      } else if (c === NULL[0]) {
        kind = JsonKind.Null
        i = literalEnd(b, i, NULL)
      } else {
        throw syntaxError(b, 'expected a JSON value', i)
      }
      kinds[t] = kind
      starts[t] = start
      ends[t] = i
      nexts[t] = t + 1
      t++
    }
    // After a value: close the containers it ends, then a comma or the end of the document.
    for (;;) {
      if (depth === 0) {
        c = b[i]
        while (WHITESPACE[c] === 1) c = b[++i]
        if (i < n) throw syntaxError(b, 'unexpected data after the JSON value', i)
        const result = { kinds, starts, ends, nexts, count: t, escaped: sawEscape }
        if (reuse && capacity <= REUSABLE_MAX_TOKENS) reusable = result
        return result
      }
      c = b[i]
      while (WHITESPACE[c] === 1) c = b[++i]
      const open = stack[depth - 1]
      const isObject = kinds[open] === JsonKind.Object
      if (c === COMMA) {
        i++
        expectKey = isObject
        break
      }
      if (c !== (isObject ? CLOSE_OBJECT : CLOSE_ARRAY)) throw syntaxError(b, `expected ',' or '${isObject ? '}' : ']'}'`, i)
      i++
      depth--
      nexts[open] = t
      ends[open] = i
    }
  }
}

function grown<A extends Uint8Array | Int32Array>(from: A, to: A): A {
  to.set(from)
  return to
}

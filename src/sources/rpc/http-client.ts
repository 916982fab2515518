/**
 * The HTTP/1.1 client under the JSON-RPC transport: keep-alive connections (plain or TLS) that read
 * each response body straight into one buffer of its final size. The socket's `onread` target is
 * the unread rest of that buffer, so a multi-megabyte answer costs no per-chunk allocations and no
 * copies in JavaScript. node:http handed bodies over as fresh 64 KB chunks that the transport then
 * copied into one buffer: ~5 chunks per block of JSON, and their external memory forced a scavenge
 * of the main heap every few dozen megabytes (68 of them, ~3.5 ms each, in a 1,500-block sync).
 *
 * Scope is what JSON-RPC servers send: bodies framed by Content-Length, chunked, or ended by close;
 * gzip / deflate / br content codings (inflated on libuv's thread pool, bounded); 1xx interim
 * answers skipped. One request per connection at a time (no pipelining); a request whose reused
 * connection turns out to be closed before any answer came is sent once more on a new connection
 * (JSON-RPC reads are idempotent). Every size is bounded: the header section, each chunk line, the
 * body before and after decompression.
 */
import { Buffer } from 'node:buffer'
import net, { type Socket } from 'node:net'
import tls from 'node:tls'
import zlib from 'node:zlib'
import { ConfigError } from '../../errors.js'
import { badResponse, RpcError, RpcErrorCode } from './errors.js'

export interface HttpResponse {
  status: number
  /** Lower-case names; a repeated header keeps its first value. */
  headers: ReadonlyMap<string, string>
  /** The (decoded) body of a 2xx answer; empty for other statuses, whose bodies are not read. */
  body: Buffer
}

export interface PostOptions {
  signal: AbortSignal
  /** Largest body accepted, before and after decompression. */
  maxBodyBytes: number
}

/** Longest status line + header section accepted. */
const MAX_HEAD_BYTES = 64 * 1024
/** Longest chunk-size or trailer line accepted. */
const MAX_LINE_BYTES = 4 * 1024
/** Idle connections close after this long: servers drop theirs after ~5 s (Node) and a request must not race that. */
const IDLE_MS = 4_000

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const CRLF = Buffer.from('\r\n')
const HEAD_END = Buffer.from('\r\n\r\n')

function tooLarge(limit: number, seen: number): RpcError {
  return new RpcError(RpcErrorCode.ResponseTooLarge, `response body exceeds ${limit} bytes`, {
    retryable: true,
    details: { limitBytes: limit, seenBytes: seen },
  })
}

export class HttpClient {
  private readonly idle: Connection[] = []
  private readonly open = new Set<Connection>()
  private readonly requestHead: string

  constructor(
    private readonly url: URL,
    headers: Record<string, string>,
    /** Certificates trusted in place of Node's bundled roots (a private endpoint's CA); https only. */
    private readonly ca?: string | Buffer,
  ) {
    const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`]
    if (url.username) lines.push(`authorization: Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`)
    for (const [name, value] of Object.entries(headers)) {
      // A line break in a configured header would end the header section early (request splitting).
      if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) throw new ConfigError('RPC_HEADER_INVALID', `HTTP header ${JSON.stringify(name)} has a name or value HTTP does not allow`)
      lines.push(`${name}: ${value}`)
    }
    this.requestHead = lines.join('\r\n')
  }

  async post(body: string, opts: PostOptions): Promise<HttpResponse> {
    const request = `${this.requestHead}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    const reused = this.idle.pop()
    try {
      return await this.exchange(reused ?? this.connect(), request, opts)
    } catch (err) {
      if (!(reused && err instanceof ClosedEarly)) throw err
      return this.exchange(this.connect(), request, opts)
    }
  }

  /** Closes every connection (requests in flight fail). */
  close(): void {
    for (const c of this.open) c.destroy()
    this.idle.length = 0
  }

  private connect(): Connection {
    const c = new Connection(this.url, this.ca, () => {
      this.open.delete(c)
      const i = this.idle.indexOf(c)
      if (i >= 0) this.idle.splice(i, 1)
    })
    this.open.add(c)
    return c
  }

  private async exchange(c: Connection, request: string, opts: PostOptions): Promise<HttpResponse> {
    const res = await c.send(request, opts)
    if (c.reusable) this.idle.push(c)
    else c.destroy()
    const encoding = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase()
    if (encoding === 'identity' || res.body.length === 0) return res
    return { ...res, body: await inflate(encoding, res.body, opts.maxBodyBytes) }
  }
}

/** The connection closed (or reset) before any byte of the answer: the request may be sent again elsewhere. */
class ClosedEarly extends Error {}

const BodyMode = { Head: 0, Fixed: 1, Chunked: 2, UntilClose: 3, Done: 4 } as const
type BodyMode = (typeof BodyMode)[keyof typeof BodyMode]

/** Where a chunked body's framing is being read. */
const Chunk = { Size: 0, Data: 1, DataEnd: 2, Trailer: 3 } as const
type Chunk = (typeof Chunk)[keyof typeof Chunk]

interface Exchange {
  limit: number
  resolve: (res: HttpResponse) => void
  reject: (err: unknown) => void
  signal: AbortSignal
  onAbort: () => void
  status: number
  headers: Map<string, string>
  keepAlive: boolean
  /** Any byte of the answer arrived. */
  answered: boolean
}

class Connection {
  private readonly socket: Socket
  /** Where each answer's first reads land (status line, headers). */
  private readonly headBuf = Buffer.allocUnsafe(16 * 1024)
  /** Where reads land: `headBuf`, then the body's buffer. */
  private buf = this.headBuf
  /** Bytes of `buf` filled by reads. */
  private filled = 0
  private mode: BodyMode = BodyMode.Done
  private exchange: Exchange | undefined
  /** Fixed: the body's length. Chunked: decoded bytes at the front of `buf`. */
  private bodyLength = 0
  /** Chunked: the first raw (undecoded) byte, the framing state and the current chunk's bytes left. */
  private scan = 0
  private chunk: Chunk = Chunk.Size
  private chunkLeft = 0
  private idleTimer: NodeJS.Timeout | undefined
  reusable = false

  constructor(url: URL, ca: string | Buffer | undefined, onClose: () => void) {
    const onread = { buffer: () => this.readTarget(), callback: (n: number) => this.onBytes(n) }
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    // tls.connect takes every net.connect option (onread included), though its typings omit onread.
    const options: tls.ConnectionOptions & net.TcpNetConnectOpts = { host, port, onread }
    this.socket = url.protocol === 'https:' ? tls.connect({ ...options, ca, servername: net.isIP(host) ? undefined : host }) : net.connect(options)
    this.socket.setNoDelay(true)
    this.socket.on('error', (err) => this.fail(err))
    this.socket.on('end', () => this.onEnd())
    this.socket.on('close', () => {
      clearTimeout(this.idleTimer)
      this.onEnd()
      onClose()
    })
  }

  send(request: string, opts: PostOptions): Promise<HttpResponse> {
    clearTimeout(this.idleTimer)
    this.socket.ref()
    return new Promise<HttpResponse>((resolve, reject) => {
      if (opts.signal.aborted) return reject(opts.signal.reason)
      // Closed (or half-closed by the server) while idle, its 'close' not handled yet: nothing was sent.
      if (this.socket.destroyed || !this.socket.writable) return reject(new ClosedEarly('connection closed while idle'))
      const onAbort = () => {
        this.socket.destroy()
        this.settle(undefined, opts.signal.reason)
      }
      opts.signal.addEventListener('abort', onAbort, { once: true })
      this.exchange = { limit: opts.maxBodyBytes, resolve, reject, signal: opts.signal, onAbort, status: 0, headers: new Map(), keepAlive: true, answered: false }
      this.reusable = false
      this.mode = BodyMode.Head
      this.filled = 0
      this.socket.write(request, (err) => {
        if (!err) return
        this.socket.destroy()
        this.fail(err)
      })
    })
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** The free rest of the current buffer: never empty (`onBytes` makes room after every read). */
  private readTarget(): Buffer {
    return this.buf.subarray(this.filled)
  }

  /** A full buffer: framing already decoded is dropped (chunked), else the buffer doubles, within its bound. */
  private makeRoom(x: Exchange): void {
    if (this.mode === BodyMode.Chunked && this.scan > this.bodyLength) {
      this.buf.copyWithin(this.bodyLength, this.scan, this.filled)
      this.filled -= this.scan - this.bodyLength
      this.scan = this.bodyLength
      if (this.filled < this.buf.length) return
    }
    const head = this.mode === BodyMode.Head
    const cap = head ? MAX_HEAD_BYTES : x.limit + 2 * MAX_LINE_BYTES
    if (this.buf.length >= cap) throw head ? badResponse(`HTTP header section over ${MAX_HEAD_BYTES} bytes`) : tooLarge(x.limit, this.filled)
    const grown = Buffer.allocUnsafe(Math.min(cap, this.buf.length * 2))
    this.buf.copy(grown, 0, 0, this.filled)
    this.buf = grown
  }

  private onBytes(n: number): boolean {
    const x = this.exchange
    if (x === undefined || this.mode === BodyMode.Done) {
      // Bytes nobody asked for: the stream is out of step.
      this.socket.destroy()
      return false
    }
    x.answered = true
    this.filled += n
    try {
      if (this.mode === BodyMode.Head) this.readHead(x)
      if (this.mode === BodyMode.Fixed) {
        if (this.filled === this.bodyLength) this.finish(x, this.buf)
      } else if (this.mode === BodyMode.Chunked) {
        this.readChunks(x)
      } else if (this.mode === BodyMode.UntilClose && this.filled > x.limit) {
        throw tooLarge(x.limit, this.filled)
      }
      if (this.exchange !== undefined && this.filled === this.buf.length) this.makeRoom(x)
    } catch (err) {
      this.socket.destroy()
      this.settle(undefined, err)
      return false
    }
    return true
  }

  /** Parses the status line and headers once they are complete; sets up the body's buffer. */
  private readHead(x: Exchange): void {
    for (;;) {
      const end = this.buf.subarray(0, this.filled).indexOf(HEAD_END)
      if (end < 0) return
      const lines = this.buf.toString('latin1', 0, end).split('\r\n')
      const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0])
      if (status === null) throw badResponse('not an HTTP/1.x response', { statusLine: lines[0].slice(0, 80) })
      const headers = new Map<string, string>()
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        if (colon <= 0) throw badResponse('malformed HTTP header line', { line: line.slice(0, 80) })
        const name = line.slice(0, colon).trim().toLowerCase()
        if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim())
      }
      const rest = this.buf.subarray(end + HEAD_END.length, this.filled)
      x.status = Number(status[2])
      if (x.status >= 100 && x.status < 200) {
        // Interim answer (100 Continue, 103 Early Hints): the real one follows.
        rest.copy(this.buf)
        this.filled = rest.length
        continue
      }
      x.headers = headers
      const connection = (headers.get('connection') ?? '').toLowerCase()
      x.keepAlive = status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive')
      if (x.status < 200 || x.status >= 300 || x.status === 204) {
        // Error bodies are not read (the status says it all); the connection goes.
        x.keepAlive = false
        return this.finish(x, Buffer.alloc(0))
      }
      this.startBody(x, headers, rest)
      return
    }
  }

  private startBody(x: Exchange, headers: Map<string, string>, rest: Buffer): void {
    const chunked = /(?:^|,)\s*chunked\s*$/i.test(headers.get('transfer-encoding') ?? '')
    const declared = headers.get('content-length')
    // A body of unknown length starts in 64 KiB and grows (makeRoom); a declared one gets its size.
    let size = Math.max(64 * 1024, rest.length)
    if (chunked) {
      this.mode = BodyMode.Chunked
      // Framing disagreements (length and chunked at once) end the connection after this answer.
      if (declared !== undefined) x.keepAlive = false
      this.bodyLength = 0
      this.scan = 0
      this.chunk = Chunk.Size
    } else if (declared !== undefined) {
      if (!/^\d+$/.test(declared)) throw badResponse('malformed Content-Length', { contentLength: declared.slice(0, 40) })
      const length = Number(declared)
      if (length > x.limit) throw tooLarge(x.limit, length)
      if (rest.length > length) throw badResponse('more bytes than Content-Length declares')
      this.mode = BodyMode.Fixed
      this.bodyLength = length
      size = length
    } else {
      this.mode = BodyMode.UntilClose
      x.keepAlive = false
    }
    this.buf = Buffer.allocUnsafe(size)
    rest.copy(this.buf)
    this.filled = rest.length
  }

  /** Decodes the chunked framing read so far, moving each chunk's data down to the body's end. */
  private readChunks(x: Exchange): void {
    while (this.scan < this.filled) {
      if (this.chunk === Chunk.Data) {
        const n = Math.min(this.chunkLeft, this.filled - this.scan)
        if (this.scan !== this.bodyLength) this.buf.copyWithin(this.bodyLength, this.scan, this.scan + n)
        this.bodyLength += n
        this.scan += n
        this.chunkLeft -= n
        if (this.chunkLeft === 0) this.chunk = Chunk.DataEnd
        continue
      }
      const eol = this.buf.subarray(this.scan, this.filled).indexOf(CRLF)
      if (eol < 0) {
        if (this.filled - this.scan > MAX_LINE_BYTES) throw badResponse(`chunk line over ${MAX_LINE_BYTES} bytes`)
        return
      }
      const line = this.buf.toString('latin1', this.scan, this.scan + eol)
      this.scan += eol + CRLF.length
      if (this.chunk === Chunk.Size) {
        const size = /^([0-9a-fA-F]{1,8})\s*(?:;.*)?$/.exec(line)
        if (size === null) throw badResponse('malformed chunk size', { line: line.slice(0, 40) })
        this.chunkLeft = parseInt(size[1], 16)
        if (this.bodyLength + this.chunkLeft > x.limit) throw tooLarge(x.limit, this.bodyLength + this.chunkLeft)
        this.chunk = this.chunkLeft === 0 ? Chunk.Trailer : Chunk.Data
      } else if (this.chunk === Chunk.DataEnd) {
        if (line !== '') throw badResponse('chunk data longer than its size')
        this.chunk = Chunk.Size
      } else if (line === '') {
        if (this.scan !== this.filled) throw badResponse('bytes after the last chunk')
        return this.finish(x, this.buf.subarray(0, this.bodyLength))
      }
      // Trailer fields are read past.
    }
  }

  private onEnd(): void {
    const x = this.exchange
    if (x === undefined) return
    if (this.mode === BodyMode.UntilClose) return this.finish(x, this.buf.subarray(0, this.filled))
    this.settle(undefined, x.answered ? new Error('connection closed before the response ended') : new ClosedEarly('connection closed before any response'))
  }

  private fail(err: Error): void {
    const x = this.exchange
    if (x === undefined) return
    this.settle(undefined, x.answered ? err : Object.assign(new ClosedEarly(err.message), { code: (err as { code?: string }).code }))
  }

  private finish(x: Exchange, body: Buffer): void {
    this.reusable = x.keepAlive
    if (this.reusable) {
      this.socket.unref()
      this.idleTimer = setTimeout(() => this.socket.destroy(), IDLE_MS)
      this.idleTimer.unref()
    }
    this.settle({ status: x.status, headers: x.headers, body }, undefined)
  }

  private settle(res: HttpResponse | undefined, err: unknown): void {
    const x = this.exchange
    if (x === undefined) return
    this.exchange = undefined
    x.signal.removeEventListener('abort', x.onAbort)
    // Later reads (none are expected) must not land in a body handed out.
    this.mode = BodyMode.Done
    this.buf = this.headBuf
    this.filled = 0
    if (res) return x.resolve(res)
    this.reusable = false
    x.reject(err)
  }
}

const INFLATE: Record<string, (body: Buffer, options: zlib.ZlibOptions | zlib.BrotliOptions, callback: (err: Error | null, out: Buffer) => void) => void> = {
  gzip: zlib.gunzip,
  'x-gzip': zlib.gunzip,
  deflate: zlib.inflate,
  br: zlib.brotliDecompress,
}

/** A compressed body inflated on libuv's thread pool, cut off at the byte limit. */
function inflate(encoding: string, body: Buffer, limit: number): Promise<Buffer> {
  const run = INFLATE[encoding]
  if (run === undefined) return Promise.reject(badResponse(`response has an unsupported content-encoding "${encoding}"`))
  return new Promise((resolve, reject) => {
    run(body, { maxOutputLength: limit }, (err, out) => {
      if (err === null) return resolve(out)
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return reject(tooLarge(limit, limit + 1))
      reject(badResponse(`response body does not decompress (${encoding}): ${err.message}`))
    })
  })
}

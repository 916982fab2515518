/**
 * The JSON-RPC transport's HTTP/1.1 client against scripted servers on 127.0.0.1 that write exact
 * bytes, split wherever a test wants: every body framing, keep-alive reuse, a kept-alive connection
 * the server has dropped, interim answers, and each bound (header section, chunk line, body, bytes
 * the framing does not account for). One test runs over TLS.
 */
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/errors.js'
import { RpcError, RpcErrorCode } from '../../../src/sources/rpc/errors.js'
import { HttpClient } from '../../../src/sources/rpc/http-client.js'

/** Called with each complete request on a connection; writes the answer (or not). */
type Script = (socket: Socket, request: { index: number; connection: number; body: string }) => void | Promise<void>

const servers: Server[] = []
const clients: HttpClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

async function scripted(script: Script): Promise<{ url: URL; connections: () => number; closed: () => number }> {
  let connections = 0
  let closed = 0
  const server = createServer((socket) => {
    const connection = connections++
    let index = 0
    let pending = Buffer.alloc(0)
    socket.on('error', () => undefined)
    socket.on('close', () => closed++)
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data])
      for (;;) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = Number(/content-length: (\d+)/i.exec(pending.toString('latin1', 0, end))?.[1] ?? 0)
        if (pending.length < end + 4 + length) return
        const body = pending.toString('utf8', end + 4, end + 4 + length)
        pending = pending.subarray(end + 4 + length)
        void script(socket, { index: index++, connection, body })
      }
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: new URL(`http://127.0.0.1:${port}/rpc`), connections: () => connections, closed: () => closed }
}

function client(url: URL, ca?: Buffer): HttpClient {
  const c = new HttpClient(url, { 'content-type': 'application/json' }, ca)
  clients.push(c)
  return c
}

const post = (c: HttpClient, body = '{}', maxBodyBytes = 1 << 20) => c.post(body, { signal: AbortSignal.timeout(5_000), maxBodyBytes })

/** Writes the parts one by one, each in its own TCP segment (a pause between them). */
async function writeParts(socket: Socket, parts: Array<string | Buffer>): Promise<void> {
  for (const p of parts) {
    socket.write(p)
    await sleep(5)
  }
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(RpcError)
  return err as RpcError
}

const answer = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

describe('HttpClient', () => {
  it('sends the request line, headers and body; reads a Content-Length body split across reads', async () => {
    const big = JSON.stringify({ result: 'ab'.repeat(300_000) })
    let seen = ''
    const { url } = await scripted(async (socket, req) => {
      seen = req.body
      const all = answer(big)
      await writeParts(socket, [all.slice(0, 30), all.slice(30, 100), all.slice(100, 200_000), all.slice(200_000)])
    })
    const res = await post(client(url), '{"method":"x"}')
    expect(seen).toBe('{"method":"x"}')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.body.toString()).toBe(big)
  })

  it('decodes chunked bodies: extensions, trailers, one-byte chunks, lines split between reads', async () => {
    const text = JSON.stringify({ result: 'x'.repeat(200_000) + 'tail' })
    const chunks = [text.slice(0, 1), text.slice(1, 3), text.slice(3, 150_000), text.slice(150_000)]
    const wire = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' + chunks.map((c, i) => `${c.length.toString(16)}${i === 1 ? ';ext=1' : ''}\r\n${c}\r\n`).join('') + '0\r\nx-trailer: 1\r\n\r\n'
    const { url } = await scripted((socket) => writeParts(socket, [wire.slice(0, 50), wire.slice(50, 52), wire.slice(52, 60_003), wire.slice(60_003, wire.length - 9), wire.slice(wire.length - 9)]))
    const c = client(url)
    expect((await post(c)).body.toString()).toBe(text)
    // The connection stays usable after a chunked answer.
    expect((await post(c)).body.toString()).toBe(text)
  })

  it('reads a body ended by close (no length, no chunking), and does not reuse that connection', async () => {
    const { url, connections } = await scripted((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{"result":1}')
    })
    const c = client(url)
    expect((await post(c)).body.toString()).toBe('{"result":1}')
    expect((await post(c)).body.toString()).toBe('{"result":1}')
    expect(connections()).toBe(2)
  })

  it('keeps connections alive: sequential requests share one, concurrent ones open more', async () => {
    const { url, connections } = await scripted(async (socket, req) => {
      await sleep(20)
      socket.write(answer(`{"n":${req.index}}`))
    })
    const c = client(url)
    for (let i = 0; i < 3; i++) expect((await post(c)).body.toString()).toBe(`{"n":${i}}`)
    expect(connections()).toBe(1)
    await Promise.all([post(c), post(c), post(c)])
    expect(connections()).toBe(3)
  })

  it('a kept-alive connection the server closed before answering is replaced; the request succeeds', async () => {
    const { url, connections } = await scripted((socket, req) => {
      // Every connection answers its first request, then hangs up on the next one unanswered.
      if (req.index === 0) socket.write(answer('{"ok":true}'))
      else socket.destroy()
    })
    const c = client(url)
    expect((await post(c)).body.toString()).toBe('{"ok":true}')
    expect((await post(c)).body.toString()).toBe('{"ok":true}')
    expect(connections()).toBe(2)
  })

  it('a server that hangs up right after each answer: every request still succeeds, on a new connection', async () => {
    const { url, connections } = await scripted((socket) => {
      socket.end(answer('{"ok":1}'))
    })
    const c = client(url)
    for (let i = 0; i < 4; i++) {
      expect((await post(c)).body.toString()).toBe('{"ok":1}')
      // Back-to-back and after a pause: the hang-up is either seen by then or found when sending.
      if (i % 2) await sleep(20)
    }
    expect(connections()).toBeGreaterThanOrEqual(4)
  })

  it('a connection closed half-way through an answer is an error, not a retry', async () => {
    const { url, connections } = await scripted((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"res')
    })
    await expect(post(client(url))).rejects.toThrow(/closed before the response ended/)
    expect(connections()).toBe(1)
  })

  it('skips interim 1xx answers', async () => {
    const { url } = await scripted((socket) => writeParts(socket, ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nlink: x\r\n\r\n' + answer('{"a":1}')]))
    expect((await post(client(url))).body.toString()).toBe('{"a":1}')
  })

  it('a non-2xx status comes back with its headers and no body; the connection is not reused', async () => {
    const { url, connections } = await scripted((socket) => {
      socket.write('HTTP/1.1 429 Too Many Requests\r\nretry-after: 3\r\ncontent-length: 5\r\n\r\nslow!')
    })
    const c = client(url)
    const res = await post(c)
    expect({ status: res.status, retryAfter: res.headers.get('retry-after'), body: res.body.length }).toEqual({ status: 429, retryAfter: '3', body: 0 })
    await post(c)
    expect(connections()).toBe(2)
  })

  it('inflates gzip bodies, bounded after inflation', async () => {
    const text = JSON.stringify({ result: 'z'.repeat(100_000) })
    const gz = gzipSync(text)
    const { url } = await scripted((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${gz.length}\r\n\r\n`)
      socket.write(gz)
    })
    const c = client(url)
    expect((await post(c)).body.toString()).toBe(text)
    const err = await rejection(post(c, '{}', 50_000))
    expect(err.code).toBe(RpcErrorCode.ResponseTooLarge)
  })

  it.each([
    ['a declared length over the limit', (s: Socket) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n'), RpcErrorCode.ResponseTooLarge],
    ['a chunked body over the limit', (s: Socket) => s.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${'400\r\n' + 'a'.repeat(1024) + '\r\n'}`), RpcErrorCode.ResponseTooLarge],
    ['a body until close over the limit', (s: Socket) => s.write(`HTTP/1.1 200 OK\r\n\r\n${'a'.repeat(1500)}`), RpcErrorCode.ResponseTooLarge],
    ['a header section that never ends', (s: Socket) => s.write(`HTTP/1.1 200 OK\r\n${'x-filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(3000)}`), RpcErrorCode.BadResponse],
    ['a chunk-size line that never ends', (s: Socket) => s.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${'1'.repeat(5000)}`), RpcErrorCode.BadResponse],
    ['a malformed chunk size', (s: Socket) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'), RpcErrorCode.BadResponse],
    ['chunk data longer than its size', (s: Socket) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'), RpcErrorCode.BadResponse],
    ['more bytes than Content-Length declares', (s: Socket) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}{}'), RpcErrorCode.BadResponse],
    ['not HTTP at all', (s: Socket) => s.write('SSH-2.0-OpenSSH\r\n\r\n'), RpcErrorCode.BadResponse],
    ['an unsupported content coding', (s: Socket) => s.write('HTTP/1.1 200 OK\r\ncontent-encoding: zstd\r\ncontent-length: 2\r\n\r\n{}'), RpcErrorCode.BadResponse],
  ] as const)('%s is refused with a typed error', async (_name, write, code) => {
    const { url } = await scripted((socket) => {
      write(socket)
    })
    const err = await rejection(post(client(url), '{}', 1000))
    expect(err.code).toBe(code)
  })

  it('bytes after a complete answer (in a later read) drop the connection; the next request opens a new one', async () => {
    const { url, connections, closed } = await scripted((socket) => writeParts(socket, [answer('{"a":1}'), 'HTTP/1.1 200 OK\r\n']))
    const c = client(url)
    expect((await post(c)).body.toString()).toBe('{"a":1}')
    while (closed() === 0) await sleep(5)
    expect((await post(c)).body.toString()).toBe('{"a":1}')
    expect(connections()).toBe(2)
  })

  it('an abort ends a stalled request at once and closes its connection', async () => {
    const { url } = await scripted(() => undefined)
    const c = client(url)
    const controller = new AbortController()
    const p = c.post('{}', { signal: controller.signal, maxBodyBytes: 1000 })
    await sleep(20)
    controller.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
  })

  it('refuses configured headers that would break the request (a line break, a bad name) before connecting', () => {
    const url = new URL('http://127.0.0.1:1/')
    const bad: Array<Record<string, string>> = [{ 'x-api-key': 'k\r\nhost: evil' }, { 'bad name': 'v' }, { 'x-a': 'v\n' }]
    for (const headers of bad) {
      expect(() => new HttpClient(url, headers)).toThrow(ConfigError)
    }
    expect(() => new HttpClient(url, { 'x-api-key': 'abc 123;=' })).not.toThrow()
  })

  it('works over TLS (a private CA), keep-alive included', async () => {
    const dir = new URL('./fixtures/', import.meta.url)
    const cert = readFileSync(new URL('localhost-cert.pem', dir))
    let connections = 0
    const server = createHttpsServer({ key: readFileSync(new URL('localhost-key.pem', dir)), cert }, (req, res) => {
      req.resume()
      req.on('end', () => res.end(JSON.stringify({ result: 'y'.repeat(300_000) })))
    })
    server.on('secureConnection', () => connections++)
    servers.push(server as unknown as Server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const c = client(new URL(`https://127.0.0.1:${port}/`), cert)
    for (let i = 0; i < 2; i++) expect(JSON.parse((await post(c)).body.toString()).result).toHaveLength(300_000)
    expect(connections).toBe(1)
    // Without the CA the certificate is refused.
    await expect(post(client(new URL(`https://127.0.0.1:${port}/`)))).rejects.toThrow(/self.signed|certificate/i)
  })
})

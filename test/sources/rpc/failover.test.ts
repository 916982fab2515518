/**
 * Misbehaving endpoints (small node:http servers in front of a real Anvil): each failure becomes a
 * typed RpcError with the right retry hint and fault, the endpoint is scored down, backed off or
 * banned, and the pool completes the work from a good endpoint with identical bytes.
 */
import type { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/errors.js'
import { BlockBody } from '../../../src/primitives/body.js'
import { bytesToHex, equalBytes } from '../../../src/primitives/bytes.js'
import { BlockHeader } from '../../../src/primitives/header.js'
import { RpcEndpoint } from '../../../src/sources/rpc/endpoint.js'
import { RpcError, RpcErrorCode } from '../../../src/sources/rpc/errors.js'
import { RpcPool, type RpcPoolOptions } from '../../../src/sources/rpc/pool.js'
import type { RawBlock, SourcePeer } from '../../../src/sources/types.js'
import { startAnvil, type Anvil } from '../../helpers/anvil.js'
import { freePort } from '../../helpers/net.js'
import { generateChain } from '../../helpers/chain-gen.js'
import {
  isProbe,
  mapResults,
  passThrough,
  sendErrors,
  sendJson,
  startRpcServer,
  type RpcHandler,
  type RpcRequestContext,
  type TestRpcServer,
} from './rpc-server.js'

let anvil: Anvil
let reference: RawBlock[]
let head: number
const servers: TestRpcServer[] = []
const pools: RpcPool[] = []

const FROM = 1
const COUNT = 4
/**
 * Options every pool and endpoint here uses: short timeouts (a stall is infinite, so any timeout
 * fires), and back-offs long enough that a failed endpoint certainly stays out for the test's duration.
 */
const FAST = { timeoutMs: 1_500, probeTimeoutMs: 1_500, headPollMs: 60_000, batchSize: 4, score: { backoffBaseMs: 30_000 } } as const

beforeAll(async () => {
  anvil = await startAnvil()
  await generateChain(anvil, { blocks: 5, txsPerBlock: [8, 20], seed: 3 })
  head = Number(await anvil.rpc<string>('eth_blockNumber'))
  reference = await new RpcEndpoint({ url: anvil.url }).getBlocks(FROM, COUNT, true)
  expect(reference.length).toBe(COUNT)
})

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stop()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

afterAll(async () => {
  await anvil?.stop()
})

async function server(handler: RpcHandler, port?: number): Promise<TestRpcServer> {
  const s = await startRpcServer(anvil.url, handler, port)
  servers.push(s)
  return s
}

/** Probes pass (chain id, latest block), block data gets `misbehave`. */
function probesOk(misbehave: RpcHandler): RpcHandler {
  return async (ctx, res) => (isProbe(ctx) ? passThrough()(ctx, res) : misbehave(ctx, res))
}

/**
 * Makes an endpoint look slow (a minute per request) so the pool certainly tries the other one
 * first; the tests then check that the other one was really hit.
 */
function looksSlow(ep: RpcEndpoint): void {
  for (let i = 0; i < 50; i++) ep.score.recordLatency(60_000)
}

async function pool(urls: string[], extra: Partial<RpcPoolOptions> = {}): Promise<RpcPool> {
  const p = new RpcPool({ urls, ...FAST, ...extra })
  pools.push(p)
  await p.start()
  return p
}

function sameAsReference(blocks: RawBlock[]): void {
  expect(blocks.length).toBe(COUNT)
  blocks.forEach((b, i) => {
    expect(equalBytes(b.header, reference[i].header)).toBe(true)
    expect(equalBytes(b.body, reference[i].body)).toBe(true)
    expect(equalBytes(b.receipts!, reference[i].receipts!)).toBe(true)
  })
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError)
    return err as RpcError
  }
  throw new Error('expected the request to fail')
}

function tamperGasUsed(reply: unknown, ctx: RpcRequestContext): unknown {
  return mapResults(reply, ctx, 'eth_getBlockByNumber', (block) => {
    block.gasUsed = '0x1'
  })
}

interface Scenario {
  name: string
  handler: RpcHandler
  code: string
  retryable: boolean
  fault: string | undefined
  retryAfterMs?: number
  banned?: boolean
  options?: Partial<RpcPoolOptions>
}

const scenarios: Scenario[] = [
  {
    name: 'HTTP 429 with Retry-After',
    handler: probesOk((_ctx, res) => sendJson(res, { error: 'slow down' }, 429, { 'retry-after': '3' })),
    code: RpcErrorCode.RateLimited,
    retryable: true,
    fault: undefined,
    retryAfterMs: 3000,
  },
  {
    name: 'JSON-RPC -32005 "limit exceeded" per call',
    handler: probesOk((ctx, res) => sendErrors(res, ctx, -32005, 'daily request limit exceeded')),
    code: RpcErrorCode.RateLimited,
    retryable: true,
    fault: undefined,
  },
  {
    name: 'HTTP 503',
    handler: probesOk((_ctx, res) => sendJson(res, { error: 'down' }, 503)),
    code: RpcErrorCode.HttpStatus,
    retryable: true,
    fault: 'useless',
  },
  {
    name: 'JSON-RPC internal error',
    handler: probesOk((ctx, res) => sendErrors(res, ctx, -32603, 'internal error: database closed')),
    code: RpcErrorCode.ServerError,
    retryable: true,
    fault: 'useless',
  },
  {
    name: 'garbage body (HTML from a proxy)',
    handler: probesOk((_ctx, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html><body>502 Bad Gateway</body></html>')
    }),
    code: RpcErrorCode.BadResponse,
    retryable: true,
    fault: 'protocol-violation',
  },
  {
    name: 'truncated JSON',
    handler: probesOk(async (ctx, res) => {
      const text = JSON.stringify(await ctx.forward())
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(text.slice(0, text.length >> 1))
    }),
    code: RpcErrorCode.BadResponse,
    retryable: true,
    fault: 'protocol-violation',
  },
  {
    name: 'wrong result shape (string where a block belongs)',
    handler: probesOk((ctx, res) => sendJson(res, ctx.calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: 'nope' })))),
    code: RpcErrorCode.BadResponse,
    retryable: true,
    fault: 'protocol-violation',
  },
  {
    name: 'stalling (accepts, never answers)',
    handler: probesOk(() => undefined),
    code: RpcErrorCode.Timeout,
    retryable: true,
    fault: 'timeout',
  },
  {
    name: 'endless response body (cut off at the byte limit)',
    handler: probesOk((_ctx, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump)
      }
      res.write('[')
      pump()
    }),
    code: RpcErrorCode.ResponseTooLarge,
    retryable: true,
    fault: undefined,
    options: { maxResponseBytes: 1 << 20 },
  },
  {
    name: 'declared body over the byte limit (refused before reading it)',
    handler: probesOk((_ctx, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 << 20) })
      res.write('[')
    }),
    code: RpcErrorCode.ResponseTooLarge,
    retryable: true,
    fault: undefined,
    options: { maxResponseBytes: 1 << 20 },
  },
  {
    name: 'gzip body that does not inflate',
    handler: probesOk((_ctx, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      res.end(Buffer.from('definitely not gzip'))
    }),
    code: RpcErrorCode.BadResponse,
    retryable: true,
    fault: 'protocol-violation',
  },
  {
    name: 'unsupported content-encoding',
    handler: probesOk((_ctx, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' })
      res.end('[]')
    }),
    code: RpcErrorCode.BadResponse,
    retryable: true,
    fault: 'protocol-violation',
  },
  {
    name: 'gzip bomb (small on the wire, over the byte limit inflated)',
    handler: probesOk((_ctx, res: ServerResponse) => {
      const bomb = gzipSync(Buffer.alloc(8 << 20, 0x20))
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) })
      res.end(bomb)
    }),
    code: RpcErrorCode.ResponseTooLarge,
    retryable: true,
    fault: undefined,
    options: { maxResponseBytes: 1 << 20 },
  },
  {
    name: 'connection dropped mid-request',
    handler: probesOk((_ctx, res) => {
      res.socket?.destroy()
    }),
    code: RpcErrorCode.ConnectionFailed,
    retryable: true,
    fault: 'disconnected',
  },
  {
    name: 'lying header (block JSON altered)',
    handler: passThrough((reply, ctx) => (isProbe(ctx) ? reply : tamperGasUsed(reply, ctx))),
    code: RpcErrorCode.HeaderHashMismatch,
    retryable: false,
    fault: 'invalid-data',
    banned: true,
  },
]

describe('misbehaving endpoints: typed errors, scoring and failover to a good endpoint', () => {
  for (const s of scenarios) {
    it(`${s.name} -> ${s.code}`, async () => {
      const bad = await server(s.handler)
      const direct = new RpcEndpoint({ url: bad.url, ...FAST, ...s.options })
      const err = await rejection(direct.getBlocks(FROM, COUNT, true))
      expect({ code: err.code, retryable: err.retryable, fault: err.fault }).toEqual({ code: s.code, retryable: s.retryable, fault: s.fault })
      if (s.retryAfterMs !== undefined) expect(err.retryAfterMs).toBe(s.retryAfterMs)
      expect(direct.score.snapshot()).toMatchObject({ failures: 1, lastError: s.code })
      expect(direct.score.isReady()).toBe(false) // backing off

      const removed: string[] = []
      const p = await pool([bad.url, anvil.url], s.options)
      looksSlow(p.endpoints[1])
      p.on('peer:removed', (peer: SourcePeer) => removed.push(peer.id))
      const callsBefore = bad.blockCalls()
      sameAsReference(await p.getBlocks(FROM, COUNT, true))
      expect(bad.blockCalls()).toBeGreaterThan(callsBefore) // the bad endpoint was tried first
      const [badEp] = p.endpoints
      expect(badEp.score.snapshot().lastError).toBe(s.code)
      if (s.banned) {
        expect(removed).toEqual([badEp.id])
        expect(p.peers().map((e) => e.id)).toEqual([p.endpoints[1].id])
      } else {
        expect(p.peers().length).toBe(2)
      }
      // The next request goes straight to the good endpoint: the bad one is resting.
      const before = bad.blockCalls()
      sameAsReference(await p.getBlocks(FROM, COUNT, true))
      expect(bad.blockCalls()).toBe(before)
    })
  }
})

describe('compressed answers', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('%s bodies are asked for and inflated: the same blocks', async (encoding, compress) => {
    const seen: Array<string | undefined> = []
    const compressing = await server(async (ctx, res) => {
      seen.push(res.req.headers['accept-encoding'])
      const body = compress(Buffer.from(JSON.stringify(await ctx.forward())))
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': String(body.length) })
      res.end(body)
    })
    sameAsReference(await new RpcEndpoint({ url: compressing.url, ...FAST }).getBlocks(FROM, COUNT, true))
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((h) => h?.includes(encoding))).toBe(true)
  })
})

describe('endpoint URLs', () => {
  it.each(['ws://127.0.0.1:8545', 'not a url'])('%s is a configuration error, named before anything is sent', (url) => {
    let err: unknown
    try {
      new RpcEndpoint({ url })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).code).toBe('RPC_URL_INVALID')
  })
})

describe('pool behaviour', () => {
  it('honours Retry-After on the only endpoint, then succeeds on it', async () => {
    let limited = 0
    const once = await server(
      probesOk(async (ctx, res) => {
        if (limited++ === 0) return sendJson(res, { error: 'rate limited' }, 429, { 'retry-after': '1' })
        await passThrough()(ctx, res)
      }),
    )
    const p = await pool([once.url], { score: { backoffBaseMs: 50 } })
    const started = Date.now()
    sameAsReference(await p.getBlocks(FROM, COUNT, true))
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
    expect(p.endpoints[0].score.snapshot()).toMatchObject({ failures: 1, consecutiveFailures: 0, lastError: RpcErrorCode.RateLimited })
  })

  it('a body the validator rejects (reported as invalid data) bans the endpoint; the work moves on', async () => {
    const tamperTx = passThrough((reply, ctx) =>
      isProbe(ctx)
        ? reply
        : mapResults(reply, ctx, 'eth_getBlockByNumber', (block) => {
            const txs = block.transactions as Array<Record<string, unknown>>
            if (txs.length > 0) txs[0].value = '0x2a'
          }),
    )
    const bad = await server(tamperTx)
    const p = await pool([bad.url, anvil.url])
    const removed: string[] = []
    p.on('peer:removed', (peer: SourcePeer, reason: string) => removed.push(`${peer.id} ${reason}`))
    const [badEp, goodEp] = p.endpoints
    const blocks = await badEp.getBlocks(FROM, COUNT, true)
    // The header is intact (it hashes), the body is not: the tx root no longer matches.
    const header = BlockHeader.decode(blocks[0].header)
    expect(equalBytes(BlockBody.decode(blocks[0].body).transactionsRoot(), header.transactionsRoot)).toBe(false)
    p.report(badEp, 'invalid-data', 'transactions root mismatch at block 1')
    expect(removed).toEqual([`${badEp.id} invalid data: transactions root mismatch at block 1`])
    expect(p.peers()).toEqual([goodEp])
    expect(badEp.score.isBanned()).toBe(true)
    sameAsReference(await p.getBlocks(FROM, COUNT, true))
  })

  it('with verifyTxHashes the tampered transaction is caught at the source, naming block and index', async () => {
    const bad = await server(
      passThrough((reply, ctx) =>
        mapResults(reply, ctx, 'eth_getBlockByNumber', (block) => {
          const txs = block.transactions as Array<Record<string, unknown>>
          if (txs.length > 2) txs[2].nonce = '0x999'
        }),
      ),
    )
    // Block 1 only deploys the contract; block 2 has plenty of transactions.
    const err = await rejection(new RpcEndpoint({ url: bad.url, verifyTxHashes: true }).getBlocks(2, 1, false))
    expect(err.code).toBe(RpcErrorCode.TxHashMismatch)
    expect(err.fault).toBe('invalid-data')
    expect(err.details).toMatchObject({ txIndex: 2, number: '0x2' })
    expect(err.message).toMatch(/^block 0x2: transaction 2: rebuilt envelope hashes to 0x[0-9a-f]{64}, endpoint reported/)
  })

  it('falls back to eth_getTransactionReceipt when eth_getBlockReceipts is not supported', async () => {
    const noBlockReceipts = await server(async (ctx, res) => {
      if (ctx.calls.some((c) => c.method === 'eth_getBlockReceipts')) {
        // Answer "method not found" per call, forward the rest.
        const reply = await ctx.forward()
        const replies = ((ctx.isBatch ? reply : [reply]) as Array<{ id: number }>).map((r) => {
          const call = ctx.calls.find((c) => c.id === r.id)!
          return call.method === 'eth_getBlockReceipts' ? { jsonrpc: '2.0', id: r.id, error: { code: -32601, message: 'the method eth_getBlockReceipts does not exist/is not available' } } : r
        })
        return sendJson(res, ctx.isBatch ? replies : replies[0])
      }
      await passThrough()(ctx, res)
    })
    const ep = new RpcEndpoint({ url: noBlockReceipts.url, batchSize: 8 })
    sameAsReference(await ep.getBlocks(FROM, COUNT, true))
    expect(noBlockReceipts.hits.get('eth_getTransactionReceipt')).toBeGreaterThan(0)
    const byHash = await ep.getReceipts(reference.map((b) => BlockHeader.decode(b.header).hash))
    expect(byHash.map(bytesToHex)).toEqual(reference.map((b) => bytesToHex(b.receipts!)))
    // Only the first batch (one HTTP request, COUNT blocks) asked for block receipts; then the endpoint remembers.
    expect(noBlockReceipts.hits.get('eth_getBlockReceipts')).toBe(COUNT)
    expect(ep.score.snapshot().failures).toBe(0)
  })

  it('"header not found" errors beyond the head mean "don`t have it", not a failure', async () => {
    const notFound = await server(
      probesOk(async (ctx, res) => {
        const beyond = ctx.calls.some((c) => typeof c.params[0] === 'string' && Number(c.params[0]) > head)
        if (beyond) return sendErrors(res, ctx, -32000, 'header not found')
        await passThrough()(ctx, res)
      }),
    )
    const ep = new RpcEndpoint({ url: notFound.url })
    expect(await ep.getBlocks(head + 1, 3, true)).toEqual([])
    expect(await ep.getHeaders({ start: head + 1, count: 2 })).toEqual([])
    expect(ep.score.snapshot().failures).toBe(0)
  })

  it('a later batch failing leaves a useful prefix, and the endpoint still backs off', async () => {
    const partial = await server(
      probesOk(async (ctx, res) => {
        if (ctx.calls.some((c) => Number(c.params[0]) >= FROM + 2)) return sendJson(res, {}, 429, { 'retry-after': '30' })
        await passThrough()(ctx, res)
      }),
    )
    const ep = new RpcEndpoint({ url: partial.url, ...FAST }) // 2 blocks (4 calls) per HTTP request
    const got = await ep.getBlocks(FROM, COUNT, true)
    expect(got.map((b) => bytesToHex(b.header))).toEqual(reference.slice(0, 2).map((b) => bytesToHex(b.header)))
    expect(ep.score.snapshot()).toMatchObject({ failures: 1, lastError: RpcErrorCode.RateLimited })
    expect(ep.score.isReady()).toBe(false)
  })

  it('an endpoint refusing large batches (HTTP 413) gets smaller ones until they pass', async () => {
    const small = await server(
      probesOk(async (ctx, res) => {
        if (ctx.calls.length > 2) return sendJson(res, { error: 'request entity too large' }, 413)
        await passThrough()(ctx, res)
      }),
    )
    const p = await pool([small.url], { batchSize: 8, score: { backoffBaseMs: 10 } })
    sameAsReference(await p.getBlocks(FROM, COUNT, true))
    expect(p.endpoints[0].score.snapshot()).toMatchObject({ failures: 2, lastError: RpcErrorCode.ResponseTooLarge })
  })

  it('a batch rejected as a whole is classified from its single error object', async () => {
    const rejects = await server(probesOk((_ctx, res) => sendJson(res, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'batch too large' } })))
    const err = await rejection(new RpcEndpoint({ url: rejects.url }).getBlocks(FROM, COUNT, true))
    expect(err.code).toBe(RpcErrorCode.ResponseTooLarge)
    expect(err.retryable).toBe(true)
  })

  it('an endpoint on another chain is excluded; a pool of only such endpoints refuses to start', async () => {
    const otherChain = await server(async (ctx, res) => {
      if (ctx.calls.length === 1 && ctx.calls[0].method === 'eth_chainId') return sendJson(res, { jsonrpc: '2.0', id: ctx.calls[0].id, result: '0x1' })
      await passThrough()(ctx, res)
    })
    const events: string[] = []
    const p = new RpcPool({ urls: [otherChain.url, anvil.url], expectedChainId: 31337n, ...FAST })
    pools.push(p)
    p.on('peer:removed', (_peer: SourcePeer, reason: string) => events.push(reason))
    await p.start()
    expect(events).toEqual(['wrong chain 1'])
    expect(p.peers().map((e) => e.id)).toEqual([p.endpoints[1].id])

    const only = new RpcPool({ urls: [otherChain.url], expectedChainId: 31337n, ...FAST })
    const err = await only.start().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ConfigError)
    expect(err).toMatchObject({ code: RpcErrorCode.WrongChain })
  })

  it('no reachable endpoint: start() rejects with RPC_NO_ENDPOINT naming the failures', async () => {
    const nothing = `http://127.0.0.1:${await freePort()}`
    const p = new RpcPool({ urls: [nothing], ...FAST })
    const err = await rejection(p.start())
    expect(err.code).toBe(RpcErrorCode.NoEndpoint)
    expect(err.details?.endpoints).toEqual([{ id: p.endpoints[0].id, lastError: RpcErrorCode.ConnectionFailed }])
  })

  it('an endpoint down at start is admitted by the background probe once it answers', async () => {
    const port = await freePort()
    const p = await pool([`http://127.0.0.1:${port}`, anvil.url], { headPollMs: 100, score: { backoffBaseMs: 50 } })
    expect(p.peers().length).toBe(1)
    const added = new Promise<SourcePeer>((resolve) => p.on('peer:added', resolve))
    await server(passThrough(), port)
    expect((await added).id).toBe(p.endpoints[0].id)
    expect(p.peers().length).toBe(2)
  })

  it("the caller's AbortSignal cancels a stalled request at once, without blaming the endpoint", async () => {
    const stall = await server(probesOk(() => undefined))
    const ep = new RpcEndpoint({ url: stall.url, timeoutMs: 60_000 })
    const controller = new AbortController()
    const pending = rejection(ep.getBlocks(FROM, COUNT, true, { signal: controller.signal }))
    // Abort once the requests are on the server (in flight, not queued).
    while (stall.blockCalls() === 0) await sleep(5)
    controller.abort()
    expect((await pending).code).toBe(RpcErrorCode.Aborted)
    expect(ep.score.snapshot().failures).toBe(0)
  })

  it('when every endpoint fails, the last typed error is thrown after bounded attempts', async () => {
    const down = await server(probesOk((_ctx, res) => sendJson(res, {}, 502)))
    const p = await pool([down.url], { maxAttempts: 2, score: { backoffBaseMs: 20 } })
    const err = await rejection(p.getBlocks(FROM, COUNT, true))
    expect(err.code).toBe(RpcErrorCode.HttpStatus)
    expect(p.endpoints[0].score.snapshot().failures).toBe(2)
  })
})

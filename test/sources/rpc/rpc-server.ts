/**
 * Small node:http JSON-RPC servers on 127.0.0.1 for misbehaviour tests: each one sees the parsed
 * request (single or batch), may forward it to a real upstream (Anvil) and answer with the result,
 * an altered result, an HTTP error, garbage, an endless body, or nothing at all.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

export interface RpcCall {
  id: number
  method: string
  params: unknown[]
}

export interface RpcRequestContext {
  calls: RpcCall[]
  isBatch: boolean
  /** Sends the request upstream unchanged and returns the parsed JSON reply. */
  forward(): Promise<unknown>
}

export type RpcHandler = (ctx: RpcRequestContext, res: ServerResponse) => Promise<void> | void

export interface TestRpcServer {
  url: string
  /** Calls seen per method. */
  hits: Map<string, number>
  /** How many block-data calls (blocks, receipts, uncles, tx receipts) were seen. */
  blockCalls(): number
  close(): Promise<void>
}

export const BLOCK_METHODS = new Set(['eth_getBlockByNumber', 'eth_getBlockByHash', 'eth_getBlockReceipts', 'eth_getUncleByBlockHashAndIndex', 'eth_getTransactionReceipt'])

/** A probe (chain id, head) rather than block data: misbehaving servers usually pass it. */
export function isProbe(ctx: RpcRequestContext): boolean {
  return ctx.calls.every((c) => c.method === 'eth_chainId' || (c.method === 'eth_getBlockByNumber' && typeof c.params[0] === 'string' && !c.params[0].startsWith('0x')))
}

export function sendJson(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** JSON-RPC error replies for every call of the request (same shape as the request). */
export function sendErrors(res: ServerResponse, ctx: RpcRequestContext, code: number, message: string): void {
  const replies = ctx.calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code, message } }))
  sendJson(res, ctx.isBatch ? replies : replies[0])
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startRpcServer(upstream: string | undefined, handler: RpcHandler, port = 0): Promise<TestRpcServer> {
  const hits = new Map<string, number>()
  const server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req)
      const parsed = JSON.parse(text) as unknown
      const isBatch = Array.isArray(parsed)
      const calls = (isBatch ? parsed : [parsed]) as RpcCall[]
      for (const c of calls) hits.set(c.method, (hits.get(c.method) ?? 0) + 1)
      const forward = async () => {
        if (!upstream) throw new Error('no upstream')
        const r = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
        return r.json()
      }
      await handler({ calls, isBatch, forward }, res)
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, { error: String(err) }, 500)
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits,
    blockCalls: () => [...hits].filter(([m]) => BLOCK_METHODS.has(m)).reduce((n, [, c]) => n + c, 0),
    close: () =>
      new Promise<void>((resolve) => {
        // Stalled requests keep sockets open: drop them so close() returns.
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Forwards every request upstream, then lets `alter` rewrite the parsed reply. */
export function passThrough(alter?: (reply: unknown, ctx: RpcRequestContext) => unknown): RpcHandler {
  return async (ctx, res) => {
    const reply = await ctx.forward()
    sendJson(res, alter ? alter(reply, ctx) : reply)
  }
}

/** Applies `fn` to every result object of a (batch) reply whose call used `method`. */
export function mapResults(reply: unknown, ctx: RpcRequestContext, method: string, fn: (result: Record<string, unknown>) => void): unknown {
  const replies = (ctx.isBatch ? reply : [reply]) as Array<{ id: number; result?: unknown }>
  for (const r of replies) {
    const call = ctx.calls.find((c) => c.id === r.id)
    if (call?.method === method && r.result && typeof r.result === 'object') fn(r.result as Record<string, unknown>)
  }
  return reply
}

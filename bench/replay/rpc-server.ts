/**
 * Replay JSON-RPC server: serves a pre-exported chain from memory as fast as Node can write it, so
 * sync benchmarks measure the client, not the server (Anvil caps at ~28 blocks/s). Each block's
 * `eth_getBlockByNumber(n, true)` and `eth_getBlockReceipts(n)` results are kept as ready JSON text
 * and spliced into responses without re-serialising. Supports JSON-RPC batches.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReplayChain {
  chainId: number
  /** JSON text of eth_getBlockByNumber(n, true) results, index = block number. */
  blocks: string[]
  /** JSON text of eth_getBlockReceipts(n) results, index = block number. */
  receipts: string[]
  /** Block hashes (0x...), index = block number, for by-hash lookups. */
  hashes: string[]
}

interface RpcRequest {
  id?: unknown
  method?: unknown
  params?: unknown
}

export class ReplayRpcServer {
  private server: Server | undefined
  private readonly byHash = new Map<string, number>()
  requests = 0

  constructor(private readonly chain: ReplayChain) {
    chain.hashes.forEach((h, n) => this.byHash.set(h.toLowerCase(), n))
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res))
    server.keepAliveTimeout = 60_000
    this.server = server
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        res.writeHead(400).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
        return
      }
      const out = Array.isArray(body) ? `[${body.map((r) => this.answer(r as RpcRequest)).join(',')}]` : this.answer(body as RpcRequest)
      res.writeHead(200, { 'content-type': 'application/json' }).end(out)
    })
  }

  private blockNumber(tag: unknown): number | undefined {
    const head = this.chain.blocks.length - 1
    if (tag === 'latest' || tag === 'finalized' || tag === 'safe' || tag === 'pending') return head
    if (tag === 'earliest') return 0
    if (typeof tag === 'string' && tag.startsWith('0x')) {
      if (tag.length === 66) return this.byHash.get(tag.toLowerCase())
      const n = Number.parseInt(tag, 16)
      return n <= head ? n : undefined
    }
    return undefined
  }

  private answer(req: RpcRequest): string {
    this.requests++
    const id = JSON.stringify(req.id ?? null)
    const ok = (result: string) => `{"jsonrpc":"2.0","id":${id},"result":${result}}`
    const params = Array.isArray(req.params) ? req.params : []
    switch (req.method) {
      case 'eth_chainId':
        return ok(`"0x${this.chain.chainId.toString(16)}"`)
      case 'net_version':
        return ok(`"${this.chain.chainId}"`)
      case 'eth_blockNumber':
        return ok(`"0x${(this.chain.blocks.length - 1).toString(16)}"`)
      case 'eth_getBlockByNumber':
      case 'eth_getBlockByHash': {
        const n = this.blockNumber(params[0])
        if (n === undefined) return ok('null')
        if (params[1] === true) return ok(this.chain.blocks[n])
        // Header-only form (rare in benchmarks): transactions as hashes.
        const block = JSON.parse(this.chain.blocks[n]) as { transactions: Array<{ hash: string }> }
        return ok(JSON.stringify({ ...block, transactions: block.transactions.map((t) => t.hash) }))
      }
      case 'eth_getBlockReceipts': {
        const n = this.blockNumber(params[0])
        return ok(n === undefined ? 'null' : this.chain.receipts[n])
      }
      default:
        return `{"jsonrpc":"2.0","id":${id},"error":{"code":-32601,"message":"method not found"}}`
    }
  }
}

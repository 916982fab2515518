/**
 * Replay JSON-RPC server: serves a pre-exported chain from memory as fast as Node can write it, so
 * sync benchmarks measure the client, not the server (Anvil caps at ~28 blocks/s). Each block's
 * `eth_getBlockByNumber(n, true|false)` and `eth_getBlockReceipts(n)` results are kept as ready JSON
 * bytes and spliced into responses without re-serialising. Supports JSON-RPC batches.
 *
 * It counts what it serves (calls, bytes, the time of the first and last block call), so a harness
 * can time a client's sync window without trusting the client's own clock.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReplayChain {
  chainId: number
  /** JSON of eth_getBlockByNumber(n, true) results, index = block number. */
  blocks: readonly Uint8Array[]
  /** JSON of eth_getBlockByNumber(n, false) results (transaction hashes only), index = block number. */
  headers: readonly Uint8Array[]
  /** JSON of eth_getBlockReceipts(n) results, index = block number. */
  receipts: readonly Uint8Array[]
  /** Block hashes (0x...), index = block number, for by-hash lookups. */
  hashes: readonly string[]
}

export interface ReplayStats {
  httpRequests: number
  calls: number
  /** Calls per method name (unknown methods included, so a client's needs show up). */
  methods: Record<string, number>
  bytesOut: number
  /** performance.timeOrigin-relative ms of the first and latest block/receipt call. */
  firstBlockCallAt: number | undefined
  lastBlockCallAt: number | undefined
}

interface RpcRequest {
  id?: unknown
  method?: unknown
  params?: unknown
}

const BLOCK_METHODS = new Set(['eth_getBlockByNumber', 'eth_getBlockByHash', 'eth_getBlockReceipts'])
const RESULT_END = Buffer.from('}')
const NULL = Buffer.from('null')

function emptyStats(): ReplayStats {
  return { httpRequests: 0, calls: 0, methods: {}, bytesOut: 0, firstBlockCallAt: undefined, lastBlockCallAt: undefined }
}

export class ReplayRpcServer {
  private server: Server | undefined
  private readonly byHash = new Map<string, number>()
  private head: number
  stats: ReplayStats = emptyStats()

  constructor(private readonly chain: ReplayChain) {
    chain.hashes.forEach((h, n) => this.byHash.set(h.toLowerCase(), n))
    this.head = chain.blocks.length - 1
  }

  /** Serves only blocks 0..head (clamped to the chain), e.g. to sync N and then 2N blocks of one chain. */
  setHead(head: number): void {
    this.head = Math.min(head, this.chain.blocks.length - 1)
  }

  resetStats(): ReplayStats {
    const previous = this.stats
    this.stats = emptyStats()
    return previous
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res))
    server.keepAliveTimeout = 60_000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
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
      this.stats.httpRequests++
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        res.writeHead(400).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
        return
      }
      const parts: Uint8Array[] = []
      if (Array.isArray(body)) {
        parts.push(Buffer.from('['))
        body.forEach((r, i) => {
          if (i > 0) parts.push(Buffer.from(','))
          this.answer(r as RpcRequest, parts)
        })
        parts.push(Buffer.from(']'))
      } else {
        this.answer(body as RpcRequest, parts)
      }
      // Written part by part (one writev), not concatenated: a copy of every response would cost
      // this process ~0.1 ms of CPU per block, on the cores the client is measured on.
      let length = 0
      for (const p of parts) length += p.length
      this.stats.bytesOut += length
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': length })
      res.cork()
      for (const p of parts) res.write(p)
      res.end()
    })
  }

  private blockNumber(tag: unknown): number | undefined {
    if (tag === 'latest' || tag === 'finalized' || tag === 'safe' || tag === 'pending') return this.head
    if (tag === 'earliest') return 0
    if (typeof tag === 'string' && tag.startsWith('0x')) {
      const n = tag.length === 66 ? this.byHash.get(tag.toLowerCase()) : Number.parseInt(tag, 16)
      return n !== undefined && n <= this.head ? n : undefined
    }
    if (typeof tag === 'object' && tag !== null && 'blockHash' in tag) return this.blockNumber((tag as { blockHash: unknown }).blockHash)
    return undefined
  }

  /** Appends the JSON response to `req` to `parts`. */
  private answer(req: RpcRequest, parts: Uint8Array[]): void {
    const stats = this.stats
    stats.calls++
    const method = typeof req.method === 'string' ? req.method : String(req.method)
    stats.methods[method] = (stats.methods[method] ?? 0) + 1
    if (BLOCK_METHODS.has(method)) {
      const now = performance.now()
      stats.firstBlockCallAt ??= now
      stats.lastBlockCallAt = now
    }
    const id = JSON.stringify(req.id ?? null)
    const ok = (result: Uint8Array | string) => {
      parts.push(Buffer.from(`{"jsonrpc":"2.0","id":${id},"result":`))
      parts.push(typeof result === 'string' ? Buffer.from(result) : result)
      parts.push(RESULT_END)
    }
    const params = Array.isArray(req.params) ? req.params : []
    switch (method) {
      case 'eth_chainId':
        return ok(`"0x${this.chain.chainId.toString(16)}"`)
      case 'net_version':
        return ok(`"${this.chain.chainId}"`)
      case 'web3_clientVersion':
        return ok('"evm-syncer-replay/1"')
      case 'eth_syncing':
        return ok('false')
      case 'eth_blockNumber':
        return ok(`"0x${this.head.toString(16)}"`)
      case 'eth_getBlockByNumber':
      case 'eth_getBlockByHash': {
        const n = this.blockNumber(params[0])
        return ok(n === undefined ? NULL : params[1] === true ? this.chain.blocks[n] : this.chain.headers[n])
      }
      case 'eth_getBlockReceipts': {
        const n = this.blockNumber(params[0])
        return ok(n === undefined ? NULL : this.chain.receipts[n])
      }
      default:
        parts.push(Buffer.from(`{"jsonrpc":"2.0","id":${id},"error":{"code":-32601,"message":"method ${JSON.stringify(method).slice(1, -1)} not found"}}`))
    }
  }
}

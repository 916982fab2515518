/**
 * Baseline: `@subsquid/evm-processor` ingesting blocks --from..--to over JSON-RPC (no archive) with
 * every header, transaction (incl. receipt fields) and log field selected, so it fetches what a full
 * block with receipts holds (eth_getBlockByNumber(n, true) + eth_getBlockReceipts). All blocks are
 * final (finality confirmation 0). The store is an in-memory no-op that only counts blocks and txs.
 *
 *   tsx bench/baselines/sqd.ts --rpc URL --to N [--capacity 10] [--max-batch 100]
 */
import { EvmBatchProcessor } from '@subsquid/evm-processor'
import { clientArgs, report } from '../lib/client-args.js'

const args = clientArgs({ capacity: 10, 'max-batch': 100 })
const { capacity, 'max-batch': maxBatchCallSize } = args

const all = <K extends string>(...keys: K[]) => Object.fromEntries(keys.map((k) => [k, true])) as Record<K, true>

const processor = new EvmBatchProcessor()
  .setRpcEndpoint({ url: args.rpc, capacity, maxBatchCallSize, retryAttempts: 0, requestTimeout: 60_000 })
  .setFinalityConfirmation(0)
  .setBlockRange({ from: args.from, to: args.to })
  .setFields({
    block: all('hash', 'parentHash', 'nonce', 'sha3Uncles', 'logsBloom', 'transactionsRoot', 'stateRoot', 'receiptsRoot', 'mixHash', 'miner', 'difficulty', 'extraData', 'size', 'gasLimit', 'gasUsed', 'timestamp', 'baseFeePerGas'),
    transaction: all(
      'hash', 'from', 'to', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas', 'input', 'nonce', 'value', 'v', 'r', 's', 'yParity', 'chainId', 'authorizationList',
      'gasUsed', 'cumulativeGasUsed', 'effectiveGasPrice', 'contractAddress', 'type', 'status', 'sighash',
    ),
    log: all('logIndex', 'transactionIndex', 'transactionHash', 'address', 'data', 'topics'),
  })
  .includeAllBlocks({ from: args.from, to: args.to })
  .addTransaction({})
  .addLog({})

let blocks = 0
let txs = 0
let height = -1
let hash = '0x'
let started = 0

process.on('exit', () => {
  if (height >= args.to) {
    report({ client: 'sqd', blocks, txs, seconds: (performance.now() - started) / 1000, settings: { capacity, maxBatchCallSize } })
  }
})

processor.run(
  {
    supportsHotBlocks: false,
    async connect() {
      started = performance.now()
      return { height, hash }
    },
    async transact(info, cb) {
      await cb(undefined)
      height = info.nextHead.height
      hash = info.nextHead.hash
    },
  },
  async (ctx) => {
    for (const block of ctx.blocks) {
      blocks++
      txs += block.transactions.length
    }
  },
)

import { startAnvil } from './test/helpers/anvil.js'
import { generateChain } from './test/helpers/chain-gen.js'
import { RpcEndpoint } from './src/sources/rpc/endpoint.js'
import { BlockHeader } from './src/primitives/header.js'
import { BlockBody } from './src/primitives/body.js'
import { decodeBlockReceipts } from './src/primitives/receipt.js'
import { orderedTrieRoot } from './src/primitives/trie.js'
import { bytesToHex } from './src/primitives/bytes.js'
const anvil = await startAnvil()
console.log('pid', anvil.pid, anvil.url)
try {
  let t = performance.now()
  const s = await generateChain(anvil, { blocks: 20, txsPerBlock: [50, 150] })
  console.log('gen', ((performance.now() - t) / 1000).toFixed(1), 's', JSON.stringify(s))
  const ep = new RpcEndpoint({ url: anvil.url, verifyTxHashes: true })
  console.log('chain', await ep.chainId(), 'head', (await ep.refreshHead()).number, 'fin', await ep.finalized(), 'safe', await ep.safe())
  t = performance.now()
  const blocks = await ep.getBlocks(0, 100, true)
  console.log('fetched', blocks.length, ((performance.now() - t)).toFixed(0), 'ms')
  for (const b of blocks) {
    const h = BlockHeader.decode(b.header)
    const body = BlockBody.decode(b.body)
    const rs = decodeBlockReceipts(b.receipts!)
    const ok = bytesToHex(body.transactionsRoot()) === bytesToHex(h.transactionsRoot) && bytesToHex(orderedTrieRoot(rs.map(r => r.consensusEncoding()))) === bytesToHex(h.receiptsRoot)
    if (!ok) console.log('MISMATCH', h.number)
  }
  console.log(ep.score.snapshot())
} finally { await anvil.stop() }

import { generateP2pChain } from './scripts/demo/p2p-chain.js'
import { readFileSync, rmSync } from 'node:fs'
import { loadChain } from './src/chain/chains.js'
import { validateSegment } from './src/validator/segment.js'
import { decodeBlock } from './src/primitives/body.js'
import { decodeItem, readItem, rawOf } from './src/primitives/rlp.js'
import { decodeBlockReceipts } from './src/primitives/receipt.js'
import { bytesToHex, hexToBytes } from './src/primitives/bytes.js'
import { startEthjsClient } from './test/helpers/ethjs-client.js'
rmSync('/tmp/demo-scratch/c1', { recursive: true, force: true })
let t = performance.now()
const c = await generateP2pChain('/tmp/demo-scratch/c1', { blocks: 30, txsPerBlock: [2, 12] })
console.log(c, (performance.now() - t) / 1000)
const chain = loadChain(c.genesisPath)
console.log('genesis ours', bytesToHex(chain.genesis.hash), 'gen', c.genesisHash)
const split = (buf: Uint8Array) => { const out = []; let o = 0; while (o < buf.length) { const it = readItem(buf, o); out.push(buf.subarray(o, it.end)); o = it.end } return out }
const blocks = split(readFileSync(c.chainRlpPath)).map((raw) => decodeBlock(raw))
const receipts = split(readFileSync(c.receiptsRlpPath)).map((raw) => decodeBlockReceipts(raw))
const r = validateSegment(chain, blocks.map((b, i) => ({ header: b.header, body: b.body, receipts: receipts[i] })), { header: chain.genesisHeader }, { recoverSenders: true })
console.log('valid', r.validCount, JSON.stringify(r.failure?.errors))
t = performance.now()
const client = await startEthjsClient({ name: 'demo-scratch', genesisPath: c.genesisPath, chainRlpPath: c.chainRlpPath, genesisHash: hexToBytes(c.genesisHash), head: { number: c.head.number, hash: hexToBytes(c.head.hash) } }, '/tmp/demo-scratch/cache')
console.log('client up', client.enode, (performance.now() - t) / 1000)
await client.stop()

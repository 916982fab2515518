/**
 * Child process for the SIGKILL test: resumes writing the devp2p chain (with detours over side
 * branches and back) into the store at argv[2], at most one block per argv[3] ms, and reports every acknowledged commit on stdout as
 * `commit <number> <hash> <reorgCount>`, then `done`. The parent kills it at arbitrary points.
 */
import { bytesToHex, equalBytes } from '../../src/primitives/bytes.js'
import { openStore } from '../../src/store/open.js'
import type { FullBlock } from '../../src/store/types.js'
import { BlockWriter } from '../../src/writer/writer.js'
import { branch, devp2pChain } from './chains.js'

const chain = devp2pChain()
/**
 * The whole run: the chain with three detours over side branches (10 blocks on 150, 30 on 290, 5 on
 * 450) and back. Each detour makes the writer rewind twice.
 */
const SEQUENCE: FullBlock[] = [
  ...chain.slice(0, 160),
  ...branch(chain[149], 10, { salt: 1 }),
  ...chain.slice(150, 300),
  ...branch(chain[289], 30, { salt: 2 }),
  ...chain.slice(290, 460),
  ...branch(chain[449], 5, { salt: 3 }),
  ...chain.slice(450),
]

/** Where to resume: after the head's first place in the run, re-sending a few blocks the writer must skip. */
function resume(head: { number: number; hash: Uint8Array } | undefined): FullBlock[] {
  if (!head || head.number < 1) return SEQUENCE
  const at = SEQUENCE.findIndex((b) => equalBytes(b.hash, head.hash))
  if (at < 0) throw new Error(`head ${head.number} is not part of the run`)
  return SEQUENCE.slice(Math.max(0, at + 1 - 5))
}

const store = await openStore(process.argv[2])
const writer = await BlockWriter.open(store, {
  batchSize: 7,
  onBatch: (e) => process.stdout.write(`commit ${e.head.number} ${bytesToHex(e.head.hash)} ${e.progress.reorgCount}\n`),
})
// Paced like a syncer whose validation, not the store, sets the speed (argv[3] ms per block).
const paceMs = Number(process.argv[3] ?? 0)
for (const b of resume(writer.head())) {
  await writer.write(b)
  if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs))
}
await writer.close()
await store.close()
process.stdout.write('done\n')

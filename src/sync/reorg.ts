/**
 * Reorg handling (SPEC "Reorg Handling"): when sources serve a chain that no longer extends our
 * committed head, walk back from the head comparing the sources' canonical headers with the store's
 * until they agree. The walk is bounded by the reorg window: a reorg deeper than the window stops the
 * sync loudly instead of rewriting history the operator considers final.
 */
import { DecodeError, SyncerError } from '../errors.js'
import { type Bytes, bytesToHex, equalBytes } from '../primitives/bytes.js'
import { BlockHeader } from '../primitives/header.js'
import type { SourcePeer } from '../sources/types.js'

/** Headers asked per step of the walk: most reorgs are 1-2 blocks, so small steps finish in one round trip. */
const STEP = 32

export class DeepReorgError extends SyncerError {
  constructor(head: number, window: number, sourceId: string) {
    super(
      'REORG_TOO_DEEP',
      `source ${sourceId} diverges from our chain more than ${window} blocks below head ${head}; refusing to rewrite blocks inside the finality window`,
      { details: { head, window, source: sourceId } },
    )
  }
}

export interface CommonAncestor {
  number: number
  hash: Bytes
}

/**
 * Finds the highest block at or below `head` where `peer`'s chain equals ours (`storedHash`).
 * `lowest` is the deepest block the walk may reach (head - window, or the finalized block).
 */
export async function findCommonAncestor(
  peer: SourcePeer,
  head: number,
  lowest: number,
  storedHash: (n: number) => Promise<Bytes | undefined>,
  signal?: AbortSignal,
): Promise<CommonAncestor> {
  let next = head
  let childParent: Bytes | undefined
  while (next >= Math.max(lowest, 0)) {
    const count = Math.min(STEP, next - Math.max(lowest, 0) + 1)
    const raws = await peer.getHeaders({ start: next, count, reverse: true }, { signal })
    if (raws.length === 0) throw new DecodeError('ANCESTOR_SEARCH_EMPTY', `source ${peer.id} returned no headers at ${next}`)
    for (const raw of raws) {
      const header = BlockHeader.decode(raw)
      if (header.number !== next) throw new DecodeError('UNREQUESTED_HEADER', `asked for ${next}, got ${header.number}`)
      // The walk must follow one chain: each header is the parent of the one before.
      if (childParent && !equalBytes(childParent, header.hash)) {
        throw new DecodeError('BROKEN_HEADER_CHAIN', `header ${next} is not the parent of header ${next + 1} from ${peer.id}`)
      }
      const ours = await storedHash(next)
      if (ours && equalBytes(ours, header.hash)) return { number: next, hash: header.hash }
      childParent = header.parentHash
      next--
    }
  }
  throw new DeepReorgError(head, head - lowest, peer.id)
}

export function describeAncestor(a: CommonAncestor): string {
  return `${a.number} (${bytesToHex(a.hash).slice(0, 12)})`
}

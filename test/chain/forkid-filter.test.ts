import { describe, expect, it } from 'vitest'
import { loadChain } from '../../src/chain/chains.js'
import { hexToBytes } from '../../src/primitives/bytes.js'

// EIP-2124 validation, mainnet: block forks up to Gray Glacier (15050000), then time forks from Shanghai.
const mainnet = loadChain('mainnet', { ethash: { mode: 'off' } })
const SHANGHAI_TIME = 1681338455
const CANCUN_TIME = 1710338135

function filterAt(number: number, time: number) {
  return mainnet.forkFilter(() => ({ number, time }))
}

describe('EIP-2124 fork-id filter', () => {
  const postCancun = { number: 20_000_000, time: CANCUN_TIME + 100 }

  it('accepts a peer on our fork and a peer ahead of us (we are syncing)', () => {
    const atGenesis = filterAt(0, 1438269973)
    expect(atGenesis(mainnet.forkId(0, 1438269973))).toBeUndefined()
    expect(atGenesis(mainnet.forkId(postCancun.number, postCancun.time))).toBeUndefined()
  })

  it('accepts a peer behind us that knows the fork we passed next', () => {
    const f = filterAt(postCancun.number, postCancun.time)
    const shanghaiPeer = mainnet.forkId(17_100_000, SHANGHAI_TIME + 10)
    expect(shanghaiPeer.next).toBe(BigInt(CANCUN_TIME))
    expect(f(shanghaiPeer)).toBeUndefined()
  })

  it('rejects a stale peer that does not know our next fork', () => {
    const f = filterAt(postCancun.number, postCancun.time)
    const shanghaiPeer = mainnet.forkId(17_100_000, SHANGHAI_TIME + 10)
    expect(f({ hash: shanghaiPeer.hash, next: 0n })).toMatch(/stale/)
  })

  it('rejects a peer on our fork that expects a fork we already passed without it', () => {
    const shanghai = { number: 17_100_000, time: SHANGHAI_TIME + 10 }
    const f = filterAt(shanghai.number, shanghai.time)
    const ours = mainnet.forkId(shanghai.number, shanghai.time)
    expect(f(ours)).toBeUndefined()
    expect(f({ hash: ours.hash, next: BigInt(SHANGHAI_TIME) })).toMatch(/passed/)
  })

  it('rejects a fork hash that is not on our chain', () => {
    expect(filterAt(0, 0)({ hash: hexToBytes('0xdeadbeef'), next: 0n })).toMatch(/not on our chain/)
  })

  it('follows our head as it moves', () => {
    let head = { number: 0, time: 1438269973 }
    const f = mainnet.forkFilter(() => head)
    const genesisPeer = mainnet.forkId(0, 1438269973)
    expect(f({ ...genesisPeer, next: 0n })).toBeUndefined() // same fork, no next announced: fine at genesis
    head = postCancun
    expect(f({ ...genesisPeer, next: 0n })).toMatch(/stale/)
  })
})

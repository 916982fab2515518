/**
 * verifyStore on both backends: clean chains pass (also with the full fork rules of the chain), and
 * each kind of damage to the stored bytes, pointers or commit record is reported at its block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rulesAt } from '../../src/chain/forks.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import type { BlockHeader } from '../../src/primitives/header.js'
import { decodeBlockReceipts, encodeReceiptsEth68 } from '../../src/primitives/receipt.js'
import type { KvBackend } from '../../src/store/kv.js'
import { StoreKeys, textValue } from '../../src/store/keys.js'
import { openBackend, openStore, parseStoreUrl } from '../../src/store/open.js'
import type { Store } from '../../src/store/types.js'
import { verifyStore } from '../../src/store/verify.js'
import { BACKENDS, type StoreLocation, fields } from './backends.js'
import { devp2pChain } from './chains.js'

/** The devp2p chain's schedule: Shanghai at genesis, Cancun from t=60 (block 6), Prague from t=120 (block 12). */
function devp2pRules(header: BlockHeader) {
  return rulesAt(3503995874084926n, header.timestamp >= 120 ? 'prague' : header.timestamp >= 60 ? 'cancun' : 'shanghai')
}

describe.each(BACKENDS)('verify on $name', (backend) => {
  let location: StoreLocation
  let kv: KvBackend
  let prefixes = 0
  beforeAll(async () => {
    location = await backend.start()
    kv = await openBackend(parseStoreUrl(location.url))
  })
  afterAll(async () => {
    await kv.close()
    await location.cleanup()
  })

  async function filled(count: number): Promise<{ store: Store; keys: StoreKeys }> {
    const prefix = `v${++prefixes}:`
    const store = await openStore(location.url, { prefix })
    const chain = devp2pChain().slice(0, count)
    for (let i = 0; i < chain.length; i += 100) await store.writeBatch(chain.slice(i, i + 100), fields())
    return { store, keys: new StoreKeys(prefix) }
  }

  it('passes the whole devp2p chain, with guessed rules and with the chain\'s own fork rules', async () => {
    const { store } = await filled(600)
    const report = await verifyStore(store)
    expect(report).toMatchObject({ ok: true, firstBlock: 1, head: 600, from: 1, to: 600, checked: 600, problems: [], tail: [] })
    const strict = await verifyStore(store, { rulesAt: devp2pRules })
    expect(strict.problems).toEqual([])
    const progress: number[] = []
    const part = await verifyStore(store, { from: 590, to: 700, chunk: 4, onProgress: (n) => progress.push(n) })
    expect(part).toMatchObject({ ok: true, from: 590, to: 600, checked: 11 })
    expect(progress).toEqual([4, 8, 11])
    expect(await verifyStore(await openStore(location.url, { prefix: 'empty:' }))).toMatchObject({ ok: true, checked: 0 })
    await store.close()
  })

  it('reports each kind of damage at its block', async () => {
    const { store, keys } = await filled(100)
    const chain = devp2pChain()
    const at = (n: number) => chain[n - 1]
    const eth68 = encodeReceiptsEth68(decodeBlockReceipts(at(30).receipts))
    const otherReceipts = (await kv.get(keys.receipts(at(41).hash)))!
    await kv.apply([
      { kind: 'del', key: keys.canonical(10) }, // pointer gone
      { kind: 'put', key: keys.header(at(20).hash), value: at(21).header }, // header under the wrong hash
      { kind: 'put', key: keys.receipts(at(30).hash), value: eth68 }, // receipts not in the stored form
      { kind: 'put', key: keys.receipts(at(40).hash), value: otherReceipts }, // another block's receipts
      { kind: 'put', key: keys.number(at(50).hash), value: textValue('51') }, // hash -> number entry wrong
      { kind: 'put', key: keys.canonical(60), value: textValue(bytesToHex(at(61).hash)) }, // pointer to the wrong block
      { kind: 'put', key: keys.body(at(70).hash), value: hexToBytes('0xc3c0c0c0') }, // an empty body instead of the real one
    ])
    const report = await verifyStore(store)
    expect(report.ok).toBe(false)
    const found = new Set(report.problems.map((p) => `${p.block} ${p.code}`))
    for (const expected of [
      '10 MISSING_POINTER',
      '20 HEADER_HASH_MISMATCH',
      '20 HEADER_NUMBER_MISMATCH',
      '20 BROKEN_LINK',
      '30 RECEIPTS_NOT_COMPACT',
      '40 RECEIPTS_ROOT_MISMATCH',
      '50 HASH_INDEX_MISMATCH',
      '60 HEADER_NUMBER_MISMATCH',
      '60 HASH_INDEX_MISMATCH',
      '61 BROKEN_LINK',
      '70 BODY_TRANSACTIONS_ROOT_MISMATCH',
    ]) {
      expect(found, expected).toContain(expected)
    }
    expect(report.problems.every((p) => [10, 20, 30, 40, 50, 60, 61, 70].includes(p.block!))).toBe(true)
    await store.close()
  })

  it('checks the commit record against the pointers and reports the tail without failing', async () => {
    const { store, keys } = await filled(20)
    const record = JSON.parse(new TextDecoder().decode((await kv.get(keys.progress))!))
    await kv.apply([
      { kind: 'put', key: keys.canonical(21), value: textValue(bytesToHex(devp2pChain()[20].hash)) },
      { kind: 'put', key: keys.canonical(22), value: textValue(bytesToHex(devp2pChain()[21].hash)) },
    ])
    const withTail = await verifyStore(store)
    expect(withTail).toMatchObject({ ok: true, tail: [21, 22] })

    await kv.apply([{ kind: 'put', key: keys.progress, value: textValue(JSON.stringify({ ...record, lastHash: bytesToHex(devp2pChain()[3].hash) })) }])
    const report = await verifyStore(store)
    expect(report.problems.map((p) => `${p.block} ${p.code}`)).toEqual(['20 COMMIT_HEAD_MISMATCH'])

    const outside = await verifyStore(store, { from: 50, to: 60 })
    expect(outside.problems.map((p) => p.code)).toContain('RANGE_NOT_STORED')
    await store.close()
  })
})

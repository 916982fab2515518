import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadChain } from '../../src/chain/chains.js'
import { bytesToHex, hexToBytes } from '../../src/primitives/bytes.js'
import { encodeListOfEncoded, listItems, rawOf, readItem } from '../../src/primitives/rlp.js'
import { fixturePath, readFixtureJson, readPortalBlock } from '../fixtures.js'
import { headerRlpFromJson } from '../chain/json-header.js'
import { ensureBuilt, runCli } from '../helpers/cli.js'

const block = readPortalBlock(19426587)
const parent = readPortalBlock(19426586)
let dir: string

beforeAll(() => {
  ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), 'check-block-'))
}, 300_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function check(args: string[]) {
  const r = runCli(['check-block', ...args])
  return { status: r.status, out: r.stdout.trim() ? (JSON.parse(r.stdout) as { valid: boolean; errors: Array<{ code: string; message: string }> }) : undefined, stderr: r.stderr }
}

describe('evm-syncer check-block', () => {
  it('a real mainnet block with parent and eth/69 receipts is valid (exit 0)', () => {
    const r = check(['--chain', 'mainnet', '--header', block.header, '--body', block.body, '--receipts', block.receipts, '--parent', parent.header])
    expect(r).toMatchObject({ status: 0, out: { valid: true, errors: [] } })
  })

  it('reads @FILE arguments holding hex text or raw bytes', () => {
    writeFileSync(join(dir, 'header.hex'), `${block.header}\n`)
    writeFileSync(join(dir, 'body.bin'), hexToBytes(block.body))
    writeFileSync(join(dir, 'receipts.bin'), hexToBytes(block.receipts))
    const r = check(['--chain', 'mainnet', '--header', `@${join(dir, 'header.hex')}`, '--body', `@${join(dir, 'body.bin')}`, '--receipts', `@${join(dir, 'receipts.bin')}`])
    expect(r).toMatchObject({ status: 0, out: { valid: true } })
  })

  it('an invalid block prints every error with its code (exit 1)', () => {
    const receipts = block.receipts.slice(0, -2)
    const r = check(['--chain', 'mainnet', '--header', block.header, '--body', block.body, '--receipts', receipts, '--parent', block.header])
    expect(r.status).toBe(1)
    const codes = r.out?.errors.map((e) => e.code) ?? []
    expect(codes).toEqual(expect.arrayContaining(['HEADER_NUMBER', 'HEADER_PARENT_HASH', 'HEADER_TIMESTAMP']))
    expect(codes.some((c) => c.startsWith('RECEIPT'))).toBe(true)
    expect(r.out?.valid).toBe(false)
  })

  it('undecodable header bytes are an invalid block, not a usage error', () => {
    const r = check(['--chain', 'mainnet', '--header', '0xc0', '--body', block.body])
    expect(r.status).toBe(1)
    expect(r.out?.errors[0].code).toMatch(/^RLP_/)
  })

  it('a real Goerli Clique block, parent = the checkpoint genesis (signer set known)', () => {
    const goerli = loadChain('goerli')
    const json = readFixtureJson<Array<{ header: Record<string, string> }>>('ethereumjs-monorepo', 'packages', 'block', 'test', 'testdata', 'blocks_goerli.json')
    const header = bytesToHex(headerRlpFromJson(json[0].header))
    const r = check(['--chain', 'goerli', '--header', header, '--body', '0xc2c0c0', '--parent', bytesToHex(goerli.genesis.header)])
    expect(r).toMatchObject({ status: 0, out: { valid: true } })
  })

  it('a custom chain from a geth genesis.json: block 1 of the geth devp2p chain', () => {
    const dir = ['go-ethereum', 'cmd', 'devp2p', 'internal', 'ethtest', 'testdata'] as const
    const genesis = fixturePath(...dir, 'genesis.json')
    const rlp = new Uint8Array(readFileSync(fixturePath(...dir, 'chain.rlp')))
    const first = readItem(rlp, 0)
    const parts = listItems(rlp, first)
    const body = encodeListOfEncoded(parts.slice(1).map((p) => rawOf(rlp, p)))
    const r = check(['--chain', genesis, '--header', bytesToHex(rawOf(rlp, parts[0])), '--body', bytesToHex(body), '--parent', bytesToHex(loadChain(genesis).genesis.header)])
    expect(r).toMatchObject({ status: 0, out: { valid: true } })
  })

  it.each([
    [['--chain', 'nosuchchain', '--header', '0x', '--body', '0x']],
    [['--chain', 'mainnet', '--header', 'zz', '--body', '0xc2c0c0']],
    [['--chain', 'mainnet', '--header', '@/nonexistent/file', '--body', '0xc2c0c0']],
    [['--chain', 'mainnet', '--header', '0xc0']],
  ])('bad arguments exit 2 with nothing on stdout: %j', (args) => {
    const r = check(args)
    expect(r.status).toBe(2)
    expect(r.out).toBeUndefined()
    expect(r.stderr).not.toBe('')
  })
})

describe('evm-syncer blocktest argument handling', () => {
  it('a JSON file that is not a BlockchainTests file is reported and makes the exit code 1', () => {
    const file = fixturePath('ethereum-tests', 'BasicTests', 'genesishashestest.json')
    const r = runCli(['blocktest', file])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout.trim().split('\n')[0])).toMatchObject({ file })
  })

  it('no path is a usage error (exit 2)', () => {
    expect(runCli(['blocktest']).status).toBe(2)
  })
})

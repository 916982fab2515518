/**
 * `evm-syncer check-block --chain NAME|genesis.json --header X --body X [--receipts X] [--parent X]`
 * validates one block without a store or a network. Each X is hex or `@FILE` (a file holding hex
 * text or the raw bytes). Prints {"valid":bool,"errors":[{code,message}]}; exit 0 valid, 1 invalid,
 * 2 bad arguments. Without --parent the rules that need the parent are skipped; Clique/Parlia signer
 * membership is checked only when the parent is a checkpoint/epoch block (it carries the set).
 */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { ConfigError, errorMessage } from '../../errors.js'

/** check-block's exit codes (issue 3): 0 valid, 1 invalid, 2 bad arguments (same values as main.ts EXIT). */
const EXIT = { ok: 0, failure: 1, usage: 2 } as const

interface CheckBlockOptions {
  chain: string
  header: string
  body: string
  receipts?: string
  parent?: string
}

const HEX_TEXT = /^\s*(0x)?[0-9a-fA-F\s]*$/

/** Reads an argument: hex, or @FILE with hex text or raw bytes. */
export function readBytesArg(value: string, what: string, hexToBytes: (hex: string) => Uint8Array): Uint8Array {
  if (value.startsWith('@')) {
    let data: Buffer
    try {
      data = readFileSync(value.slice(1))
    } catch (err) {
      throw new ConfigError('CLI_BAD_ARGUMENT', `--${what}: cannot read ${value.slice(1)}: ${errorMessage(err)}`)
    }
    const text = data.toString('latin1')
    if (data.length > 0 && HEX_TEXT.test(text)) return hexToBytes(text.replace(/\s+/g, ''))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  }
  try {
    return hexToBytes(value.trim())
  } catch {
    throw new ConfigError('CLI_BAD_ARGUMENT', `--${what} is neither hex nor @FILE`)
  }
}

async function checkBlock(opts: CheckBlockOptions): Promise<number> {
  const [{ loadChain }, { hexToBytes }, { BlockHeader }, { BlockBody }, { validateBlock }] = await Promise.all([
    import('../../chain/chains.js'),
    import('../../primitives/bytes.js'),
    import('../../primitives/header.js'),
    import('../../primitives/body.js'),
    import('../../validator/block.js'),
  ])
  let inputs: { chain: ReturnType<typeof loadChain>; header: Uint8Array; body: Uint8Array; receipts?: Uint8Array; parent?: Uint8Array }
  try {
    inputs = {
      chain: loadChain(opts.chain),
      header: readBytesArg(opts.header, 'header', hexToBytes),
      body: readBytesArg(opts.body, 'body', hexToBytes),
      receipts: opts.receipts === undefined ? undefined : readBytesArg(opts.receipts, 'receipts', hexToBytes),
      parent: opts.parent === undefined ? undefined : readBytesArg(opts.parent, 'parent', hexToBytes),
    }
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n`)
    return EXIT.usage
  }
  const report = (errors: Array<{ code: string; message: string }>) => {
    process.stdout.write(JSON.stringify({ valid: errors.length === 0, errors }) + '\n')
    return errors.length === 0 ? EXIT.ok : EXIT.failure
  }
  try {
    const { chain } = inputs
    const header = BlockHeader.decode(inputs.header)
    const body = BlockBody.decode(inputs.body)
    const parent = inputs.parent && BlockHeader.decode(inputs.parent)
    const errors = validateBlock(chain, { header, body, receipts: inputs.receipts }, parent || undefined, {
      consensusState: parent ? chain.consensus.stateFromCheckpoint?.(parent) : undefined,
    })
    return report(errors.map((e) => ({ code: e.code, message: e.message })))
  } catch (err) {
    // Undecodable header/body/parent bytes: the block is invalid, not the invocation.
    const e = err as { code?: string }
    return report([{ code: e.code ?? 'BLOCK_DECODE', message: errorMessage(err) }])
  }
}

export function register(program: Command): void {
  program
    .command('check-block')
    .description('validate one block (header, body, optional receipts and parent) against a chain; prints {"valid","errors"}')
    .requiredOption('--chain <name|genesis.json>', 'mainnet, sepolia, holesky, hoodi, goerli, bsc, or a geth genesis.json path')
    .requiredOption('--header <hex|@file>', 'raw header RLP')
    .requiredOption('--body <hex|@file>', 'raw body RLP: rlp([txs, ommers, withdrawals?])')
    .option('--receipts <hex|@file>', 'raw receipt list RLP (eth/68 with bloom or eth/69 without; detected)')
    .option('--parent <hex|@file>', 'raw parent header RLP (enables the parent rules)')
    .action(async (opts: CheckBlockOptions) => {
      process.exitCode = await checkBlock(opts)
    })
}

#!/usr/bin/env node
/**
 * CLI entry. Each command lives in ./commands/<name>.ts and registers its options here; the heavy
 * modules are imported inside the action, so `evm-syncer get ...` in a loop starts fast.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 reorg deeper than the window.
 */
import { Command, CommanderError } from 'commander'
import { ConfigError } from '../errors.js'
import { register as blocktest } from './commands/blocktest.js'
import { register as checkBlock } from './commands/check-block.js'
import { register as sync } from './commands/sync.js'
import { register as get } from './commands/get.js'
import { register as status } from './commands/status.js'
import { register as verify } from './commands/verify.js'

export const EXIT = { ok: 0, failure: 1, usage: 2, deepReorg: 3 } as const

const program = new Command('evm-syncer')
  .description('Verified blockchain sync for EVM chains: devp2p/JSON-RPC -> validator -> Redis/Pika or LMDB')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })

const commands: Array<(p: Command) => void> = [sync, get, verify, status, blocktest, checkBlock]

for (const register of commands) register(program)
// Subcommands added with addCommand() do not inherit these; usage errors must exit 2 everywhere.
for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = err instanceof ConfigError ? EXIT.usage : EXIT.failure
  }
}

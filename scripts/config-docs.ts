/** Prints the README's configuration table for `evm-syncer sync` (test/cli/readme.test.ts keeps them equal). */
import { SYNC_OPTIONS } from '../src/cli/commands/sync.js'
import { optionsTable } from '../src/cli/options.js'

process.stdout.write(optionsTable(SYNC_OPTIONS) + '\n')

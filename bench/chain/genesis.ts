/**
 * A geth genesis.json equal to Anvil's block 0 of a benchmark chain, so a devp2p sync (which needs
 * the chain before dialling: Status carries genesis hash and fork id) can be given `--chain FILE`.
 * Anvil (--hardfork prague) reports an empty genesis state root and every fork active at 0.
 */
import type { GethGenesis } from '../../src/chain/genesis.js'

/** eth_getBlockByNumber(0, false) of the chain, as cached. */
export function benchGenesis(chainId: number, block0: { timestamp: string; gasLimit: string; extraData: string; baseFeePerGas: string; difficulty: string }): GethGenesis {
  const atGenesis = Object.fromEntries(
    ['homestead', 'eip150', 'eip155', 'eip158', 'byzantium', 'constantinople', 'petersburg', 'istanbul', 'berlin', 'london', 'mergeNetsplit'].map((f) => [`${f}Block`, 0]),
  )
  return {
    config: {
      chainId,
      ...atGenesis,
      terminalTotalDifficulty: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      blobSchedule: { cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 }, prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 } },
    },
    timestamp: block0.timestamp,
    gasLimit: block0.gasLimit,
    difficulty: block0.difficulty,
    extraData: block0.extraData,
    baseFeePerGas: block0.baseFeePerGas,
    alloc: {},
  }
}

/**
 * The chain adapter of a store: the identity recorded by the sync that wrote it (`sync:chain`) names
 * a known chain, a genesis.json path, or a dev chain whose genesis is the store's own block 0 and
 * whose hardfork is recorded in `forkConfig`. Readers use it for fork-dependent checks.
 */
import { existsSync } from 'node:fs'
import type { Chain } from '../chain/chain.js'
import { chainById, devChain, loadChain } from '../chain/chains.js'
import { HARDFORKS, type Hardfork } from '../chain/forks.js'
import { ConfigError } from '../errors.js'
import { equalBytes } from '../primitives/bytes.js'
import type { ChainIdentity, Store } from '../store/types.js'

const DEV_PREFIX = 'dev:'

/** `forkConfig` recorded for a dev chain, e.g. `dev:prague`. */
export function devForkConfig(hardfork: Hardfork): string {
  return DEV_PREFIX + hardfork
}

export function identityOf(chain: Chain, devHardfork?: Hardfork): ChainIdentity {
  return {
    name: chain.name,
    chainId: chain.chainId,
    genesisHash: chain.genesis.hash,
    forkConfig: devHardfork ? devForkConfig(devHardfork) : undefined,
  }
}

/** The store's chain, or the one named by `override`; undefined when it cannot be rebuilt. */
export async function chainOfStore(store: Store, override?: string): Promise<Chain | undefined> {
  const ethash = { mode: 'off' as const } // readers check stored bytes, not seals
  if (override) return loadChain(override, { ethash })
  const id = await store.chain()
  if (!id) return undefined
  const known = chainById(id.chainId, { ethash })
  if (known && equalBytes(known.genesis.hash, id.genesisHash)) return known
  if (id.name.endsWith('.json') && existsSync(id.name)) return loadChain(id.name, { ethash })
  if (id.forkConfig?.startsWith(DEV_PREFIX)) {
    const fork = id.forkConfig.slice(DEV_PREFIX.length) as Hardfork
    if (!HARDFORKS.includes(fork)) throw new ConfigError('STORE_BAD_CHAIN', `unknown dev hardfork "${fork}" recorded in the store`)
    const genesis = await store.block(0)
    return genesis ? devChain(id.chainId, genesis.header, fork, { ethash }) : undefined
  }
  return undefined
}

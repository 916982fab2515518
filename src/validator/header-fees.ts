/**
 * Fee-market arithmetic of the header checks: the EIP-1559 base fee and the
 * EIP-4844 excess blob gas (with EIP-7918's reserve price from Osaka on). The blob base fee itself
 * lives with the transaction rules (transaction.ts), which price blob transactions with it.
 */
import { type BlobParams, GAS_PER_BLOB } from '../chain/forks.js'
import type { BlockHeader } from '../primitives/header.js'
import { fakeExponential } from './transaction.js'

export const ELASTICITY_MULTIPLIER = 2n
const BASE_FEE_CHANGE_DENOMINATOR = 8n
/** EIP-7918: the blob base fee is kept above BLOB_BASE_COST x base fee / GAS_PER_BLOB. */
const BLOB_BASE_COST = 8192n
const MIN_BLOB_BASE_FEE = 1n

/** EIP-1559 base fee of the child of `parent` (a London parent: it has a base fee). */
export function nextBaseFee(parent: BlockHeader, parentBaseFee: bigint): bigint {
  const target = parent.gasLimit / ELASTICITY_MULTIPLIER
  if (parent.gasUsed === target) return parentBaseFee
  if (parent.gasUsed > target) {
    const delta = (parentBaseFee * (parent.gasUsed - target)) / target / BASE_FEE_CHANGE_DENOMINATOR
    return parentBaseFee + (delta > 1n ? delta : 1n)
  }
  const delta = (parentBaseFee * (target - parent.gasUsed)) / target / BASE_FEE_CHANGE_DENOMINATOR
  return parentBaseFee > delta ? parentBaseFee - delta : 0n
}

/**
 * Expected excessBlobGas of a block whose parent is `parent`, under the block's blob parameters.
 * `reservePrice` enables EIP-7918 (Osaka on).
 */
export function nextExcessBlobGas(parent: BlockHeader, params: BlobParams, reservePrice: boolean): bigint {
  const parentExcess = parent.excessBlobGas ?? 0n
  const parentUsed = parent.blobGasUsed ?? 0n
  const targetGas = BigInt(params.target) * GAS_PER_BLOB
  if (parentExcess + parentUsed < targetGas) return 0n
  if (reservePrice && parent.baseFeePerGas !== undefined) {
    const blobPrice = fakeExponential(MIN_BLOB_BASE_FEE, parentExcess, params.baseFeeUpdateFraction) * GAS_PER_BLOB
    if (BLOB_BASE_COST * parent.baseFeePerGas > blobPrice) {
      return parentExcess + (parentUsed * BigInt(params.max - params.target)) / BigInt(params.max)
    }
  }
  return parentExcess + parentUsed - targetGas
}

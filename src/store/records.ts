/**
 * The two JSON records of a store: the commit record `sync:progress` and the chain identity
 * `sync:chain`. JSON so that `redis-cli GET sync:progress` is readable; hashes as 0x hex, chain id
 * as a decimal string (it may exceed 2^53). Decoding checks every field: a garbled record is a
 * StoreError STORE_CORRUPT, never a silently wrong head.
 */
import { StoreError } from '../errors.js'
import { type Bytes, bytesToHex, hexToBytes } from '../primitives/bytes.js'
import { readText, textValue } from './keys.js'
import type { ChainIdentity, SyncProgress } from './types.js'

const RECORD_VERSION = 1

function corrupt(key: string, why: string): StoreError {
  return new StoreError('STORE_CORRUPT', `${key} is not a valid record: ${why}`, { details: { key } })
}

function parseObject(value: Bytes, key: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readText(value))
  } catch {
    throw corrupt(key, 'not JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(key, 'not an object')
  return parsed as Record<string, unknown>
}

function intField(o: Record<string, unknown>, field: string, key: string, min = 0): number {
  const v = o[field]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw corrupt(key, `${field} must be an integer >= ${min}`)
  return v
}

function numberField(o: Record<string, unknown>, field: string, key: string): number {
  const v = o[field]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw corrupt(key, `${field} must be a non-negative number`)
  return v
}

function hashField(o: Record<string, unknown>, field: string, key: string): Bytes {
  const v = o[field]
  if (typeof v !== 'string' || !/^0x[0-9a-f]{64}$/.test(v)) throw corrupt(key, `${field} must be a 32-byte hex hash`)
  return hexToBytes(v)
}

export function encodeProgress(p: SyncProgress): Bytes {
  return textValue(
    JSON.stringify({
      version: RECORD_VERSION,
      firstBlock: p.firstBlock,
      currentBlock: p.currentBlock,
      lastHash: bytesToHex(p.lastHash),
      targetBlock: p.targetBlock,
      startBlock: p.startBlock,
      startTime: p.startTime,
      speed: Math.round(p.speed * 100) / 100,
      reorgCount: p.reorgCount,
      lastReorgDepth: p.lastReorgDepth,
      totalSynced: p.totalSynced,
      updatedAt: p.updatedAt,
      ...(p.headersOnly ? { headersOnly: true } : {}),
    }),
  )
}

export function decodeProgress(value: Bytes, key: string): SyncProgress {
  const o = parseObject(value, key)
  if (o.version !== RECORD_VERSION) throw corrupt(key, `unknown version ${String(o.version)}`)
  const firstBlock = intField(o, 'firstBlock', key)
  const p: SyncProgress = {
    firstBlock,
    // currentBlock = firstBlock - 1 (possibly -1) while nothing is committed yet
    currentBlock: intField(o, 'currentBlock', key, firstBlock - 1),
    lastHash: hashField(o, 'lastHash', key),
    targetBlock: intField(o, 'targetBlock', key),
    startBlock: intField(o, 'startBlock', key),
    startTime: intField(o, 'startTime', key),
    speed: numberField(o, 'speed', key),
    reorgCount: intField(o, 'reorgCount', key),
    lastReorgDepth: intField(o, 'lastReorgDepth', key),
    totalSynced: intField(o, 'totalSynced', key),
    updatedAt: intField(o, 'updatedAt', key),
    headersOnly: o.headersOnly === true,
  }
  return p
}

export function encodeChain(c: ChainIdentity): Bytes {
  return textValue(
    JSON.stringify({
      version: RECORD_VERSION,
      name: c.name,
      chainId: c.chainId.toString(),
      genesisHash: bytesToHex(c.genesisHash),
      ...(c.forkConfig === undefined ? {} : { forkConfig: c.forkConfig }),
    }),
  )
}

export function decodeChain(value: Bytes, key: string): ChainIdentity {
  const o = parseObject(value, key)
  if (o.version !== RECORD_VERSION) throw corrupt(key, `unknown version ${String(o.version)}`)
  if (typeof o.name !== 'string') throw corrupt(key, 'name must be a string')
  if (typeof o.chainId !== 'string' || !/^\d+$/.test(o.chainId)) throw corrupt(key, 'chainId must be a decimal string')
  if (o.forkConfig !== undefined && typeof o.forkConfig !== 'string') throw corrupt(key, 'forkConfig must be a string')
  return {
    name: o.name,
    chainId: BigInt(o.chainId),
    genesisHash: hashField(o, 'genesisHash', key),
    ...(o.forkConfig === undefined ? {} : { forkConfig: o.forkConfig }),
  }
}

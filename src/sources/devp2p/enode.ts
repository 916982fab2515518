/** enode URLs: `enode://<node id, 128 hex chars>@<host>:<tcp port>[?discport=<udp port>]`. */
import { ConfigError } from '../../errors.js'
import { bytesToHex, hexToBytes, type Bytes } from '../../primitives/bytes.js'

export interface Enode {
  /** 64-byte uncompressed secp256k1 public key without the 0x04 prefix. */
  id: Bytes
  host: string
  tcpPort: number
  udpPort: number
}

const ENODE_RE = /^enode:\/\/([0-9a-fA-F]{128})@(\[[0-9a-fA-F:.]+\]|[^:/?#[\]@]+):(\d{1,5})(?:\?discport=(\d{1,5}))?$/

function port(text: string, url: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError('BAD_ENODE', `port ${text} out of range in ${url}`)
  return n
}

export function parseEnode(url: string): Enode {
  const m = ENODE_RE.exec(url.trim())
  if (!m) throw new ConfigError('BAD_ENODE', `not an enode URL: ${url}`, { details: { url } })
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2]
  const tcpPort = port(m[3], url)
  return { id: hexToBytes(m[1]), host, tcpPort, udpPort: m[4] === undefined ? tcpPort : port(m[4], url) }
}

export function formatEnode(e: Enode): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host
  const disc = e.udpPort === e.tcpPort ? '' : `?discport=${e.udpPort}`
  return `enode://${bytesToHex(e.id).slice(2)}@${host}:${e.tcpPort}${disc}`
}

/** Node id as the pool keys peers and bans: lowercase hex without 0x. */
export function nodeIdHex(id: Bytes): string {
  return bytesToHex(id).slice(2)
}

/** devp2p source: eth/66-69 peers over RLPx (`@ethereumjs/devp2p` transport). */
export { Devp2pPool, type Devp2pPoolOptions, type Devp2pPoolStats } from './pool.js'
export { Devp2pPeer, type Devp2pPeerStats, type KindStats } from './peer.js'
export { Devp2pErrorCode, PEER_FAULT_CODES } from './errors.js'
export { parseEnode, formatEnode, type Enode } from './enode.js'
export { ETH_VERSIONS, type EthVersion, type ForkId, type RequestKind } from './messages.js'
export { DEFAULT_RATE_SETTINGS, type RateSettings } from './rate.js'
export { MAX_ETH_MESSAGE_BYTES, generateNodeKey, nodeIdOf } from './transport.js'
export type { ForkFilter, EthRequestHandler, ServeContext } from './wire.js'

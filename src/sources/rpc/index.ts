/** JSON-RPC source: endpoints (`--rpc URL`, repeatable) rebuilt into the same raw RLP as devp2p peers serve. */
export { RpcPool, RPC_POOL_DEFAULTS, type RpcPoolOptions } from './pool.js'
export { RpcEndpoint, RPC_ENDPOINT_DEFAULTS, MAX_ITEMS_PER_CALL, redactUrl, type RpcEndpointOptions } from './endpoint.js'
export { RpcError, RpcErrorCode, type RpcErrorCodeValue } from './errors.js'
export { EndpointScore, DEFAULT_SCORE_OPTIONS, type ScoreOptions, type ScoreSnapshot } from './score.js'
export { rebuildBlock, rebuildBody, rebuildHeader, rebuildReceipts, rebuildTransaction, checkHeaderHash } from './rebuild.js'

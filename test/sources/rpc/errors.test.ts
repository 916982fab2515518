import { describe, expect, it } from 'vitest'
import { SourceError } from '../../../src/errors.js'
import { redactUrl } from '../../../src/sources/rpc/endpoint.js'
import { RpcError, RpcErrorCode, classifyHttpStatus, classifyJsonRpcError, parseRetryAfter } from '../../../src/sources/rpc/errors.js'
import { EndpointScore } from '../../../src/sources/rpc/score.js'

describe('JSON-RPC error classification', () => {
  it('rate limits by code, by provider message, with back-off hints from error.data', () => {
    const cases: Array<[number, string, unknown, number | undefined]> = [
      [-32005, 'limit exceeded', undefined, undefined],
      [-32000, 'Your app has exceeded its compute units per second capacity', undefined, undefined],
      [-32016, 'Too Many Requests', { retryAfter: 2 }, 2000],
      [429, 'rate limit', { backoff_seconds: 0.5 }, 500],
    ]
    for (const [code, message, data, retryAfterMs] of cases) {
      const err = classifyJsonRpcError({ code, message, data }, 'eth_getBlockByNumber')!
      expect(err.code).toBe(RpcErrorCode.RateLimited)
      expect(err.retryable).toBe(true)
      expect(err.fault).toBeUndefined()
      expect(err.retryAfterMs).toBe(retryAfterMs)
      expect(err).toBeInstanceOf(SourceError)
    }
  })

  it('method not found by code and by message; "block not found" means "don`t have it"', () => {
    expect(classifyJsonRpcError({ code: -32601, message: 'Method not found' }, 'eth_getBlockReceipts')?.code).toBe(RpcErrorCode.MethodNotFound)
    expect(classifyJsonRpcError({ code: -32000, message: 'the method eth_getBlockReceipts does not exist/is not available' }, 'm')?.code).toBe(RpcErrorCode.MethodNotFound)
    for (const message of ['header not found', 'block not found', 'unknown block', 'receipts not found']) {
      expect(classifyJsonRpcError({ code: -32000, message }, 'eth_getBlockByNumber')).toBeUndefined()
    }
    const other = classifyJsonRpcError({ code: -32603, message: 'internal error' }, 'eth_getBlockByNumber')!
    expect({ code: other.code, retryable: other.retryable, fault: other.fault }).toEqual({ code: RpcErrorCode.ServerError, retryable: true, fault: 'useless' })
    expect(other.details).toMatchObject({ method: 'eth_getBlockByNumber', rpcCode: -32603 })
  })

  it('HTTP statuses: 429 with Retry-After, 413 too large, 5xx retryable, 4xx not', () => {
    expect(classifyHttpStatus(429, '7')).toMatchObject({ code: RpcErrorCode.RateLimited, retryAfterMs: 7000, retryable: true })
    expect(classifyHttpStatus(413, null)).toMatchObject({ code: RpcErrorCode.ResponseTooLarge, retryable: true })
    expect(classifyHttpStatus(502, null)).toMatchObject({ code: RpcErrorCode.HttpStatus, retryable: true, fault: 'useless' })
    expect(classifyHttpStatus(401, null)).toMatchObject({ code: RpcErrorCode.HttpStatus, retryable: false, fault: 'useless' })
  })

  it('Retry-After as seconds or an HTTP date; garbage is ignored', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('1.5', now)).toBe(1500)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })

  it('withContext keeps code, hints and fault', () => {
    const err = new RpcError(RpcErrorCode.RateLimited, 'slow down', { retryable: true, retryAfterMs: 5, details: { a: 1 } }).withContext('block 0x5', { number: '0x5' })
    expect(err.message).toBe('block 0x5: slow down')
    expect(err.toJSON()).toEqual({ code: RpcErrorCode.RateLimited, message: 'block 0x5: slow down', details: { a: 1, retryAfterMs: 5, number: '0x5' } })
  })
})

describe('endpoint ids and scores', () => {
  it('ids carry no credentials: user info, query strings and key-like path segments are dropped', () => {
    expect(redactUrl('https://user:secret@eth.example.com:8545/v3/0123456789abcdef0123456789abcdef?key=xyz')).toBe('https://eth.example.com:8545/v3/***')
    expect(redactUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545')
    expect(redactUrl('not a url')).toBe('invalid-url')
  })

  it('back-off doubles per consecutive failure, honours (bounded) Retry-After, resets on success; bans are separate', () => {
    const s = new EndpointScore({ backoffBaseMs: 100, backoffMaxMs: 1000, retryAfterMaxMs: 5000, banMs: 60_000 })
    const now = 1_000_000
    const timeout = new RpcError(RpcErrorCode.Timeout, 't', { retryable: true, fault: 'timeout' })
    s.recordFailure(timeout, now)
    expect(s.readyAt()).toBe(now + 100)
    s.recordFailure(timeout, now)
    expect(s.readyAt()).toBe(now + 200)
    s.recordFailure(new RpcError(RpcErrorCode.RateLimited, 'r', { retryable: true, retryAfterMs: 3_600_000 }), now)
    expect(s.readyAt()).toBe(now + 5000) // a server cannot park us for an hour
    expect(s.isReady(now + 4999)).toBe(false)
    s.recordSuccess()
    expect(s.isReady(now)).toBe(true)
    expect(s.snapshot()).toMatchObject({ failures: 3, consecutiveFailures: 0, requests: 4 })
    s.recordFailure(new RpcError(RpcErrorCode.Aborted, 'a'), now)
    expect(s.snapshot().failures).toBe(3) // our own abort is not the endpoint's failure
    s.recordFailure(new RpcError(RpcErrorCode.RebuildFailed, 'worker died', { retryable: true }), now)
    expect(s.snapshot().failures).toBe(3) // nor is a rebuild worker that died
    s.ban(now)
    expect(s.isBanned(now + 59_999)).toBe(true)
    expect(s.isReady(now + 60_000)).toBe(true)
  })

  it('a faster, more reliable endpoint scores higher; queued work lowers the score', () => {
    const fast = new EndpointScore()
    const slow = new EndpointScore()
    fast.recordLatency(10)
    slow.recordLatency(200)
    expect(fast.value()).toBeGreaterThan(slow.value())
    expect(fast.value(3)).toBeLessThan(fast.value(0))
    const before = fast.value()
    fast.recordFailure(new RpcError(RpcErrorCode.ServerError, 'x', { retryable: true }))
    expect(fast.value()).toBeLessThan(before * 0.7) // success rate 0.8, squared
  })
})

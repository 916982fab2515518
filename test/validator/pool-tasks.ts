/** Task functions for the worker pool tests (run inside worker threads). */
import { threadId } from 'node:worker_threads'
import { ValidationError } from '../../src/errors.js'

export function echo(input: { value: number }): { value: number; threadId: number } {
  return { value: input.value, threadId }
}

export function exitHard(): never {
  process.exit(3)
}

/** Throws outside the task's promise chain: an uncaught exception kills the thread. */
export function throwUncaught(): Promise<never> {
  setTimeout(() => {
    throw new Error('uncaught in worker')
  })
  return new Promise(() => {})
}

export function fail(): never {
  throw new ValidationError('TEST_FAILURE', 'the task failed on purpose', { details: { reason: 'test' } })
}

/** Blocks its thread until the test stores 1 in `flag[0]`: a task that is certainly running. */
export function waitForFlag(input: { flag: SharedArrayBuffer }): string {
  const flag = new Int32Array(input.flag)
  Atomics.store(flag, 1, 1) // tell the test the task started
  Atomics.notify(flag, 1)
  Atomics.wait(flag, 0, 0)
  return 'released'
}

/** Stores 1 in `flag[0]` and wakes whoever waits on it: proof that the task ran. */
export function markRan(input: { flag: SharedArrayBuffer }): string {
  const flag = new Int32Array(input.flag)
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
  return 'ran'
}

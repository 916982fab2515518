/**
 * A small typed pool of worker threads for CPU-bound work (block validation). A task names a
 * function by module URL and export name; the worker imports the module once and calls the function
 * with the input, so new kinds of work need no change here. Each worker runs one task at a time;
 * tasks queue in FIFO order. Up to `tasksPerWorker` tasks are handed to a worker ahead of its
 * replies: it starts the next one as soon as it finishes, even while the main thread is busy (a
 * large network message, a store write) and has not read the previous reply yet.
 *
 * Failures are typed: a task that throws rejects with WORKER_TASK_FAILED (the worker lives on); a
 * worker that dies (uncaught error, process.exit, out of memory) rejects its running task with
 * WORKER_CRASHED and is replaced, so the pool keeps its size; the tasks handed to it behind the
 * running one go back to the front of the queue. `close()` lets running tasks finish, rejects
 * queued ones and terminates every worker.
 */
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { type ResourceLimits, Worker } from 'node:worker_threads'
import { type ErrorOptions, SyncerError } from '../errors.js'

export const WorkerPoolErrorCode = {
  /** The task function threw; `details` carry its name, code and message. */
  TaskFailed: 'WORKER_TASK_FAILED',
  /** The worker running the task died; the pool replaced it. */
  Crashed: 'WORKER_CRASHED',
  Closed: 'WORKER_POOL_CLOSED',
  QueueFull: 'WORKER_POOL_QUEUE_FULL',
} as const

export class WorkerPoolError extends SyncerError {
  constructor(code: (typeof WorkerPoolErrorCode)[keyof typeof WorkerPoolErrorCode], message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** A function that workers can run: `export` of the ES module at `module` (a file URL). */
export interface TaskRef<In, Out> {
  readonly module: string
  readonly export: string
  /** Type-only: ties the input and output types to the reference. */
  readonly __types?: (input: In) => Out
}

export function taskRef<In, Out>(module: string | URL, exportName: string): TaskRef<In, Out> {
  return { module: module.toString(), export: exportName }
}

const loaded = new Map<string, Promise<unknown>>()

/** Imports `ref.export` of `ref.module` once per thread; rejects if it is not a function. */
export function importFunction<F>(ref: { module: string; export: string }): Promise<F> {
  const key = `${ref.module}#${ref.export}`
  let fn = loaded.get(key)
  if (!fn) {
    fn = import(ref.module).then((mod: Record<string, unknown>) => {
      const f = mod[ref.export]
      if (typeof f !== 'function') throw new TypeError(`${ref.module} has no exported function ${ref.export}`)
      return f
    })
    loaded.set(key, fn)
  }
  return fn as Promise<F>
}

// Moving an ArrayBuffer detaches it, and V8's first detach in an isolate throws away every
// optimised function that reads typed arrays (they were compiled assuming no buffer is ever
// detached). Pools move buffers both ways, so detach one empty buffer as this module loads, in the
// main thread and in each worker, before anything is hot: code is then optimised once, with the
// checks. Measured in a devp2p sync: 46 functions were deoptimised and recompiled mid-run.
const detached = new ArrayBuffer(0)
structuredClone(detached, { transfer: [detached] })

const TRANSFER = '__evmSyncerTransfer'

/** A task result whose ArrayBuffers are moved (not copied) back to the caller. */
export interface WithTransfer<T> {
  readonly [TRANSFER]: true
  readonly value: T
  readonly transfer: ArrayBuffer[]
}

export function withTransfer<T>(value: T, transfer: ArrayBuffer[]): WithTransfer<T> {
  return { [TRANSFER]: true, value, transfer }
}

export function isWithTransfer(v: unknown): v is WithTransfer<unknown> {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[TRANSFER] === true
}

export interface WorkerErrorReply {
  id: number
  ok: false
  error: { name: string; code?: string; message: string; details?: Record<string, unknown>; stack?: string }
}

/** What a worker posts: once `ready` after start-up, then one reply per task. */
export type WorkerReply = { ready: true } | { id: number; ok: true; value: unknown } | WorkerErrorReply

export interface WorkerRequest {
  id: number
  module: string
  export: string
  input: unknown
}

export interface WorkerPoolOptions {
  /** Number of worker threads; default: available cores. */
  size?: number
  /** Tasks waiting (not yet running) before `run` rejects with WORKER_POOL_QUEUE_FULL; default unbounded. */
  maxQueue?: number
  /** Tasks handed to one worker at a time (the running one included); default 4. */
  tasksPerWorker?: number
  /** Per-worker heap limits (a worker that exceeds them crashes and is replaced). */
  resourceLimits?: ResourceLimits
  /** Worker script; default the pool's own entry. It must answer like pool-worker does. */
  entry?: URL
  /**
   * Task functions each worker imports as it starts, before it reports ready: the first task then
   * does not wait for module loading, and a module that fails to load is a start-up failure.
   */
  preload?: readonly TaskRef<never, unknown>[]
}

/** What a worker receives as `workerData`. */
export interface WorkerStartData {
  preload: ReadonlyArray<{ module: string; export: string }>
}

interface Job {
  request: WorkerRequest
  transfer: ArrayBuffer[]
  /** The caller's promise, settled through resolve/reject. */
  promise: Promise<unknown>
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  /** Tasks handed to the worker, in order; the first is running, the worker answers in order. */
  jobs: Job[]
  /** The worker finished loading; a crash before that is a start-up failure. */
  ready: boolean
  /** Resolves when the thread has exited. */
  exited: Promise<void>
}

/** The worker entry beside this module: the .ts source under tsx/vitest, the built .js otherwise. */
const DEFAULT_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './pool-worker.ts' : './pool-worker.js', import.meta.url)

/** Starts a worker; a TypeScript entry (tests, tsx) runs through the tsx loader. */
function startWorker(entry: URL, resourceLimits: ResourceLimits | undefined, workerData: WorkerStartData): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { resourceLimits, workerData })
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs')
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(bootstrap, { eval: true, resourceLimits, workerData })
}

const MAX_FAILED_STARTS = 3
/**
 * Four tasks ahead: a validation batch takes ~40 ms, so a worker keeps busy through ~120 ms of main
 * thread work before it idles; more would only unbalance the workers.
 */
const DEFAULT_TASKS_PER_WORKER = 4

export class WorkerPool {
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private closing: Promise<void> | undefined
  private readonly maxQueue: number
  private readonly tasksPerWorker: number
  /** Workers that died before becoming ready, in a row; at MAX_FAILED_STARTS the pool gives up. */
  private failedStarts = 0
  private broken: WorkerPoolError | undefined
  /** Callers of `ready()` waiting for every worker to finish loading. */
  private readyWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = []

  constructor(private readonly options: WorkerPoolOptions = {}) {
    const size = options.size ?? availableParallelism()
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`worker pool size must be a positive integer, got ${size}`)
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY
    this.tasksPerWorker = options.tasksPerWorker ?? DEFAULT_TASKS_PER_WORKER
    if (!Number.isInteger(this.tasksPerWorker) || this.tasksPerWorker < 1) throw new RangeError(`tasksPerWorker must be a positive integer, got ${this.tasksPerWorker}`)
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  /** Worker threads currently alive. */
  get size(): number {
    return this.slots.length
  }

  /**
   * Resolves once every worker has loaded (its preloaded modules included): for measurements that
   * must not count start-up. Rejects if the workers cannot start or the pool closes first.
   */
  ready(): Promise<void> {
    if (this.broken) return Promise.reject(this.broken)
    if (this.closing) return Promise.reject(new WorkerPoolError(WorkerPoolErrorCode.Closed, 'worker pool is closed'))
    if (this.slots.every((slot) => slot.ready)) return Promise.resolve()
    // Waiting keeps the process alive, as a running task does.
    for (const slot of this.slots) slot.worker.ref()
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  /** Settles the `ready()` callers: with `err`, or when every worker is ready. */
  private settleReady(err?: WorkerPoolError): void {
    if (!err && !this.slots.every((slot) => slot.ready)) return
    for (const slot of this.slots) if (slot.jobs.length === 0) slot.worker.unref()
    for (const waiter of this.readyWaiters.splice(0)) {
      if (err) waiter.reject(err)
      else waiter.resolve()
    }
  }

  /** Tasks not running yet (in the pool's queue or handed to a busy worker). */
  get queued(): number {
    let ahead = 0
    for (const slot of this.slots) ahead += Math.max(0, slot.jobs.length - 1)
    return this.queue.length + ahead
  }

  /** Runs `task(input)` on a worker. `transfer` lists ArrayBuffers of `input` to move instead of copy. */
  run<In, Out>(task: TaskRef<In, Out>, input: In, transfer: ArrayBuffer[] = []): Promise<Out> {
    if (this.closing) return Promise.reject(new WorkerPoolError(WorkerPoolErrorCode.Closed, 'worker pool is closed'))
    if (this.broken) return Promise.reject(this.broken)
    if (this.queued >= this.maxQueue) {
      return Promise.reject(new WorkerPoolError(WorkerPoolErrorCode.QueueFull, `worker pool queue is full (${this.maxQueue} tasks)`, { retryable: true }))
    }
    const request: WorkerRequest = { id: this.nextId++, module: task.module, export: task.export, input }
    let resolve!: (value: unknown) => void
    let reject!: (err: Error) => void
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res
      reject = rej
    })
    this.queue.push({ request, transfer, promise, resolve, reject })
    this.dispatch()
    return promise as Promise<Out>
  }

  /** Lets running tasks finish, rejects queued ones, and terminates every worker. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    const notStarted = () => new WorkerPoolError(WorkerPoolErrorCode.Closed, 'worker pool closed before the task started')
    this.settleReady(new WorkerPoolError(WorkerPoolErrorCode.Closed, 'worker pool closed before its workers were ready'))
    for (const job of this.queue.splice(0)) job.reject(notStarted())
    for (const slot of this.slots) for (const job of slot.jobs.slice(1)) job.reject(notStarted())
    await Promise.all(
      this.slots.map(async (slot) => {
        // Let the running task finish (its caller sees the outcome either way).
        await slot.jobs[0]?.promise.catch(() => undefined)
        await slot.worker.terminate()
        await slot.exited
      }),
    )
    this.slots.length = 0
  }

  private spawn(): Slot {
    const preload = (this.options.preload ?? []).map((ref) => ({ module: ref.module, export: ref.export }))
    const worker = startWorker(this.options.entry ?? DEFAULT_ENTRY, this.options.resourceLimits, { preload })
    let exited!: () => void
    const slot: Slot = { worker, jobs: [], ready: false, exited: new Promise<void>((r) => (exited = r)) }
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply))
    worker.on('error', (err) => this.onCrash(slot, err))
    worker.on('exit', (code) => {
      exited()
      this.onCrash(slot, new Error(`worker exited with code ${code}`))
    })
    // An idle pool must not keep the process alive; dispatch() refs a worker while it runs a task,
    // and ready() while it waits (a replacement for a worker that failed to start included).
    if (this.readyWaiters.length === 0) worker.unref()
    return slot
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if ('ready' in reply) {
      slot.ready = true
      this.failedStarts = 0
      this.settleReady()
      return
    }
    const job = slot.jobs[0]
    if (!job || job.request.id !== reply.id) return
    slot.jobs.shift()
    if (slot.jobs.length === 0) slot.worker.unref()
    if (reply.ok) job.resolve(reply.value)
    else {
      const e = reply.error
      job.reject(
        new WorkerPoolError(WorkerPoolErrorCode.TaskFailed, `${e.name}: ${e.message}`, {
          details: { name: e.name, code: e.code, message: e.message, details: e.details, stack: e.stack },
        }),
      )
    }
    this.dispatch()
  }

  /** A worker died (error event, or exit outside close): fail its task and replace it. */
  private onCrash(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot)
    if (index < 0) return // already handled (an error event is followed by an exit event)
    const [job, ...waiting] = slot.jobs.splice(0)
    if (this.closing) {
      job?.reject(new WorkerPoolError(WorkerPoolErrorCode.Closed, 'worker pool closed while the task ran', { cause: err }))
      return
    }
    this.slots.splice(index, 1)
    void slot.worker.terminate()
    job?.reject(new WorkerPoolError(WorkerPoolErrorCode.Crashed, `worker crashed: ${err.message}`, { retryable: true, cause: err }))
    // Tasks handed over behind the running one never started: another worker takes them first.
    this.queue.unshift(...waiting)
    if (!slot.ready && ++this.failedStarts >= MAX_FAILED_STARTS) {
      // Workers that cannot even start (missing build, broken install) would be respawned forever.
      this.broken = new WorkerPoolError(WorkerPoolErrorCode.Crashed, `worker threads fail to start: ${err.message}`, { cause: err })
      for (const queued of this.queue.splice(0)) queued.reject(this.broken)
      this.settleReady(this.broken)
      return
    }
    this.slots.push(this.spawn())
    this.dispatch()
  }

  /** Hands queued tasks to the least loaded workers, up to `tasksPerWorker` each. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let target: Slot | undefined
      for (const slot of this.slots) if (slot.jobs.length < this.tasksPerWorker && (!target || slot.jobs.length < target.jobs.length)) target = slot
      if (!target) return
      const job = this.queue.shift()!
      target.jobs.push(job)
      // Keep the process alive while a task runs; an idle pool does not hold it open.
      target.worker.ref()
      target.worker.postMessage(job.request, job.transfer)
    }
  }
}

/**
 * Worker-thread entry of WorkerPool: imports each task's module once, runs the named export on the
 * input (one task at a time, in the order received) and posts the result (moving the ArrayBuffers
 * a task marks with `withTransfer`). A thrown error is reported as a reply; anything that kills the
 * thread is detected by the pool.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type WorkerErrorReply, importFunction, isWithTransfer, type WorkerReply, type WorkerRequest, type WorkerStartData } from './pool.js'

function errorReply(id: number, err: unknown): WorkerErrorReply {
  if (!(err instanceof Error)) return { id, ok: false, error: { name: 'Error', message: String(err) } }
  const { code, details } = err as { code?: unknown; details?: unknown }
  return {
    id,
    ok: false,
    error: {
      name: err.name,
      code: typeof code === 'string' ? code : undefined,
      message: err.message,
      details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : undefined,
      stack: err.stack,
    },
  }
}

if (!parentPort) throw new Error('pool-worker must run in a worker thread')
const port = parentPort

async function handle(req: WorkerRequest): Promise<void> {
  try {
    const fn = await importFunction<(input: unknown) => unknown>(req)
    const result = await fn(req.input)
    if (isWithTransfer(result)) port.postMessage({ id: req.id, ok: true, value: result.value } satisfies WorkerReply, result.transfer)
    else port.postMessage({ id: req.id, ok: true, value: result } satisfies WorkerReply)
  } catch (err) {
    const reply = errorReply(req.id, err)
    try {
      port.postMessage(reply)
    } catch {
      // Details that cannot be cloned are dropped rather than leaving the task unanswered.
      port.postMessage({ ...reply, error: { ...reply.error, details: undefined } })
    }
  }
}

// The pool hands over several tasks at once; they run one after another, in order (an async task
// must not interleave with the next one), after the preloaded modules.
const preload = (workerData as WorkerStartData | undefined)?.preload ?? []
let previous: Promise<void> = Promise.all(preload.map((ref) => importFunction(ref))).then(() => undefined)
port.on('message', (req: WorkerRequest) => {
  previous = previous.then(() => handle(req))
})

// A module that fails to load ends the thread before `ready`: the pool counts a failed start.
await previous
port.postMessage({ ready: true } satisfies WorkerReply)

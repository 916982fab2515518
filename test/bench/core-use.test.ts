/** The core-use sampler on a real child process whose worker thread burns a known amount of CPU. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { expect, it } from 'vitest'
import { CoreSampler, coreUseLine, processTree } from '../../bench/lib/core-use.js'

// The worker spins until the process has used 300 ms of CPU, tells the main thread and stays alive
// (listening); the main thread then spends 200 ms of system time (reading /proc/self/smaps is work
// done in the kernel), prints its pid and waits for stdin to close: every sample below is taken while
// all the process's threads still exist.
const script = `
const { Worker } = require('node:worker_threads')
const { readFileSync } = require('node:fs')
const burn = "const { parentPort } = require('node:worker_threads'); const start = process.cpuUsage(); let x = 0; " +
  'while (process.cpuUsage(start).user + process.cpuUsage(start).system < 300000) for (let i = 0; i < 1e4; i++) x += Math.sqrt(i); ' +
  "parentPort.postMessage(x); parentPort.on('message', () => {})"
const worker = new Worker(burn, { eval: true })
worker.once('message', () => {
  const start = process.cpuUsage().system
  while (process.cpuUsage().system - start < 200000) readFileSync('/proc/self/smaps')
  process.stdout.write(String(process.pid))
})
process.stdin.once('end', () => worker.terminate())
process.stdin.resume()
`

it('reads each thread of a process tree over a window: the burning worker is the busiest thread besides main, the main thread ran in the kernel', async () => {
  // Under GNU time, as the harness runs clients: node is a child of the sampled process.
  const child = spawn('/usr/bin/time', ['-o', '/dev/null', process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    const sampler = new CoreSampler()
    sampler.sample(processTree(child.pid!))
    const from = performance.now()
    const [nodePid] = (await once(child.stdout!, 'data')) as [Buffer]
    const tree = processTree(child.pid!)
    expect(tree).toEqual([child.pid, Number(nodePid.toString())])
    sampler.sample(tree)
    const use = sampler.window(from)!
    expect(use.cores).toBeGreaterThanOrEqual(1)
    expect(use.seconds).toBeGreaterThan(0)
    const main = use.threads.find((t) => t.thread === `main ${nodePid.toString()}`)
    expect(main).toBeDefined()
    // process.cpuUsage counts the whole process, so the worker itself ran at most 300 ms of it.
    const busiest = use.threads.find((t) => t !== main)!
    expect(busiest.runSeconds).toBeGreaterThan(0.1)
    expect(busiest.runSeconds).toBeLessThanOrEqual(0.35)
    expect(use.threads.every((t) => t.runSeconds >= 0 && t.waitSeconds >= 0 && t.kernelSeconds >= 0)).toBe(true)
    // Kernel time comes in 10 ms ticks: the main thread's 200 ms read as at least 150 ms, and no
    // thread's kernel part exceeds its run by more than a tick or two.
    expect(main!.kernelSeconds).toBeGreaterThanOrEqual(0.15)
    expect(use.threads.every((t) => t.kernelSeconds <= t.runSeconds + 0.02)).toBe(true)
    expect(busiest.kernelSeconds).toBeLessThan(busiest.runSeconds / 2)
    expect(use.idleCoreSeconds).toBeGreaterThanOrEqual(0)
    expect(coreUseLine(use)).toMatch(/busiest thread besides main ran 0\.\d\d s \(0\.\d\d s in the kernel\)/)
    expect(coreUseLine(use)).toMatch(/main thread ran \d\.\d\d s \(0\.[1-9]\d s in the kernel\)/)
  } finally {
    child.stdin!.end()
    await once(child, 'exit')
  }
})

it('has no window before a second sample', () => {
  const sampler = new CoreSampler()
  sampler.sample(processTree(process.pid))
  expect(sampler.window(performance.now())).toBeUndefined()
})

/** Waits for a condition (polling), never for a fixed time: tests must not depend on timing luck. */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: { timeoutMs?: number; what?: string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

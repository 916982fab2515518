/** A task module that notes when its thread loaded it (the WorkerPool preload tests). */
const loadedAt = performance.timeOrigin + performance.now()

export function loadedAtTime(): number {
  return loadedAt
}

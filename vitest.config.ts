import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real servers and peers; two cores, so keep the fan-out small.
    maxWorkers: 2,
    pool: 'forks',
  },
})

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and worker pools; two cores do not like many at once.
    fileParallelism: true,
    maxWorkers: 2,
  },
});

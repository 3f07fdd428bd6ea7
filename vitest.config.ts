import { defineConfig } from 'vitest/config';
import { UNIT_TESTS } from './test/unit-tests.js';

const unitTests = UNIT_TESTS.map((file) => `test/${file}`);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and worker pools; two cores do not like many at once.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: unitTests } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: unitTests } },
    ],
  },
});

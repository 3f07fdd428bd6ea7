// The unit tests: they start no server (no back end, in process or not), no fleet, no command
// line process and no browser, so `npm run test:unit` takes seconds. Every other test file is an
// end-to-end test (`npm run test:e2e`): a new file is one until it is listed here, and
// test/test-split.test.ts checks that a listed file starts none of those.
export const UNIT_TESTS = [
  'backend-process.test.ts',
  'backend-write-batching.test.ts',
  'billing-agreement.property.test.ts',
  'billing-fast-paths.test.ts',
  'billing-registers.test.ts',
  'memberships.test.ts',
  'import-rules.test.ts',
  'meter-numbers.test.ts',
  'oracle-independence.test.ts',
  'oracle.test.ts',
  'periods.test.ts',
  'pricing.test.ts',
  'quote.test.ts',
  'reports-compare.test.ts',
  'reports-histograms.test.ts',
  'reports-imports.test.ts',
  'reports-junit.test.ts',
  'reports-merge.test.ts',
  'reports-terminal.test.ts',
  'reports-thresholds.test.ts',
  'reports-writer.test.ts',
  'scenario-behaviour.test.ts',
  'sim-framing.test.ts',
  'sim-physics.test.ts',
  'tariff-validation.test.ts',
  'test-split.test.ts',
];

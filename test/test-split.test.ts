// `npm run test:unit` and `npm run test:e2e` split the suite: every test file belongs to exactly
// one of them, and a unit test starts no server, fleet, command line process or browser.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UNIT_TESTS } from './unit-tests.js';

const TEST_DIR = import.meta.dirname;

function testFiles(dir = TEST_DIR, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory()) return testFiles(dir, `${name}/`);
    return name.endsWith('.test.ts') ? [name] : [];
  });
}

// What only a test that starts something uses: module specifiers, then imported names.
const STARTERS_FROM = [
  /helpers\/(run-cli|ensure-built|rpc-server|test-charger)\.js$/,
  /^playwright-core$/,
  /^ocpp-rpc$/,
  /^ws$/,
  /^node:(child_process|net|http)$/,
];
const STARTERS_NAMED = /\b(startBackend|runFleet|runScenario|runBench|runCli|ensureBuilt)\b/;

function imports(source: string): Array<{ names: string; from: string }> {
  const found: Array<{ names: string; from: string }> = [];
  for (const m of source.matchAll(/^\s*import\s+([\s\S]*?)\s+from\s+'([^']+)'/gm)) found.push({ names: m[1], from: m[2] });
  for (const m of source.matchAll(/^(?:const|let)\s+([^=]+)=\s*await import\('([^']+)'\)/gm)) found.push({ names: m[1], from: m[2] });
  return found;
}

describe('unit and end-to-end tests', () => {
  it('lists only unit test files that exist, each once', () => {
    const files = new Set(testFiles());
    expect(UNIT_TESTS.filter((file) => !files.has(file))).toEqual([]);
    expect(new Set(UNIT_TESTS).size).toBe(UNIT_TESTS.length);
  });

  it('puts every test file in exactly one of the two commands', () => {
    const unit = new Set(UNIT_TESTS);
    const all = testFiles();
    const e2e = all.filter((file) => !unit.has(file));
    expect([...UNIT_TESTS, ...e2e].sort()).toEqual([...all].sort());
  });

  it('starts nothing in a unit test', () => {
    const starting = UNIT_TESTS.flatMap((file) =>
      imports(readFileSync(join(TEST_DIR, file), 'utf8'))
        .filter(({ names, from }) => STARTERS_FROM.some((re) => re.test(from)) || STARTERS_NAMED.test(names))
        .map(({ from }) => `${file} imports ${from}`),
    );
    expect(starting).toEqual([]);
  });
});

// README, Folders: the oracle in scenarios/ prices ground truth with its own code; it may share types
// with backend/ (`import type`) but never logic. This test fails loudly if that ever changes,
// and proves on in-memory fixtures that its checker really catches each way of breaking it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findBackendImports } from '../scenarios/oracle/independence.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE_FILE = path.join(ROOT, 'scenarios', 'oracle', 'fixture.ts');

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFilesUnder(full);
    return /\.(c|m)?ts$/.test(entry.name) ? [full] : [];
  });
}

const check = (source: string, file = FIXTURE_FILE) => findBackendImports(source, file, ROOT);

describe('scenarios/ never loads back-end code', () => {
  it('every .ts file under scenarios/ imports from backend/ with `import type` only', () => {
    const files = tsFilesUnder(path.join(ROOT, 'scenarios'));
    expect(files).toContain(path.join(ROOT, 'scenarios', 'oracle', 'index.ts')); // the scan is not vacuous
    const violations = files.flatMap((file) => check(readFileSync(file, 'utf8'), file));
    expect(
      violations.map((v) => v.message),
      'scenarios/ must not import back-end logic',
    ).toEqual([]);
  });
});

describe('the import checker', () => {
  const forbidden: [string, string][] = [
    ['named import', "import { priceSession } from '../../backend/billing/pricing.js';"],
    ['namespace import', 'import * as billing from "../../backend/billing/pricing.js"'],
    ['default import', "import pricing from '../../backend/billing/pricing.js'"],
    ['side-effect import', "import '../../backend/billing/pricing.js';"],
    ['mixed type and value specifiers', "import { type Tariff, priceSession } from '../../backend/billing/pricing.js';"],
    ['inline type specifiers only (still loads the module)', "import { type Tariff } from '../../backend/billing/ocpi.js';"],
    ['a default binding named "type"', "import type, { priceSession } from '../../backend/billing/pricing.js';"],
    ['re-export of names', "export { priceSession } from '../../backend/billing/pricing.js';"],
    ['re-export of everything', "export * from '../../backend/billing/ocpi.js';"],
    ['re-export as a namespace', "export * as billing from '../../backend/billing/ocpi.js';"],
    ['dynamic import', "const m = await import('../../backend/billing/pricing.js');"],
    ['dynamic import of a template', 'const m = await import(`../../backend/billing/${name}.js`);'],
    ['require', "const { priceSession } = require('../../backend/billing/pricing.js');"],
    ['import-equals require', "import pricing = require('../../backend/billing/pricing.js');"],
    ['bare package path', "import { priceSession } from 'chargebench/backend/billing/pricing.js';"],
    ['the backend folder itself', "import * as backend from '../../backend';"],
  ];
  it.each(forbidden)('refuses %s', (_, source) => {
    const violations = check(source);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/loads back-end code into scenarios\/.*import type/);
  });

  it('reports file, line and specifier of a multi-line import among allowed ones', () => {
    const source = [
      "import type { Tariff } from '../../backend/billing/ocpi.js';",
      "import { DateTime } from 'luxon';",
      'import {',
      '  priceSession,',
      '} from',
      "  '../../backend/billing/pricing.js';",
    ].join('\n');
    expect(check(source, path.join(ROOT, 'scenarios', 'runner.ts'))).toEqual([]); // ../../ from scenarios/ leaves the repo
    const [violation, ...rest] = check(source);
    expect(rest).toEqual([]);
    expect(violation).toMatchObject({ line: 6, specifier: '../../backend/billing/pricing.js', kind: 'import' });
    expect(violation.message).toMatch(/^scenarios\/oracle\/fixture\.ts:6: import of "\.\.\/\.\.\/backend\/billing\/pricing\.js"/);
  });

  it('resolves relative paths from the importing file', () => {
    expect(check("import { start } from '../backend/server.js';", path.join(ROOT, 'scenarios', 'runner.ts'))).toHaveLength(1);
    expect(check("import { x } from '../../backend/server.js';", path.join(ROOT, 'scenarios', 'library', 'smoke.ts'))).toHaveLength(1);
    expect(check("import { x } from './backend/local.js';", FIXTURE_FILE)).toEqual([]); // scenarios/oracle/backend/ is not backend/
  });

  const allowed: [string, string][] = [
    ['import type', "import type { Tariff, Price } from '../../backend/billing/ocpi.js';"],
    ['import type of a namespace', "import type * as Ocpi from '../../backend/billing/ocpi.js';"],
    ['import type = require', "import type Ocpi = require('../../backend/billing/ocpi.js');"],
    ['export type ... from', "export type { Tariff } from '../../backend/billing/ocpi.js';"],
    ['other modules', "import { DateTime } from 'luxon';\nimport { priceTruth } from './index.js';\nimport { x } from '../../sim/backend-like.js';"],
    ['comments', "// import { priceSession } from '../../backend/billing/pricing.js'\n/* await import('../../backend/x.js') */"],
    ['strings and templates', "const a = \"import { p } from '../../backend/x.js'\";\nconst b = `require('../../backend/x.js')`;"],
    ['a regular expression', "const re = /import\\('..\\/..\\/backend\\/x'\\)/g;"],
    ['starting the back end as a process', "spawn(process.execPath, ['backend/server.js']);"],
    ['local exports and import.meta', 'export const x = 1;\nexport { x as y };\nconst here = import.meta.url;\nconst o = { import: 1 };'],
  ];
  it.each(allowed)('allows %s', (_, source) => {
    expect(check(source)).toEqual([]);
  });
});

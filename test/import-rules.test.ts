// docs/architecture.md: the module rules of the back end and the simulator. The back end's core
// (backend/core/) speaks in meanings and loads no OCPP or HTTP code; sim/ never imports
// backend/; the OCPP 1.6 handlers (backend/ocpp/v16/) are bound to connections by the OCPP
// endpoint alone; the OCPP-J leaf (ocpp-j/) imports nothing else of ours; SQL lives only in
// backend/store/. This test fails loudly if that changes, and proves on in-memory fixtures
// that each kind of break is caught. It reads imports with the oracle-independence parser.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findModuleReferences } from '../scenarios/oracle/independence.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFilesUnder(full);
    return /\.(c|m)?ts$/.test(entry.name) ? [full] : [];
  });
}

/** Where a specifier written in `file` leads: a repository path ("backend/ocpp/v16/x.js"), or a package name. */
function target(specifier: string, file: string): { path: string } | { pkg: string } {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    return {
      path: path
        .relative(ROOT, path.resolve(path.dirname(file), specifier))
        .split(path.sep)
        .join('/'),
    };
  }
  // Bare or aliased paths into the repository: "chargebench/backend/...", "#backend/...".
  const inRepo = /(?:^|\/)((?:backend|sim)(?:\/.*)?)$/.exec(specifier.replace(/^(#|~\/|@\/)/, ''));
  if (inRepo) return { path: inRepo[1] };
  const parts = specifier.split('/');
  return { pkg: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
}

const under = (p: string, folder: string): boolean => p === folder || p.startsWith(`${folder}/`);

/** The HTTP side: the REST API and OCPI. */
const HTTP_CODE = (p: string): boolean => under(p, 'backend/http') || under(p, 'backend/ocpi');
const PROTOCOL_PACKAGES = new Set(['ws', 'express', 'ocpp-rpc']);
const OCPP_ENDPOINT = 'backend/ocpp/endpoint.ts';

interface RuleViolation {
  file: string;
  line: number;
  specifier: string;
  message: string;
}

/** Every module rule one source breaks (`file` is an absolute path in the repository). */
function checkImportRules(source: string, file: string): RuleViolation[] {
  const from = path.relative(ROOT, file).split(path.sep).join('/');
  const out: RuleViolation[] = [];
  for (const ref of findModuleReferences(source)) {
    const to = target(ref.specifier, file);
    const broken = (rule: string) =>
      out.push({ file: from, line: ref.line, specifier: ref.specifier, message: `${from}:${ref.line}: ${ref.kind} of "${ref.specifier}": ${rule}` });
    if (under(from, 'backend/core')) {
      if ('pkg' in to && PROTOCOL_PACKAGES.has(to.pkg)) broken(`the core (backend/core/) uses no protocol or HTTP package (${to.pkg})`);
      if ('path' in to && under(to.path, 'backend/ocpp')) broken('the core (backend/core/) imports no OCPP code: the handlers in backend/ocpp/ call the core');
      if ('path' in to && HTTP_CODE(to.path)) broken('the core (backend/core/) imports no HTTP code: the HTTP API calls the core');
      if ('path' in to && under(to.path, 'ocpp-j')) broken('the core (backend/core/) imports no OCPP code: the OCPP-J leaf is for the transports');
    }
    if (under(from, 'ocpp-j') && 'path' in to && !under(to.path, 'ocpp-j')) broken('the OCPP-J leaf (ocpp-j/) imports nothing else of ours');
    if (under(from, 'sim') && 'path' in to && under(to.path, 'backend')) broken('sim/ never imports backend/ (the simulator is a charger, not a back end)');
    const v16Inside = under(from, 'backend/ocpp/v16') || from === OCPP_ENDPOINT || under(from, 'test');
    if (!v16Inside && 'path' in to && under(to.path, 'backend/ocpp/v16')) {
      broken(`only the OCPP endpoint (${OCPP_ENDPOINT}) imports the OCPP 1.6 handlers in backend/ocpp/v16/`);
    }
  }
  return out.concat(sqlOutsideStore(source, from));
}

// An SQL statement in code: the keywords as SQL is written here, upper case.
const SQL_STATEMENT =
  /\b(?:SELECT\b[^;`'"]*?\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER))\b/;
const COMMENT = /\/\*[\s\S]*?\*\/|\/\/[^\n]*/g;

/** SQL text in a back-end module outside backend/store/, where every statement belongs. */
function sqlOutsideStore(source: string, from: string): RuleViolation[] {
  if (!under(from, 'backend') || under(from, 'backend/store')) return [];
  const lines = source.replace(COMMENT, (c) => c.replace(/[^\n]/g, ' ')).split('\n');
  const out: RuleViolation[] = [];
  lines.forEach((text, i) => {
    const m = SQL_STATEMENT.exec(text);
    if (m)
      out.push({
        file: from,
        line: i + 1,
        specifier: m[0],
        message: `${from}:${i + 1}: SQL "${m[0]}": SQL lives only in backend/store/ (a named read or write there)`,
      });
  });
  return out;
}

const at = (...parts: string[]) => path.join(ROOT, ...parts);

describe('the module rules hold in the repository', () => {
  const files = ['backend', 'sim', 'ocpp-j', 'scenarios', 'bin', 'reports'].flatMap((d) => tsFilesUnder(at(d)));

  it('scans the folders the rules are about (not vacuous)', () => {
    expect(files).toContain(at('backend', 'core', 'csms.ts'));
    expect(files).toContain(at('backend', 'ocpp', 'endpoint.ts'));
    expect(files.some((f) => f.startsWith(at('sim') + path.sep))).toBe(true);
    // The endpoint really is the one importing the 1.6 handlers, and the core really imports something.
    const endpointRefs = findModuleReferences(readFileSync(at('backend', 'ocpp', 'endpoint.ts'), 'utf8'));
    expect(endpointRefs.some((r) => r.specifier.startsWith('./v16/'))).toBe(true);
    expect(findModuleReferences(readFileSync(at('backend', 'core', 'csms.ts'), 'utf8')).length).toBeGreaterThan(0);
  });

  it('no file breaks one', () => {
    const violations = files.flatMap((file) => checkImportRules(readFileSync(file, 'utf8'), file));
    expect(violations.map((v) => v.message)).toEqual([]);
  });
});

describe('the import rule checker', () => {
  const CORE_FILE = at('backend', 'core', 'fixture.ts');
  const broken: [string, string, string, string][] = [
    ['core: an OCPP error', CORE_FILE, "import { OcppRequestError } from '../ocpp/request-error.js';", 'imports no OCPP code'],
    ['core: the OCPP transport, type only', CORE_FILE, "import type { OcppJConnection } from '../ocpp/transport/ocpp-j-server.js';", 'imports no OCPP code'],
    ['core: the OCPP endpoint, dynamically', CORE_FILE, "const m = await import('../ocpp/endpoint.js');", 'imports no OCPP code'],
    ['core: the HTTP app', CORE_FILE, "import { createApi } from '../http/app.js';", 'imports no HTTP code'],
    ['core: an OCPI module, re-exported', CORE_FILE, "export { listCdrs } from '../ocpi/cdrs.js';", 'imports no HTTP code'],
    ['core: the HTTP folder', CORE_FILE, "import { routes } from '../http/routes.js';", 'imports no HTTP code'],
    ['core: the OCPI folder', CORE_FILE, "import '../ocpi/router.js';", 'imports no HTTP code'],
    ['core: ws', CORE_FILE, "import { WebSocket } from 'ws';", 'no protocol or HTTP package (ws)'],
    ['core: express', CORE_FILE, "import express from 'express';", 'no protocol or HTTP package (express)'],
    ['core: ocpp-rpc, required', CORE_FILE, "const { createRPCError } = require('ocpp-rpc');", 'no protocol or HTTP package (ocpp-rpc)'],
    ['core, nested: OCPP code', at('backend', 'core', 'deep', 'x.ts'), "import { x } from '../../ocpp/request-error.js';", 'imports no OCPP code'],
    ['sim: the back end', at('sim', 'fixture.ts'), "import { Dec } from '../backend/billing/money.js';", 'sim/ never imports backend/'],
    [
      'sim, nested: the back end, type only',
      at('sim', 'worker', 'x.ts'),
      "import type { Tariff } from '../../backend/billing/ocpi.js';",
      'sim/ never imports backend/',
    ],
    ['sim: a bare path into the back end', at('sim', 'fixture.ts'), "import { x } from 'chargebench/backend/server.js';", 'sim/ never imports backend/'],
    ['server.ts: a 1.6 handler', at('backend', 'server.ts'), "import { Ocpp16Handlers } from './ocpp/v16/handlers.js';", 'only the OCPP endpoint'],
    [
      'the HTTP API: the 1.6 cost messages',
      at('backend', 'http', 'api.ts'),
      "import type { CostMessageId } from '../ocpp/v16/cost-messages.js';",
      'only the OCPP endpoint',
    ],
    ['the transport: a 1.6 handler', at('backend', 'ocpp', 'transport', 'x.ts'), "import '../v16/handlers.js';", 'only the OCPP endpoint'],
    ['scenarios: a 1.6 handler', at('scenarios', 'x.ts'), "import type { StartConf } from '../backend/ocpp/v16/handlers.js';", 'only the OCPP endpoint'],
    ['core: the OCPP-J leaf', CORE_FILE, "import { CALL } from '../../ocpp-j/index.js';", 'the OCPP-J leaf is for the transports'],
    ['the OCPP-J leaf: the simulator', at('ocpp-j', 'x.ts'), "import { Rng } from '../sim/prng.js';", 'imports nothing else of ours'],
    ['the OCPP-J leaf: the back end', at('ocpp-j', 'x.ts'), "import type { Csms } from '../backend/core/csms.js';", 'imports nothing else of ours'],
    [
      'a route: SQL',
      at('backend', 'http', 'routes', 'x.ts'),
      'const rows = await store.query(`SELECT id FROM sessions WHERE id = ?`);',
      'SQL lives only in backend/store/',
    ],
    ['the core: an insert', CORE_FILE, "const sql = 'INSERT OR IGNORE INTO tokens (id_tag) VALUES (?1)';", 'SQL lives only in backend/store/'],
    ['the core: an update', CORE_FILE, 'db.run("UPDATE sessions SET flags = ?2 WHERE id = ?1");', 'SQL lives only in backend/store/'],
  ];
  it.each(broken)('refuses %s', (_, file, source, message) => {
    const violations = checkImportRules(source, file);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toContain(message);
  });

  it('reports a core import of a 1.6 handler under both rules it breaks', () => {
    const messages = checkImportRules("import { Ocpp16Handlers } from '../ocpp/v16/handlers.js';", CORE_FILE).map((v) => v.message);
    expect(messages).toEqual([expect.stringContaining('imports no OCPP code'), expect.stringContaining('only the OCPP endpoint')]);
  });

  it('reports file, line and specifier', () => {
    const source = ["import type { Tariff } from '../billing/ocpi.js';", '', "import { WebSocketServer } from 'ws';"].join('\n');
    expect(checkImportRules(source, CORE_FILE)).toEqual([
      {
        file: 'backend/core/fixture.ts',
        line: 3,
        specifier: 'ws',
        message: expect.stringMatching(/^backend\/core\/fixture\.ts:3: import of "ws": the core/),
      },
    ]);
  });

  const allowed: [string, string, string][] = [
    [
      'core: billing, the store, CDRs, metering',
      CORE_FILE,
      "import { priceSession } from '../billing/pricing.js';\nimport type { Store } from '../store/store.js';\nimport { buildCdr } from '../cdrs/cdr.js';\nimport { readingOf } from '../metering/sampled-values.js';",
    ],
    ['core: packages that are no protocol', CORE_FILE, "import { Decimal } from 'decimal.js';\nimport path from 'node:path';"],
    ['core: a folder that only starts like ocpp', CORE_FILE, "import { x } from '../ocpp-notes/x.js';\nimport { y } from './ocpp/y.js';"],
    ['core: comments and strings', CORE_FILE, "// import { x } from '../ocpp/v16/handlers.js'\nconst s = \"import 'ws'\";"],
    ['the endpoint: the 1.6 handlers', at('backend', 'ocpp', 'endpoint.ts'), "import { Ocpp16Handlers } from './v16/handlers.js';"],
    ['inside v16: a sibling', at('backend', 'ocpp', 'v16', 'handlers.ts'), "import { meterBatch } from './meter-values.js';"],
    ['a test: the 1.6 handlers', at('test', 'x.test.ts'), "import { Ocpp16Handlers } from '../backend/ocpp/v16/handlers.js';"],
    ['OCPP code: the core', at('backend', 'ocpp', 'v16', 'x.ts'), "import type { Csms } from '../../core/csms.js';"],
    ['sim: its own modules and packages', at('sim', 'fixture.ts'), "import { x } from './backend-like.js';\nimport { WebSocket } from 'ws';"],
    ['the OCPP-J leaf: its own modules and packages', at('ocpp-j', 'index.ts'), "export * from './framing.js';\nimport { Ajv } from 'ajv';"],
    ['the back end: the OCPP-J leaf', at('backend', 'ocpp', 'transport', 'x.ts'), "import { parseIncomingFrame } from '../../../ocpp-j/index.js';"],
    ['the store: SQL', at('backend', 'store', 'x.ts'), 'const sql = `SELECT id FROM sessions WHERE id = ?1`;'],
    [
      'the back end: SQL words in a comment or in prose',
      CORE_FILE,
      "// SELECT id FROM sessions, as the store runs it\nconst hint = 'select the session from the list';",
    ],
  ];
  it.each(allowed)('allows %s', (_, file, source) => {
    expect(checkImportRules(source, file)).toEqual([]);
  });
});

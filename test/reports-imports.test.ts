// reports/ may import nothing from backend/, and from sim/ only types.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', 'reports');

describe('reports/ import rules', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(5);
  });
  for (const f of files) {
    it(`${f} imports nothing from backend/ and only types from sim/`, () => {
      const src = readFileSync(join(dir, f), 'utf8');
      const imports = [...src.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+['"]([^'"]+)['"]/gm)];
      const dynamic = [...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
      for (const m of imports) {
        const spec = m[3];
        expect(spec, `${f}: ${m[0].trim()}`).not.toMatch(/(^|\/)backend\//);
        if (/(^|\/)sim\//.test(spec)) expect(m[2], `${f}: ${m[0].trim()} must be "import type"`).toBeTruthy();
      }
      for (const spec of dynamic) expect(spec).not.toMatch(/(^|\/)(backend|sim)\//);
    });
  }
});

// What a user who installs the package gets (`npm pack --dry-run`): the built code and the launcher,
// declarations for the public entry and whatever they import, and no tests, sources or source maps.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { types: string; exports: { '.': { types: string; default: string } } };
const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as Array<{
  files: Array<{ path: string }>;
}>;
const files = new Set(packed[0].files.map((f) => f.path));
const shipped = (path: string) => files.has(posix.normalize(path.replace(/^\.\//, '')));

describe('the published package', () => {
  it('ships the command line, the built code and the entry with its declarations', () => {
    for (const path of ['bin/chargebench.js', 'dist/bin/cli.js', manifest.exports['.'].default, manifest.exports['.'].types, manifest.types]) {
      expect(shipped(path), path).toBe(true);
    }
  });

  it('ships no tests, no TypeScript sources, no source maps and no reports', () => {
    const unwanted = [...files].filter((path) => /^(test|docs|reports\/out)\//.test(path) || /(?<!\.d)\.ts$/.test(path) || path.endsWith('.map'));
    expect(unwanted).toEqual([]);
  });

  it('ships every declaration file that a shipped declaration imports', () => {
    const missing: string[] = [];
    for (const path of [...files].filter((p) => p.endsWith('.d.ts'))) {
      const text = readFileSync(join(ROOT, path), 'utf8');
      for (const [, spec] of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
        const target = posix.join(dirname(path), `${spec}.d.ts`);
        if (!files.has(target)) missing.push(`${path} imports ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

// Fleet workers run from dist/: a test file run on its own rebuilds when a sim source is newer.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function ensureBuilt(): void {
  const simDir = path.join(ROOT, 'sim');
  const stale = readdirSync(simDir)
    .filter((f) => f.endsWith('.ts'))
    .some((f) => {
      const out = path.join(ROOT, 'dist', 'sim', f.replace(/\.ts$/, '.js'));
      return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(simDir, f)).mtimeMs;
    });
  if (!stale) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // tsc still emits when another folder has a type error; the test then says what broke
  }
}

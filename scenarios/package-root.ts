import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The chargebench package folder, found from this module whether it runs from dist/ or from source. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'chargebench') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the chargebench package folder');
    dir = parent;
  }
}

/** The compiled command line, which the runner starts as the back-end process. */
export function cliEntry(): string {
  return distEntry('bin', 'cli.js');
}

/** A compiled module of the package, to start as a process of its own. */
export function distEntry(...path: string[]): string {
  return join(packageRoot(), 'dist', ...path);
}

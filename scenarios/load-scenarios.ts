// Finds and loads scenario files. Scenario files are TypeScript; they are loaded with tsx so
// that users need no build step for their own scenarios.
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { parseScenario, ScenarioError, type Scenario } from './api.js';

const SCENARIO_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

export function expandScenarioPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const abs = resolve(path);
    let stats;
    try {
      stats = statSync(abs);
    } catch {
      throw new ScenarioError(`scenario not found: ${path} (give a scenario file such as scenarios/library/smoke.ts, or a folder of them)`);
    }
    if (stats.isDirectory()) {
      for (const entry of readdirSync(abs).sort()) {
        if (SCENARIO_EXTENSIONS.has(extname(entry)) && !entry.endsWith('.d.ts')) files.push(join(abs, entry));
      }
    } else {
      files.push(abs);
    }
  }
  if (files.length === 0) throw new ScenarioError(`no scenario files in ${paths.join(', ')}`);
  return files;
}

export async function loadScenario(file: string): Promise<Scenario> {
  let mod: Record<string, unknown>;
  try {
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  } catch (err) {
    throw new ScenarioError(`cannot load scenario ${file}: ${(err as Error).message}`);
  }
  const exported = mod.default ?? mod.scenario;
  if (exported === undefined) {
    throw new ScenarioError(`scenario ${file} exports nothing: write \`export default defineScenario({ ... })\``);
  }
  return parseScenario(exported, file);
}

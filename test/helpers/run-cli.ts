// Runs the built `chargebench` command as a user would, and hands back its exit code and output.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'bin', 'chargebench.js');

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], timeoutMs = 60_000): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    // A non-zero exit has a number; a run killed by the timeout (or that could not start) has none.
    const e = err as { code?: number | string | null; signal?: string | null; stdout?: string; stderr?: string };
    const stderr = `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : `\n(no exit code: ${e.signal ?? e.code ?? 'unknown'})`}`;
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr };
  }
}

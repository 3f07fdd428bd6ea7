// Starts the reference back end as its own process, so that its CPU and memory are measured
// apart from the fleet's and a fault scenario can kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cliEntry } from './package-root.js';
import { processRunQueueWaitMicros, waitBetween } from './cpu-wait.js';

export interface BackendProcess {
  pid: number;
  /** ws://127.0.0.1:PORT/ocpp */
  ocppUrl: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** CPU time (user + system) the process has used so far, microseconds. */
  cpuMicros(): number;
  /** Bytes the process has sent towards storage so far (its database and WAL), or null where unknown. */
  diskWriteBytes(): number | null;
  /** Time its threads have waited for a core so far, microseconds, or null where unknown. */
  runQueueWaitMicros(): number | null;
  stop(): Promise<void>;
  /** Everything the back end printed, for the error message when it dies. */
  output(): string;
}

const READY = /listening on http:\/\/([^\s:]+):(\d+)/;

export async function startBackendProcess(
  dbPath: string,
  opts: { startTimeoutMs?: number; /** Heartbeat interval given to chargers, sim seconds. */ heartbeatIntervalSec?: number } = {},
): Promise<BackendProcess> {
  const extra = opts.heartbeatIntervalSec !== undefined ? ['--heartbeat-interval', String(opts.heartbeatIntervalSec)] : [];
  // A larger young generation: under load the back end allocates per message and minor GCs
  // were a sixth of its time with the default semi-space.
  const child = spawn(process.execPath, ['--max-semi-space-size=32', cliEntry(), 'backend', '--host', '127.0.0.1', '--port', '0', '--db', dbPath, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
  };
  createInterface({ input: child.stderr! }).on('line', remember);
  const port = await new Promise<{ host: string; port: number }>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the back end did not start within ${opts.startTimeoutMs ?? 20_000} ms:\n${lines.join('\n')}`));
    }, opts.startTimeoutMs ?? 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line);
      const match = READY.exec(line);
      if (match) {
        clearTimeout(timer);
        resolvePort({ host: match[1], port: Number(match[2]) });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the back end exited before it was ready (code ${code}, signal ${signal}):\n${lines.join('\n')}`));
    });
  });
  return {
    pid: child.pid!,
    ocppUrl: `ws://${port.host}:${port.port}/ocpp`,
    httpUrl: `http://${port.host}:${port.port}`,
    cpuMicros: () => processCpuMicros(child.pid!),
    diskWriteBytes: () => processDiskWriteBytes(child.pid!),
    runQueueWaitMicros: () => processRunQueueWaitMicros(child.pid!),
    stop: () => stopChild(child),
    output: () => lines.join('\n'),
  };
}

/** What the back end process has used so far, or over a window (the difference of two readings). */
export interface BackendUsage {
  cpuMicros: number;
  diskWriteBytes: number | null;
  runQueueWaitMicros: number | null;
}

export function backendUsage(backend: BackendProcess): BackendUsage {
  return { cpuMicros: backend.cpuMicros(), diskWriteBytes: backend.diskWriteBytes(), runQueueWaitMicros: backend.runQueueWaitMicros() };
}

export function usageBetween(from: BackendUsage, to: BackendUsage): BackendUsage {
  return {
    cpuMicros: to.cpuMicros - from.cpuMicros,
    diskWriteBytes: from.diskWriteBytes !== null && to.diskWriteBytes !== null ? to.diskWriteBytes - from.diskWriteBytes : null,
    runQueueWaitMicros: waitBetween(from.runQueueWaitMicros, to.runQueueWaitMicros),
  };
}

/** utime + stime of a process from /proc, in microseconds (Linux). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself contain spaces, so split after ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SEC;
}
const CLOCK_TICKS_PER_SEC = 100;

/**
 * write_bytes of a process from /proc (Linux): what it dirtied in the page cache of a disk-backed
 * file system, counted when written, not when flushed. A database on tmpfs counts nothing.
 * Null where /proc/PID/io cannot be read.
 */
export function processDiskWriteBytes(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/io`, 'utf8');
  } catch {
    return null;
  }
  return writeBytesOf(text);
}

/** The write_bytes field of a /proc/PID/io text, or null when it has none. */
export function writeBytesOf(ioText: string): number | null {
  const match = /^write_bytes:\s*(\d+)$/m.exec(ioText);
  return match ? Number(match[1]) : null;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

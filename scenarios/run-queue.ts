// How long a process's threads were ready to run but waited for a core (Linux schedstat). On a
// machine short of CPU every answer waits in a run queue somewhere, whatever the code does, so
// a run's latency is read next to this figure.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Run-queue wait of all threads of a process so far, in microseconds; null where /proc has no
 * schedstat. A thread that ended is no longer counted, so differences are clamped at 0.
 */
export function processRunQueueWaitMicros(pid: number): number | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let ns = 0;
  let read = false;
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const wait = runQueueWaitNsOf(text);
    if (wait !== null) {
      ns += wait;
      read = true;
    }
  }
  return read ? Math.round(ns / 1000) : null;
}

/** The second field of a schedstat line: nanoseconds spent runnable, waiting for a core. */
export function runQueueWaitNsOf(schedstat: string): number | null {
  const fields = schedstat.trim().split(/\s+/);
  if (fields.length < 3) return null;
  const ns = Number(fields[1]);
  return Number.isFinite(ns) && ns >= 0 ? ns : null;
}

/** Threads waiting for a core on average over a window: wait micros per wall micro, 2 decimals. */
export function averageWaiting(waitMicros: number | null, windowMs: number): number | null {
  if (waitMicros === null || windowMs <= 0) return null;
  return Math.round((Math.max(0, waitMicros) / (windowMs * 1000)) * 100) / 100;
}

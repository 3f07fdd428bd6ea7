// CPU wait: how long a process's threads were ready to run but waited for a core (Linux schedstat's run-queue wait). On a
// machine short of CPU every answer waits in a run queue somewhere, whatever the code does, so
// a run's latency is read next to this figure.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Run-queue wait of all threads of a process so far, in microseconds; null where /proc has no
 * schedstat, or where the kernel keeps none (every thread reads 0 time on a core). A thread that
 * ended is no longer counted: take both readings while the threads of interest are up.
 */
export function processRunQueueWaitMicros(pid: number): number | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let ns = 0;
  let ran = false;
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const stat = schedstatOf(text);
    if (!stat) continue;
    ns += stat.waitNs;
    if (stat.runNs > 0) ran = true;
  }
  return ran ? Math.round(ns / 1000) : null;
}

/** The wait over a window from two readings; never negative (a thread that ended took its wait along). */
export function waitBetween(from: number | null, to: number | null): number | null {
  return from === null || to === null ? null : Math.max(0, to - from);
}

/** The second field of a schedstat line: nanoseconds spent runnable, waiting for a core. */
export function runQueueWaitNsOf(schedstat: string): number | null {
  return schedstatOf(schedstat)?.waitNs ?? null;
}

/** A schedstat line: nanoseconds on a core, nanoseconds waiting for one, time slices. */
function schedstatOf(text: string): { runNs: number; waitNs: number } | null {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3) return null;
  const runNs = Number(fields[0]);
  const waitNs = Number(fields[1]);
  return Number.isFinite(runNs) && Number.isFinite(waitNs) && waitNs >= 0 ? { runNs, waitNs } : null;
}

/** Threads waiting for a core on average over a window (waitBetween's result): wait micros per wall micro, 2 decimals. */
export function averageWaiting(waitMicros: number | null, windowMs: number): number | null {
  if (waitMicros === null || windowMs <= 0) return null;
  return Math.round((waitMicros / (windowMs * 1000)) * 100) / 100;
}

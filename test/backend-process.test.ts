// Reading the embedded back end's resource use from /proc.
import { describe, expect, it } from 'vitest';
import { processDiskWriteBytes, usageBetween, writeBytesOf } from '../scenarios/backend-process.js';
import { averageWaiting, processRunQueueWaitMicros, runQueueWaitNsOf } from '../scenarios/cpu-wait.js';

const PROC_IO = `rchar: 4096
wchar: 123456
syscr: 10
syscw: 20
read_bytes: 0
write_bytes: 65536
cancelled_write_bytes: 4096
`;

describe('back-end process usage', () => {
  it('takes write_bytes (what reached the storage layer), not wchar or cancelled_write_bytes', () => {
    expect(writeBytesOf(PROC_IO)).toBe(65_536);
    expect(writeBytesOf('rchar: 1\nwchar: 2\n')).toBeNull();
  });

  it('gives a window as the difference of two readings, disk unknown if either reading lacks it', () => {
    expect(
      usageBetween(
        { cpuMicros: 1_000, diskWriteBytes: 4_096, runQueueWaitMicros: 500 },
        { cpuMicros: 3_500, diskWriteBytes: 12_288, runQueueWaitMicros: 2_000 },
      ),
    ).toEqual({ cpuMicros: 2_500, diskWriteBytes: 8_192, runQueueWaitMicros: 1_500 });
    expect(
      usageBetween({ cpuMicros: 0, diskWriteBytes: null, runQueueWaitMicros: null }, { cpuMicros: 10, diskWriteBytes: 4_096, runQueueWaitMicros: 7 }),
    ).toEqual({
      cpuMicros: 10,
      diskWriteBytes: null,
      runQueueWaitMicros: null,
    });
    // A thread that ended takes its wait with it: never a negative window.
    expect(
      usageBetween({ cpuMicros: 0, diskWriteBytes: 0, runQueueWaitMicros: 900 }, { cpuMicros: 1, diskWriteBytes: 0, runQueueWaitMicros: 400 })
        .runQueueWaitMicros,
    ).toBe(0);
  });

  it('reads null for a process that does not exist', () => {
    expect(processDiskWriteBytes(2 ** 22 + 1)).toBeNull();
    expect(processRunQueueWaitMicros(2 ** 22 + 1)).toBeNull();
  });

  it("takes the run-queue wait (schedstat's second field) of every thread, and averages it over a window", async () => {
    expect(runQueueWaitNsOf('812345678 23456789 1234\n')).toBe(23_456_789);
    expect(runQueueWaitNsOf('812345678\n')).toBeNull();
    // Two seconds waited by threads during a four-second window: half a thread waiting on average.
    expect(averageWaiting(2_000_000, 4_000)).toBe(0.5);
    expect(averageWaiting(null, 4_000)).toBeNull();
    // This process: a reading, and one that never goes back. Where /proc has no schedstat, null.
    const before = processRunQueueWaitMicros(process.pid);
    if (before === null) return;
    await new Promise((r) => setTimeout(r, 20));
    expect(processRunQueueWaitMicros(process.pid)!).toBeGreaterThanOrEqual(before);
  });
});

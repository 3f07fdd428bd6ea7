// Reading the embedded back end's resource use from /proc.
import { describe, expect, it } from 'vitest';
import { processDiskWriteBytes, usageBetween, writeBytesOf } from '../scenarios/backend-process.js';

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
    expect(usageBetween({ cpuMicros: 1_000, diskWriteBytes: 4_096 }, { cpuMicros: 3_500, diskWriteBytes: 12_288 })).toEqual({
      cpuMicros: 2_500,
      diskWriteBytes: 8_192,
    });
    expect(usageBetween({ cpuMicros: 0, diskWriteBytes: null }, { cpuMicros: 10, diskWriteBytes: 4_096 }).diskWriteBytes).toBeNull();
  });

  it('reads null for a process that does not exist', () => {
    expect(processDiskWriteBytes(2 ** 22 + 1)).toBeNull();
  });
});

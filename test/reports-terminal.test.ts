import { describe, expect, it } from 'vitest';
import { formatProgressLine, formatTerminalSummary, ProgressDisplay } from '../reports/terminal.js';
import { buildSampleRunReport } from '../reports/sample-report.js';
import type { TimelinePoint } from '../reports/model.js';

function point(sec: number, extra: Partial<TimelinePoint> = {}): TimelinePoint {
  return {
    wallMs: sec * 1000,
    simTime: '2025-03-30T01:00:00.000Z',
    callsPerSec: 1523,
    transactionsPerSec: 12.34,
    chargersConnected: 1980,
    sessionsActive: 312,
    sessionsDone: 1204,
    errors: 2,
    dropped: 0,
    p50: 1.2,
    p90: 5.5,
    p99: 98.24,
    ...extra,
  };
}

class Sink {
  chunks: string[] = [];
  constructor(public isTTY: boolean) {}
  write(s: string) {
    this.chunks.push(s);
    return true;
  }
  get text() {
    return this.chunks.join('');
  }
}

describe('terminal summary', () => {
  it('shows verdict, sessions, billing, throughput, latency per action, checks and thresholds', () => {
    const report = buildSampleRunReport({ durationSec: 10, sessions: 40 });
    const text = formatTerminalSummary(report.summary);
    expect(text).toMatch(/^scenario sample-benchmark {2}✗ FAILED/);
    expect(text).toContain('sessions   truth 40');
    expect(text).toMatch(/billing {4}expected \d+\.\d\d EUR/);
    expect(text).toMatch(/throughput [\d,.]+ calls\/s/);
    expect(text).toMatch(/action\s+count\s+p50\s+p90\s+p99\s+p99\.9\s+max\s+mean/);
    for (const action of Object.keys(report.summary.latencyMs)) expect(text).toContain(action);
    expect(text).toContain('✓ no unexpected sessions');
    expect(text).toMatch(/✗ bills match the oracle/);
    expect(text).toMatch(/[✓✗] latency\.StartTransaction p\(99\)<200 {2}\(actual/);
    expect(text).not.toContain('\x1b[');
    expect(formatTerminalSummary(report.summary, { color: true })).toContain('\x1b[31m');
  });

  it('passing run', () => {
    const s = buildSampleRunReport({ durationSec: 3, sessions: 3, thresholds: {} }).summary;
    s.passed = true;
    expect(formatTerminalSummary(s).split('\n')[0]).toBe('scenario sample-benchmark  ✓ PASSED');
  });
});

describe('progress', () => {
  it('formats one line with elapsed/total and the live figures', () => {
    expect(formatProgressLine(point(25), 60_000)).toBe(
      '[00:25/01:00  41%] chargers 1,980 | sessions 312 active, 1,204 done | 1,523 calls/s | p99 98.2 ms | errors 2 | dropped 0',
    );
  });

  it('off a TTY prints a line every interval of run time, and the last state at the end', () => {
    const sink = new Sink(false);
    const d = new ProgressDisplay({ totalMs: 20_000, stream: sink });
    for (let s = 1; s <= 12; s++) d.update(point(s));
    d.finish();
    const lines = sink.text.trim().split('\n');
    expect(lines.map((l) => l.slice(1, 6))).toEqual(['00:01', '00:06', '00:11', '00:12']);
    expect(sink.text).not.toContain('\x1b[');
  });

  it('on a TTY rewrites one block in place', () => {
    const sink = new Sink(true);
    const d = new ProgressDisplay({ totalMs: 10_000, stream: sink });
    d.update(point(1));
    d.update(point(2, { sessionsDone: 1300 }));
    d.finish();
    expect(sink.chunks[0]).not.toContain('\x1b[');
    expect(sink.chunks[1].startsWith('\x1b[3A\r\x1b[0J')).toBe(true);
    expect(sink.chunks[1]).toContain('1,300 done');
    expect(sink.chunks[1]).toContain('p99 98.2 ms');
    expect(sink.chunks[1].split('\n').filter(Boolean)).toHaveLength(3);
    d.update(point(3));
    expect(sink.chunks).toHaveLength(3); // finished: no more output
  });

  it('interval can be changed and tty forced', () => {
    const sink = new Sink(true);
    const d = new ProgressDisplay({ totalMs: 10_000, stream: sink, tty: false, intervalMs: 2000 });
    for (let s = 1; s <= 5; s++) d.update(point(s));
    expect(sink.chunks).toHaveLength(3);
    expect(d.isTTY).toBe(false);
  });
});

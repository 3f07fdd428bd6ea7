// `chargebench calibrate` end to end: a real answering server process, real sockets on
// loopback, the CPU figures read from the kernel's accounting.
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { formatFloor, type FloorResult } from '../scenarios/transport-floor.js';

describe('chargebench calibrate', () => {
  it('sends calls at the asked rate over every socket and prices each answered call in CPU, client and server apart', async () => {
    const result = await runCli(['calibrate', '--sockets', '40', '--rate', '400', '--duration', '3s', '--warm-up', '1s', '--json'], 60_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const r = JSON.parse(result.stdout) as FloorResult;
    expect(r.sockets).toBe(40);
    expect(r.callsPerSec).toBe(400);
    // The window runs from the end of the warm-up to the end: about 2 s of 400 calls/s.
    expect(r.windowMs).toBeGreaterThan(1_900);
    expect(r.windowMs).toBeLessThan(3_000);
    // Each socket gets a call every 100 ms and is answered long before the next, short of a stall.
    expect(r.skipped).toBeLessThan(0.02 * r.answered);
    expect(r.answered).toBeGreaterThan(0.9 * 400 * (r.windowMs / 1000));
    expect(r.answered).toBeLessThan(1.1 * 400 * (r.windowMs / 1000));
    expect(r.client.cpuMicrosPerCall).toBeGreaterThan(0);
    expect(r.client.userMicrosPerCall + r.client.systemMicrosPerCall).toBeCloseTo(r.client.cpuMicrosPerCall, 6);
    // The server is a process of its own: its CPU is read from /proc, never the client's.
    expect(r.server.cpuMicrosPerCall).toBeGreaterThan(0);
    expect(r.server.cpuMicrosPerCall).not.toBe(r.client.cpuMicrosPerCall);
  });

  it('refuses a warm-up that is not shorter than the run, and a rate one call at a time per socket cannot carry', async () => {
    const warm = await runCli(['calibrate', '--sockets', '10', '--rate', '100', '--duration', '2s', '--warm-up', '2s']);
    expect(warm.code).toBe(2);
    expect(warm.stderr).toMatch(/--warm-up must be shorter than --duration/);

    const crowded = await runCli(['calibrate', '--sockets', '10', '--rate', '5000', '--duration', '2s', '--warm-up', '1s']);
    expect(crowded.code).toBe(2);
    expect(crowded.stderr).toMatch(/every 2\.0 ms; give at least 10 ms each \(more --sockets or a lower --rate\)/);

    const none = await runCli(['calibrate', '--rate', '0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--rate: give calls per second/);
  });

  it('prints the client figure as the floor under the fleet and the server figure as the floor under a CSMS', () => {
    const text = formatFloor({
      sockets: 2000,
      callsPerSec: 6000,
      windowMs: 25_000,
      answered: 150_000,
      skipped: 3,
      client: { cpuMicrosPerCall: 57.04, userMicrosPerCall: 36.4, systemMicrosPerCall: 20.64, threadsWaitingForCpu: 0.14 },
      server: { cpuMicrosPerCall: 52.2, threadsWaitingForCpu: null },
    });
    expect(text).toMatch(/2,000 sockets, 6,000 calls\/s; 150,000 answered in the 25\.0 s window, 3 skipped/);
    expect(text).toMatch(/client +57\.0 µs CPU per call \(user 36\.4 µs, system 20\.6 µs\): the floor under the fleet's cpu\/call/);
    expect(text).toMatch(/server +52\.2 µs CPU per call: the floor under a CSMS's cpu\/call/);
    expect(text).toMatch(/client 0\.14, server unknown/);
  });
});

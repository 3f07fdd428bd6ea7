// `chargebench calibrate` end to end: a real answering server process, real sockets on
// loopback, the CPU figures read from the kernel's accounting.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { formatFloor, measureTransportFloor, type FloorResult } from '../scenarios/transport-floor.js';

/** The pid of this process's child whose command line contains `needle`, once it is up. */
async function childProcess(needle: string, timeoutMs = 10_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) return Number(pid);
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no child process running ${needle}`);
}

describe('chargebench calibrate', () => {
  it('sends calls at the asked rate over every socket and prices each answered call in CPU, client and server apart', async () => {
    const result = await runCli(['calibrate', '--sockets', '40', '--rate', '400', '--duration', '3s', '--warm-up', '1s', '--json'], 50_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const r = JSON.parse(result.stdout) as FloorResult;
    expect(r.sockets).toBe(40);
    expect(r.callsPerSec).toBe(400);
    // The window runs from the end of the warm-up to the end: about 2 s of 400 calls/s.
    expect(r.windowMs).toBeGreaterThan(1_500);
    expect(r.windowMs).toBeLessThan(3_000);
    const planned = 400 * (r.windowMs / 1000);
    expect(r.answered + r.skipped).toBeGreaterThan(0.9 * planned);
    expect(r.answered + r.skipped).toBeLessThan(1.1 * planned);
    // Each socket gets a call every 100 ms and is answered long before the next, short of a stall.
    expect(r.answered).toBeGreaterThan(0.8 * planned);
    expect(r.client.cpuMicrosPerCall).toBeGreaterThan(0);
    expect(r.client.userMicrosPerCall + r.client.systemMicrosPerCall).toBeCloseTo(r.client.cpuMicrosPerCall, 6);
    // The server is a process of its own: its CPU is read from /proc, never the client's.
    expect(r.server.cpuMicrosPerCall).toBeGreaterThan(0);
    expect(r.server.cpuMicrosPerCall).not.toBe(r.client.cpuMicrosPerCall);
    expect(r.server.kind).toBe('bare');
  }, 60_000);

  it("answers through ocpp-rpc's RPCServer in strict mode when asked, and says so", async () => {
    const result = await runCli(['calibrate', '--sockets', '20', '--rate', '200', '--duration', '3s', '--warm-up', '1s', '--server', 'ocpp-rpc'], 50_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    // The kind is the one the server process reported, not an echo of the option.
    expect(result.stdout).toMatch(/and an ocpp-rpc server in strict mode/);
    const answered = /; ([\d,]+) answered in the ([\d.]+) s window/.exec(result.stdout);
    expect(answered).not.toBeNull();
    const planned = 200 * Number(answered![2]);
    expect(Number(answered![1].replace(/,/g, ''))).toBeGreaterThan(0.8 * planned);
    expect(result.stdout).toMatch(/server +\d+\.\d µs CPU per call: ocpp-rpc and its validation, before any CSMS work/);
  }, 60_000);

  it('stops with a clear error, not figures, when the server dies during the run', async () => {
    const run = measureTransportFloor({ sockets: 10, callsPerSec: 100, durationMs: 20_000, warmUpMs: 1_000, server: 'bare' });
    const failed = expect(run).rejects.toThrow(/the floor server exited during the run \(code null, signal SIGKILL\)/);
    const pid = await childProcess('transport-floor-server');
    await new Promise((r) => setTimeout(r, 1_500));
    process.kill(pid, 'SIGKILL');
    await failed;
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
      server: { kind: 'bare', cpuMicrosPerCall: 52.2, threadsWaitingForCpu: null },
    });
    expect(text).toMatch(/and a bare answering server, over loopback/);
    expect(text).toMatch(/2,000 sockets, 6,000 calls\/s; 150,000 answered in the 25\.0 s window, 3 skipped/);
    expect(text).toMatch(/client +57\.0 µs CPU per call \(user 36\.4 µs, system 20\.6 µs\): the floor under the fleet's cpu\/call/);
    expect(text).toMatch(/server +52\.2 µs CPU per call: the floor under a CSMS's cpu\/call/);
    expect(text).toMatch(/client 0\.14, server unknown/);
  });
});

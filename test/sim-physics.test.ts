import { describe, expect, it } from 'vitest';
import { chargePowerW, SessionMeter, whOf, type EvSpec } from '../sim/ev-physics.js';
import { Rng } from '../sim/prng.js';
import { SimClock } from '../sim/sim-clock.js';
import { Scheduler } from '../sim/scheduler.js';

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

function runSession(ev: EvSpec, evseW: number, registerJ: number, startSec: number, interval: number, stopSec: number) {
  const m = new SessionMeter(ev, evseW, registerJ, startSec, interval);
  const samples: number[] = [startSec];
  while (m.nextBoundarySec() <= stopSec) {
    const b = m.nextBoundarySec();
    m.advanceTo(b);
    samples.push(b);
  }
  m.finish(stopSec);
  return { m, samples };
}

describe('EV and meter physics', () => {
  it('full power below 80 %, linear taper above, never zero while charging', () => {
    const cap = 60_000 * 3600;
    expect(chargePowerW(0, cap, 11000)).toBe(11000);
    expect(chargePowerW(Math.floor(cap * 0.79), cap, 11000)).toBe(11000);
    expect(chargePowerW(Math.floor(cap * 0.8), cap, 11000)).toBe(11000);
    expect(chargePowerW(Math.floor(cap * 0.9), cap, 11000)).toBe(5500);
    expect(chargePowerW(cap - 1, cap, 11000)).toBe(550); // floor at 5 % of max
    let prev = Infinity;
    for (let pct = 80; pct < 100; pct++) {
      const p = chargePowerW(Math.floor((cap * pct) / 100), cap, 50000);
      expect(p).toBeLessThanOrEqual(prev);
      expect(Number.isInteger(p)).toBe(true);
      prev = p;
    }
  });

  it('conserves energy exactly over many seeded EVs (integer J, floor Wh)', () => {
    const rng = new Rng('physics-test');
    let tapered = 0;
    let cut = 0;
    for (let i = 0; i < 1000; i++) {
      const ev: EvSpec = {
        capacityWh: rng.int(20_000, 120_000),
        initialSocPct: rng.int(5, 90),
        targetSocPct: rng.int(20, 100),
        maxPowerW: rng.int(3_000, 150_000),
      };
      const evse = rng.int(3_700, 350_000);
      const register = rng.int(0, 9_999_999) * 3600 + rng.int(0, 3599);
      const start = 1_743_292_800 + rng.int(0, 86_400);
      const interval = rng.pick([7, 10, 15, 60, 300, 900]);
      const stop = start + rng.int(0, 8 * 3600);
      const { m, samples } = runSession(ev, evse, register, start, interval, stop);

      // intervals tile [start, stop) exactly, on whole seconds
      let t = start;
      let sumJ = 0;
      let sumWh = 0;
      for (const iv of m.intervals) {
        // plain checks: millions of expect() calls would be slow
        check(iv.fromSec === t, 'intervals must be contiguous');
        check(iv.toSec > iv.fromSec, 'intervals must not be empty');
        check(Number.isInteger(iv.powerW), 'power must be integer W');
        check(iv.endRegisterJ - iv.startRegisterJ === iv.powerW * (iv.toSec - iv.fromSec), 'energy must be P x t');
        check(iv.state === 'charging' || iv.powerW === 0, 'parking draws no power');
        sumJ += iv.endRegisterJ - iv.startRegisterJ;
        sumWh += whOf(iv.endRegisterJ) - whOf(iv.startRegisterJ);
        t = iv.toSec;
        if (iv.state === 'charging' && iv.powerW < Math.min(ev.maxPowerW, evse)) tapered++;
      }
      if (stop > start) expect(t).toBe(stop);
      expect(m.registerJ - m.startRegisterJ).toBe(sumJ);
      expect(whOf(m.registerJ) - whOf(m.startRegisterJ)).toBe(sumWh);
      expect(m.chargingSeconds + m.parkingSeconds).toBe(stop - start);
      // every sample instant is an interval boundary
      const starts = new Set(m.intervals.map((iv) => iv.fromSec));
      for (const s of samples) if (s !== stop && !starts.has(s)) throw new Error(`sample ${s} is not a boundary`);
      // once parked, stays parked; the cut happens at the first whole second reaching the target
      const firstPark = m.intervals.findIndex((iv) => iv.state === 'parking');
      if (firstPark >= 0) {
        for (const iv of m.intervals.slice(firstPark)) check(iv.state === 'parking', 'parked stays parked');
        if (firstPark > 0) {
          cut++;
          const last = m.intervals[firstPark - 1];
          const capWh = ev.capacityWh;
          const targetJ = capWh * 36 * ev.targetSocPct;
          const socBefore = capWh * 36 * ev.initialSocPct + (last.endRegisterJ - m.startRegisterJ) - last.powerW * (last.toSec - last.fromSec);
          const need = targetJ - socBefore;
          expect(last.toSec - last.fromSec).toBe(Math.min(Math.ceil(need / last.powerW), last.toSec - last.fromSec));
          expect(socBefore + last.powerW * (last.toSec - last.fromSec)).toBeGreaterThanOrEqual(targetJ);
        }
      }
    }
    expect(tapered).toBeGreaterThan(50);
    expect(cut).toBeGreaterThan(50);
  });

  it('cuts the interval at the whole second the target is reached (ceil) and parks', () => {
    // 10 kWh battery at 79 %, target 80 %: 100 Wh = 360000 J to go at 7001 W -> 51.4 s -> cut at 52 s.
    const ev: EvSpec = { capacityWh: 10_000, initialSocPct: 79, targetSocPct: 80, maxPowerW: 7001 };
    const { m } = runSession(ev, 22_000, 3600 * 1000, 1000, 60, 1000 + 600);
    expect(m.intervals[0]).toMatchObject({ fromSec: 1000, toSec: 1052, state: 'charging', powerW: 7001 });
    expect(m.intervals[1]).toMatchObject({ fromSec: 1052, toSec: 1060, state: 'parking', powerW: 0 });
    expect(m.chargingSeconds).toBe(52);
    expect(m.parkingSeconds).toBe(548);
    expect(m.registerJ - m.startRegisterJ).toBe(7001 * 52);
  });

  it('an EV that is already full parks from the start', () => {
    const { m } = runSession({ capacityWh: 50_000, initialSocPct: 90, targetSocPct: 80, maxPowerW: 11_000 }, 22_000, 0, 0, 60, 125);
    expect(m.intervals.every((iv) => iv.state === 'parking')).toBe(true);
    expect(m.registerJ).toBe(0);
    expect(m.intervals.map((iv) => iv.toSec)).toEqual([60, 120, 125]);
  });
});

describe('determinism helpers', () => {
  it('sfc32 streams are reproducible and independent', () => {
    const a = Rng.derive(7, 'CP1', 'connector', 1);
    const b = Rng.derive(7, 'CP1', 'connector', 1);
    const c = Rng.derive(7, 'CP1', 'connector', 2);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(sa);
    const r = new Rng('range');
    for (let i = 0; i < 1000; i++) {
      const x = r.int(3, 5);
      expect(x).toBeGreaterThanOrEqual(3);
      expect(x).toBeLessThanOrEqual(5);
    }
  });

  it('SimClock maps sim and wall time and prints ISO with milliseconds', () => {
    const clock = new SimClock('2025-03-30T00:00:00Z', 60, 1_000_000);
    expect(clock.wallAt(clock.startSimMs + 60_000)).toBe(1_001_000);
    expect(clock.simAt(1_000_500)).toBe(clock.startSimMs + 30_000);
    expect(SimClock.iso(clock.startSimMs)).toBe('2025-03-30T00:00:00.000Z');
  });

  it('a held SimClock stays before its start until startAt says when sim time begins', () => {
    const clock = new SimClock('2025-03-30T00:00:00Z', 60, 1_000_000);
    clock.hold();
    expect(clock.simAt(999_000)).toBe(clock.startSimMs - 60_000);
    // Past the provisional start, sim time is held just before the start instant.
    expect(clock.simAt(1_005_000)).toBe(clock.startSimMs - 1);
    clock.startAt(1_010_000);
    expect(clock.startWallMs).toBe(1_010_000);
    expect(clock.simAt(1_011_000)).toBe(clock.startSimMs + 60_000);
    expect(clock.wallAt(clock.startSimMs)).toBe(1_010_000);
  });

  it('shifting the scheduler moves every pending event and keeps their order', async () => {
    const s = new Scheduler();
    const seen: Array<[string, number]> = [];
    const target = { onScheduled: (_kind: number, data: unknown) => seen.push([String(data), performance.timeOrigin + performance.now()]) };
    const now = performance.timeOrigin + performance.now();
    s.schedule(now + 10, 0, target, 1, 'first');
    s.schedule(now + 20, 0, target, 1, 'second');
    s.shift(60);
    // Timers never fire early; wait until both have run however busy the machine is.
    for (let waited = 0; seen.length < 2 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map(([d]) => d)).toEqual(['first', 'second']);
    expect(seen[0][1]).toBeGreaterThanOrEqual(now + 69);
  });

  it('the scheduler runs events in wall order, then priority, then insertion', async () => {
    const s = new Scheduler();
    const seen: string[] = [];
    const target = { onScheduled: (kind: number, data: unknown) => seen.push(`${kind}:${String(data)}`) };
    const now = performance.timeOrigin + performance.now();
    s.schedule(now + 20, 0, target, 1, 'late');
    s.schedule(now + 5, 0, target, 2, 'b', 1);
    s.schedule(now + 5, 0, target, 3, 'a', 0);
    const cancelled = s.schedule(now + 5, 0, target, 4, 'x', 0);
    s.cancel(cancelled);
    s.schedule(now + 5, 0, target, 5, 'c', 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).toEqual(['3:a', '2:b', '5:c', '1:late']);
    s.stop();
  });
});

// Metering: the meter boundaries of a charging visit (periodic readings, state changes) and the
// readings sent, planned or triggered by the CSMS.

import type { MeterSample, SampleContext } from '../dialect.js';
import { SimClock } from '../sim-clock.js';
import type { Charger } from './charger.js';
import { ChargerEvent, SameInstant, type Connector, type Visit } from './model.js';

export class Metering {
  constructor(private readonly ch: Charger) {}

  planBoundary(v: Visit): void {
    v.boundaryEvent = this.ch.at(v.meter!.nextBoundarySec(), ChargerEvent.meterBoundary, v, SameInstant.meterBoundary);
  }

  onBoundary(v: Visit, sec: number): void {
    if (v.phase !== 'charging' || v.boundaryEvent === null || v.boundaryEvent.simMs !== sec * 1000) return;
    // A reading due at the departure is the closing one (Transaction.End), which the stop, at the
    // same instant, sends next (minimal: inside the stop call) and cancels this event.
    if (sec === v.departSec) return;
    this.stepTo(v, sec);
    this.planBoundary(v);
  }

  /** The meter to the boundary at `sec`: a reading there, and the new status if the EV's state changed. */
  stepTo(v: Visit, sec: number): void {
    const meter = v.meter!;
    const changed = meter.advanceTo(sec);
    this.sample(v, sec);
    if (changed) this.ch.setStatus(v.connector, meter.state === 'parking' ? 'SuspendedEV' : 'Charging', sec);
  }

  sample(v: Visit, sec: number, context: SampleContext = 'Sample.Periodic'): void {
    v.lastSampleSec = sec;
    const m = this.ch.ctx.dialect.meterValues(v.connector.id, v.transactionId, this.meterSample(v, sec, context));
    this.ch.connection.call(m, this.ch.wallOf(sec), v, true);
  }

  meterSample(v: Visit, sec: number, context: SampleContext): MeterSample {
    const meter = v.meter!;
    return {
      timestamp: SimClock.iso(sec * 1000),
      registerJ: meter.registerAt(sec),
      registerDecimals: this.ch.registerDecimals,
      powerW: meter.powerW,
      socPct: meter.socPctAt(sec),
      context,
      measurands: this.ch.configuration.measurands(),
    };
  }

  /** A reading outside the plan (the CSMS asked for one): never a timeline boundary. */
  triggeredSample(c: Connector, sec: number): void {
    const v = c.visit;
    const measurands = this.ch.configuration.measurands();
    let registerJ = c.registerJ;
    let powerW = 0;
    let socPct: number | null = null;
    let transactionId: string | null = null;
    if (v && v.phase === 'charging' && v.meter) {
      const at = Math.min(Math.max(sec, v.meter.intervalStartSec), v.meter.nextBoundarySec());
      registerJ = v.meter.registerAt(at);
      powerW = v.meter.powerW;
      socPct = v.meter.socPctAt(at);
      transactionId = v.transactionId;
    }
    const m = this.ch.ctx.dialect.meterValues(c.id, transactionId, {
      timestamp: SimClock.iso(sec * 1000),
      registerJ,
      registerDecimals: this.ch.registerDecimals,
      powerW,
      socPct,
      context: 'Trigger',
      measurands,
    });
    this.ch.connection.call(m, this.ch.wallOf(sec));
  }
}

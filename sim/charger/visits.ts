// The state machine of one visit, an EV at a connector from plug-in to unplug:
// authorizing -> starting -> charging -> stopped -> idle ('lost' in a crash). Answers may come
// late; the plan's instants stand, so a slow CSMS changes when messages go out, never the truth.

import type { MeterSample, WireStopReason } from '../dialect.js';
import { SessionMeter, whOf } from '../ev-physics.js';
import { SimClock } from '../sim-clock.js';
import type { Charger } from './charger.js';
import { ChargerEvent, SameInstant, type Visit } from './model.js';

export class Visits {
  constructor(private readonly ch: Charger) {}

  /** The visit's driver plugs in: Preparing, the departure planned, then the authorize call (or a remote start's start call). */
  start(visit: Visit, remote: boolean): Visit {
    const ch = this.ch;
    const c = visit.connector;
    const sec = visit.plugInSec;
    c.visit = visit;
    // Minimal: the state changes all the same (a status the CSMS asks for reports it), it is just not sent.
    if (ch.minimalMessages) c.status = 'Preparing';
    else ch.setStatus(c, 'Preparing', sec);
    ch.at(visit.departSec, ChargerEvent.departure, visit, SameInstant.departure);
    if (remote && !ch.configuration.bool('AuthorizeRemoteTxRequests')) this.sendStart(visit);
    else this.sendAuthorize(visit);
    return visit;
  }

  sendAuthorize(v: Visit): void {
    v.phase = 'authorizing';
    this.ch.connection.call(this.ch.ctx.dialect.authorize(v.idTag), this.ch.wallOf(v.planSec), v);
  }

  sendStart(v: Visit): void {
    v.phase = 'starting';
    v.startSec = v.planSec;
    const m = this.ch.ctx.dialect.startTransaction(v.connector.id, v.idTag, whOf(v.connector.registerJ), SimClock.iso(v.startSec * 1000));
    this.ch.connection.call(m, this.ch.wallOf(v.startSec), v, true);
  }

  onAuthorized(v: Visit, accepted: boolean): void {
    if (v.phase !== 'authorizing' || v.connector.visit !== v) return;
    if (v.crashSec !== null) {
      // Answered after the crash: the visit ends with no start (cleared when the charger drops its connection).
      v.phase = 'idle';
      return;
    }
    if (accepted) {
      this.ch.costs.awaitUserPrice(v);
      this.sendStart(v);
      return;
    }
    v.phase = 'idle';
    if (v.departPending) this.unplug(v);
  }

  onStarted(v: Visit, accepted: boolean, transactionId: string | null, confirmed: boolean): void {
    if (v.phase !== 'starting' || v.connector.visit !== v) return;
    v.transactionId = transactionId;
    if (!confirmed || (accepted && transactionId !== null)) {
      if (accepted && transactionId !== null) this.ch.ctx.metrics.counters.transactions++;
      this.beginCharging(v);
      // Started before the crash, answered after it: the transaction is open at the CSMS, so it
      // is lost like the others, with its meter from the planned start and a reading at the crash.
      if (v.crashSec !== null) this.ch.crashes.loseSession(v, v.crashSec);
      else if (v.departPending) this.depart(v);
      return;
    }
    if (transactionId !== null) {
      // The CSMS opened a transaction but refused the idTag: stop it at once (OCPP 1.6 §5.10).
      this.beginCharging(v);
      this.stopSession(v, v.startSec, 'DeAuthorized');
      if (v.departPending) this.unplug(v);
      return;
    }
    v.phase = 'idle';
    if (v.departPending) this.unplug(v);
  }

  private beginCharging(v: Visit): void {
    const ch = this.ch;
    const c = v.connector;
    const meter = new SessionMeter(v.ev, ch.spec.maxPowerW, c.registerJ, v.startSec, ch.configuration.int('MeterValueSampleInterval'));
    v.meter = meter;
    v.phase = 'charging';
    ch.ctx.metrics.counters.sessionsActive++;
    ch.setStatus(c, meter.state === 'charging' ? 'Charging' : 'SuspendedEV', v.startSec);
    if (!ch.minimalMessages) ch.metering.sample(v, v.startSec, 'Transaction.Begin');
    ch.metering.planBoundary(v);
  }

  onDeparture(v: Visit): void {
    // A visit the charger crashed under ended at the crash.
    if (v.connector.visit !== v || v.crashSec !== null) return;
    if (v.phase === 'authorizing' || v.phase === 'starting') {
      // The answer is late: finish the plan when it comes (same instants, same truth).
      v.departPending = true;
      return;
    }
    this.depart(v);
  }

  private depart(v: Visit): void {
    if (v.phase === 'charging') this.stopSession(v, v.departSec, 'Local');
    this.unplug(v);
  }

  /** Ends the transaction at `sec`: meter samples up to it, the stop call, Finishing. */
  stopSession(v: Visit, sec: number, reason: WireStopReason): void {
    if (v.phase !== 'charging') return;
    const ch = this.ch;
    const metering = ch.metering;
    const meter = v.meter!;
    const stopSec = Math.max(sec, meter.intervalStartSec);
    while (meter.nextBoundarySec() <= stopSec) {
      const at = meter.nextBoundarySec();
      // A reading due at the stop instant (periodic, or the target charge reached) is the closing
      // reading, sent below; a state change at that instant lasts no time and goes unsent.
      if (at === stopSec) meter.advanceTo(at);
      else metering.stepTo(v, at);
    }
    meter.finish(stopSec);
    // The reading at the stop (Transaction.End), unless one at this instant already went out (a
    // remote stop or reset on the sample grid). Minimal: it rides in the stop call (1.6
    // transactionData) rather than in a reading of its own just before it.
    let closing: MeterSample | undefined;
    if (v.lastSampleSec !== stopSec) {
      if (ch.minimalMessages) closing = metering.meterSample(v, stopSec, 'Transaction.End');
      else metering.sample(v, stopSec, 'Transaction.End');
    }
    ch.ctx.scheduler.cancel(v.boundaryEvent);
    v.boundaryEvent = null;
    v.stopSec = stopSec;
    v.wireStopReason = reason;
    v.phase = 'stopped';
    v.connector.registerJ = meter.registerJ;
    ch.ctx.metrics.counters.sessionsActive--;
    const m = ch.ctx.dialect.stopTransaction(v.transactionId, v.idTag, whOf(meter.registerJ), SimClock.iso(stopSec * 1000), reason, closing);
    ch.connection.call(m, ch.wallOf(stopSec), v, true);
    if (ch.minimalMessages) v.connector.status = 'Finishing';
    else ch.setStatus(v.connector, 'Finishing', stopSec);
  }

  /** The driver unplugs: Available, truth for a stopped transaction, then the next driver waiting (or a free connector). */
  unplug(v: Visit): void {
    const ch = this.ch;
    const c = v.connector;
    const sec = Math.max(v.departSec, v.stopSec);
    ch.setStatus(c, 'Available', sec);
    c.visit = null;
    if (v.meter && v.phase === 'stopped') ch.truth.emit(v, sec);
    v.phase = 'idle';
    // A visit whose plan ended before a crash, finished during the shutdown: the drivers after it come once the charger is back.
    if (ch.crashes.underWay) return;
    const next = c.waiting.shift();
    if (next) this.start(next, false);
    else ch.ctx.onConnectorFree?.(ch, c, sec);
  }
}

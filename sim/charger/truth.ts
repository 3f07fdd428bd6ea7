// Truth records: what really happened in a session, written when it is over (at the unplug, or
// when a crash loses it), for the reconciler and the reports.

import { whOf } from '../ev-physics.js';
import type { WireStopReason } from '../dialect.js';
import { SimClock } from '../sim-clock.js';
import type { TruthSession } from '../types.js';
import type { Charger } from './charger.js';
import type { Visit } from './model.js';

function truthReason(r: WireStopReason): TruthSession['stopReason'] {
  return r === 'Local' || r === 'Remote' || r === 'EVDisconnected' ? r : 'Other';
}

/** Truth keeps the integer ids 1.6 gives, as reports and the reconciler read them. */
function truthTransactionId(id: string | null): number | null {
  return id === null ? null : Number(id);
}

export class TruthRecords {
  constructor(private readonly ch: Charger) {}

  /** The visit's session ended and its driver unplugged at `unplugSec`; `faults`: the faults it saw (TruthSession.faults). */
  emit(v: Visit, unplugSec: number, faults: string[] = []): void {
    const ch = this.ch;
    const meter = v.meter!;
    const meterStartWh = whOf(meter.startRegisterJ);
    const meterStopWh = whOf(meter.registerJ);
    ch.ctx.metrics.counters.sessionsDone++;
    ch.ctx.onTruth(
      ch.costs.withDisplay(v, {
        chargerId: ch.id,
        connectorId: v.connector.id,
        idTag: v.idTag,
        transactionId: truthTransactionId(v.transactionId),
        plugInAt: SimClock.iso(v.plugInSec * 1000),
        startAt: SimClock.iso(v.startSec * 1000),
        stopAt: SimClock.iso(v.stopSec * 1000),
        unplugAt: SimClock.iso(unplugSec * 1000),
        meterStartWh,
        meterStopWh,
        energyWh: meterStopWh - meterStartWh,
        chargingSeconds: meter.chargingSeconds,
        parkingSeconds: meter.parkingSeconds,
        timeline: meter.intervals.map((iv) => ({
          from: SimClock.iso(iv.fromSec * 1000),
          state: iv.state,
          energyWh: whOf(iv.endRegisterJ) - whOf(iv.startRegisterJ),
          avgPowerW: iv.powerW,
        })),
        stopReason: truthReason(v.wireStopReason ?? 'Other'),
        wireStopReason: v.wireStopReason ?? 'Other',
        faults,
      }),
    );
  }
}

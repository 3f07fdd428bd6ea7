// Commands from the CSMS, as the dialect reads them: the answer is decided at once; what a
// command does runs as a planned event right after the answer is sent.

import type { CommandReply, CsmsCommand, TriggerableMeaning } from '../dialect.js';
import type { Charger } from './charger.js';
import { COST_VENDOR_ID } from './cost-messages.js';
import { ChargerEvent, SameInstant, type Connector, type Visit } from './model.js';

const status = (s: string): CommandReply => ({ kind: 'status', status: s });

export class Commands {
  constructor(private readonly ch: Charger) {}

  /** Decides the answer now; side effects run as a scheduled event right after the reply is sent. */
  answer(cmd: CsmsCommand): CommandReply {
    const ch = this.ch;
    const sec = ch.nowSec();
    // A crashed charger acts on nothing until it is back (what it answers meanwhile stands for the silence of a dead one).
    if (ch.crashes.underWay && (cmd.kind === 'remoteStart' || cmd.kind === 'remoteStop' || cmd.kind === 'reset' || cmd.kind === 'trigger'))
      return status('Rejected');
    switch (cmd.kind) {
      case 'remoteStart': {
        if (sec >= ch.ctx.simEndSec || !this.pickRemoteStartConnector(cmd.connectorId)) return status('Rejected');
        ch.at(sec, ChargerEvent.command, cmd, SameInstant.command);
        return status('Accepted');
      }
      case 'remoteStop': {
        if (!this.visitByTransaction(cmd.transactionId)) return status('Rejected');
        ch.at(sec, ChargerEvent.command, cmd, SameInstant.command);
        return status('Accepted');
      }
      case 'reset':
        ch.at(sec, ChargerEvent.command, cmd, SameInstant.command);
        return status('Accepted');
      case 'getConfiguration': {
        const { entries, unknownKeys } = ch.configuration.list(cmd.keys);
        return { kind: 'configuration', entries, unknownKeys };
      }
      case 'changeConfiguration': {
        const outcome = ch.configuration.change(cmd.key, cmd.value);
        if (outcome === 'Accepted') this.applyConfiguration(cmd.key, sec);
        return status(outcome);
      }
      case 'trigger': {
        if (cmd.message === null) return status('NotImplemented');
        if (cmd.connectorId !== null && (cmd.connectorId < 0 || cmd.connectorId > ch.connectors.length)) return status('Rejected');
        ch.at(sec, ChargerEvent.command, cmd, SameInstant.command);
        return status('Accepted');
      }
      case 'dataTransfer':
        return status(cmd.vendorId === COST_VENDOR_ID && ch.showsCost ? ch.costs.show(cmd.messageId, cmd.data) : 'UnknownVendorId');
    }
  }

  /** What an accepted command does, at its planned instant. */
  run(cmd: CsmsCommand, sec: number): void {
    const ch = this.ch;
    // Accepted before a crash at this very instant, due after it: the crash came first.
    if (ch.crashes.underWay) return;
    switch (cmd.kind) {
      case 'remoteStart': {
        const c = this.pickRemoteStartConnector(cmd.connectorId);
        if (!c) {
          ch.ctx.metrics.error('remoteStartOvertaken');
          return;
        }
        if (c.visit === null) {
          ch.drivers.plugIn(c, sec, cmd.idTag, true);
          return;
        }
        const v = c.visit;
        v.idTag = cmd.idTag;
        v.planSec = Math.max(sec, v.plugInSec);
        if (ch.configuration.bool('AuthorizeRemoteTxRequests')) ch.visits.sendAuthorize(v);
        else ch.visits.sendStart(v);
        return;
      }
      case 'remoteStop': {
        const v = this.visitByTransaction(cmd.transactionId);
        if (v) ch.visits.stopSession(v, sec, 'Remote');
        return;
      }
      case 'reset': {
        for (const c of ch.connectors) if (c.visit) ch.visits.stopSession(c.visit, sec, cmd.hard ? 'HardReset' : 'SoftReset');
        ch.rebootPending = true;
        if (ch.connection.isIdle) ch.reboot();
        return;
      }
      case 'trigger':
        this.runTrigger(cmd.message, cmd.connectorId, sec);
        return;
      default:
        return;
    }
  }

  private runTrigger(message: TriggerableMeaning | null, connectorId: number | null, sec: number): void {
    const ch = this.ch;
    switch (message) {
      case 'boot':
        ch.sendBoot(false);
        return;
      case 'heartbeat':
        ch.sendHeartbeat(sec);
        return;
      case 'status':
        ch.sendStatuses(sec, connectorId);
        return;
      case 'reading':
        for (const c of ch.connectors) if (connectorId === null || connectorId === 0 || connectorId === c.id) ch.metering.triggeredSample(c, sec);
        return;
    }
  }

  private applyConfiguration(key: string, sec: number): void {
    const ch = this.ch;
    if (key === 'HeartbeatInterval' && ch.booted) ch.planHeartbeat(sec);
    if (key === 'MeterValueSampleInterval') {
      const s = ch.configuration.int('MeterValueSampleInterval');
      for (const c of ch.connectors) c.visit?.meter?.setSampleInterval(s);
    }
  }

  private pickRemoteStartConnector(connectorId: number | null): Connector | null {
    const connectors = this.ch.connectors;
    const usable = (c: Connector): boolean => c.visit === null || c.visit.phase === 'idle';
    if (connectorId !== null) {
      const c = connectors[connectorId - 1];
      return c && usable(c) ? c : null;
    }
    return connectors.find((c) => c.visit === null) ?? connectors.find(usable) ?? null;
  }

  private visitByTransaction(transactionId: string): Visit | null {
    for (const c of this.ch.connectors) {
      const v = c.visit;
      if (v && v.phase === 'charging' && v.transactionId === transactionId) return v;
    }
    return null;
  }
}

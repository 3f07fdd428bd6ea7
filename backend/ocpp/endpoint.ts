// The OCPP endpoint: each charger's connection over the OCPP-J transport (strict validation of
// every call and every answer, see transport/) bound to its OCPP version's handlers (v16/),
// which call the core. The one module that imports a version folder. Connections are tracked
// by instance: a charger may reconnect before the server has seen its old socket close.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRPCError } from 'ocpp-rpc';
import type { Csms } from '../core/csms.js';
import { OcppRequestError } from './request-error.js';
import { Ocpp16Handlers } from './v16/handlers.js';
import { ocpp16Validator } from '../../ocpp-j/index.js';
import type { CompletedSessionRow } from '../cost-display/running-cost.js';
import { COST_VENDOR_ID, RunningCostNotifier, type CostMessageId, type RunningCostOptions } from './v16/cost-messages.js';
import type { OcppJConnection } from './transport/ocpp-j-connection.js';
import { OcppJServer, type RefusedUpgrade, type UpgradeRefusal } from './transport/ocpp-j-server.js';
import type { DataTransferConf } from './v16/data-transfer-registry.js';

/** Cost on the charger displays: how often a running cost goes out, and where a completed session is read. */
export interface CostDisplayOptions extends RunningCostOptions {
  completedSession: (id: number) => Promise<CompletedSessionRow | undefined>;
}

/** Runs after a charger's message was answered, with its result; chosen before the handler runs. */
type AfterAnswer = ((result: any) => void) | null;

export class OcppEndpoint {
  private readonly server: OcppJServer;
  private readonly v16: Ocpp16Handlers;
  private readonly costDisplay: RunningCostNotifier | null;
  /** The live connection per charger (the newest one). */
  private readonly current = new Map<string, OcppJConnection>();
  /** Every open connection, including a superseded one whose close has not arrived yet. */
  private readonly all = new Set<OcppJConnection>();
  /** Upgrades refused since start, by reason (GET /api/stats). */
  readonly refusedUpgrades: Record<UpgradeRefusal, number> = { path: 0, subprotocol: 0, shuttingDown: 0 };

  constructor(
    private readonly csms: Csms,
    private readonly log: (line: string) => void,
    costDisplay: CostDisplayOptions | null = null,
  ) {
    const send = (chargerId: string, messageId: CostMessageId, data: string) => this.sendCostMessage(chargerId, messageId, data);
    this.costDisplay = costDisplay && new RunningCostNotifier(csms, costDisplay.completedSession, send, costDisplay);
    this.v16 = new Ocpp16Handlers(csms);
    this.server = new OcppJServer(
      ocpp16Validator(),
      (c) => this.onClient(c),
      undefined,
      (r) => this.onRefused(r),
    );
  }

  /** For the http server's 'upgrade' event: OCPP is at /ocpp/{chargerId}, every other upgrade is refused. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.handleUpgrade(req, socket, head);
  }

  /** A charger refused at the upgrade cannot see why in most WebSocket libraries: the back end's log says it. */
  private onRefused(r: RefusedUpgrade): void {
    this.refusedUpgrades[r.reason]++;
    const who = r.chargerId === null ? 'a client' : `charger ${r.chargerId}`;
    const offered = r.offered.length > 0 ? r.offered.join(', ') : 'none';
    this.log(`refused the WebSocket upgrade of ${who} from ${r.address} (subprotocols offered: ${offered}): ${r.detail}`);
  }

  isConnected(chargerId: string): boolean {
    return this.current.has(chargerId);
  }

  connectionCount(): number {
    return this.all.size;
  }

  /** A cost message to a charger's current connection (CSMS-initiated DataTransfer). */
  sendCostMessage(chargerId: string, messageId: CostMessageId, data: string): Promise<DataTransferConf> {
    const client = this.current.get(chargerId);
    if (!client) return Promise.reject(new Error('not connected'));
    return client.call('DataTransfer', { vendorId: COST_VENDOR_ID, messageId, data });
  }

  private onClient(client: OcppJConnection): void {
    const id = client.identity;
    const previous = this.current.get(id);
    this.current.set(id, client);
    this.all.add(client);
    if (previous) this.log(`charger ${id} reconnected (the old connection is still open)`);
    client.onClosed(() => {
      this.all.delete(client);
      if (this.current.get(id) === client) {
        this.current.delete(id);
        this.costDisplay?.forgetConnection(id);
      }
    });
    this.csms.ensureCharger(id);
    const c = this.v16;
    const wrap =
      (fn: (params: any) => unknown, after?: ((params: any) => AfterAnswer) | null) =>
      async (call: { params?: Record<string, any> }): Promise<unknown> => {
        try {
          const params = call.params ?? {};
          const then = after ? this.safely(id, () => after(params)) : null;
          const result = await fn(params);
          // setImmediate runs once the answer has been written: follow-up calls never delay it.
          if (then) setImmediate(() => this.safely(id, () => then(result)));
          return result;
        } catch (err) {
          if (err instanceof OcppRequestError) throw createRPCError(err.rpcCode, err.message, {});
          this.log(`charger ${id}: internal error: ${(err as Error).message}`);
          throw createRPCError('InternalError', 'the back end could not process this message; retry', {});
        }
      };
    const cost = this.costDisplay;
    // A charger's firmware may have changed at a reboot: whether it shows costs is learnt again.
    client.handle(
      'BootNotification',
      wrap((p) => c.bootNotification(id, p), cost && (() => () => cost.afterBoot(id))),
    );
    client.handle(
      'Heartbeat',
      wrap(() => c.heartbeat(id)),
    );
    client.handle(
      'StatusNotification',
      wrap((p) => c.statusNotification(id, p)),
    );
    client.handle(
      'Authorize',
      wrap((p) => c.authorize(id, p), cost && ((p) => (r) => cost.afterAuthorize(id, p.idTag, r.idTagInfo))),
    );
    client.handle(
      'StartTransaction',
      wrap((p) => c.startTransaction(id, p), cost && ((p) => (r) => cost.afterStart(id, p.idTag, r.transactionId, r.idTagInfo))),
    );
    client.handle(
      'MeterValues',
      wrap((p) => c.meterValues(id, p), cost?.runningCostEnabled ? (p) => () => cost.afterMeterValues(id, p) : undefined),
    );
    // Only the stop that closes an open session shows a final cost (not a repeated stop).
    const closesSession = (p: { transactionId: number }): boolean => this.csms.openSession(id, { transactionId: p.transactionId }) !== null;
    client.handle(
      'StopTransaction',
      wrap((p) => c.stopTransaction(id, p), cost && ((p) => (closesSession(p) ? () => cost.afterStop(id, p.transactionId) : null))),
    );
    client.handle(
      'DataTransfer',
      wrap((p) => c.dataTransfer(id, p)),
    );
    client.handle(
      'DiagnosticsStatusNotification',
      wrap(() => c.diagnosticsStatusNotification()),
    );
    client.handle(
      'FirmwareStatusNotification',
      wrap(() => c.firmwareStatusNotification()),
    );
  }

  /** A follow-up that fails is logged; it never fails the charger's own message. */
  private safely<T>(chargerId: string, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      this.log(`charger ${chargerId}: follow-up failed: ${(err as Error).message}`);
      return null;
    }
  }

  /** Refuse new connections, close each open one after its calls in flight are answered, then stop. */
  async close(): Promise<void> {
    await this.server.close();
  }
}

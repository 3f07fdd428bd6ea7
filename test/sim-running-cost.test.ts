// The simulated charger's display: it accepts OCPP 1.6 California Pricing cost messages from a
// small in-test CSMS (ocpp-rpc, strict), rejects malformed ones, and keeps what it was shown in
// the truth record of each session, including a FinalCost that arrives after the stop.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet } from '../sim/fleet.js';
import type { FleetConfig, FleetResult } from '../sim/types.js';
import { ensureBuilt } from './helpers/ensure-built.js';
import { RPCServer } from './helpers/rpc-server.js';

const VENDOR = 'org.openchargealliance.costmsg';
const PRICE_TEXT = '€0.4641/kWh, incl. 19 % VAT';

interface Sent {
  runningCosts: Array<{ timestamp: string; cost: string; meterWh: number }>;
  finalCost: string;
}

/** A CSMS that shows prices: SetUserPrice after Authorize, RunningCost after each MeterValues, FinalCost 100 ms after the stop. */
async function startPricingCsms() {
  const sent = new Map<string, Sent>(); // by charger|transactionId
  const answers: Array<{ what: string; status: string }> = [];
  let txSeq = 500;
  let runningSeq = 0;
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  server.on('client', (client) => {
    const now = () => new Date().toISOString();
    const show = (messageId: string, data: string, what = messageId, vendorId = VENDOR): void => {
      client.call('DataTransfer', { vendorId, messageId, data }).then(
        (a) => answers.push({ what, status: a.status }),
        () => answers.push({ what, status: 'failed' }),
      );
    };
    let probed = false;
    client.handle(({ method, params }) => {
      switch (method) {
        case 'BootNotification':
          return { status: 'Accepted', currentTime: now(), interval: 300 };
        case 'Heartbeat':
          return { currentTime: now() };
        case 'Authorize':
          setImmediate(() => {
            if (!probed) {
              probed = true;
              show('SetUserPrice', '{"idToken": ', 'malformed');
              show('SetUserPrice', '{}', 'other vendor', 'com.example');
              show('Surcharge', '{}', 'unknown message');
            }
            show('SetUserPrice', JSON.stringify({ idToken: params.idTag, priceText: PRICE_TEXT }));
          });
          return { idTagInfo: { status: 'Accepted' } };
        case 'StartTransaction': {
          const tx = ++txSeq;
          sent.set(`${client.identity}|${tx}`, { runningCosts: [], finalCost: '' });
          return { transactionId: tx, idTagInfo: { status: 'Accepted' } };
        }
        case 'MeterValues': {
          const s = params.transactionId !== undefined ? sent.get(`${client.identity}|${params.transactionId}`) : undefined;
          const mv = params.meterValue[0];
          const wh = mv.sampledValue.find((v: any) => (v.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register');
          if (s && wh) {
            const cost = (++runningSeq + 0.2).toFixed(2); // "1.20": a trailing zero the display must keep
            const meterWh = Math.round(Number(wh.value));
            s.runningCosts.push({ timestamp: mv.timestamp, cost, meterWh });
            const data = `{"transactionId":${params.transactionId},"timestamp":"${mv.timestamp}","meterValue":${meterWh},"cost":${cost},"state":"Charging","chargingPrice":{"kWhPrice":0.4641,"hourPrice":0,"flatFee":0}}`;
            setImmediate(() => show('RunningCost', data));
          }
          return {};
        }
        case 'StopTransaction': {
          const s = sent.get(`${client.identity}|${params.transactionId}`);
          if (s) {
            s.finalCost = `${params.transactionId % 7}.50`;
            const data = `{"transactionId":${params.transactionId},"cost":${s.finalCost},"priceText":"Total","qrCodeText":"http://csms/invoices/${params.transactionId}"}`;
            setTimeout(() => show('FinalCost', data), 100);
          }
          return { idTagInfo: { status: 'Accepted' } };
        }
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  return { server, sent, answers, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp` };
}

function fleetConfig(url: string): FleetConfig {
  return {
    targetUrl: url,
    chargers: [
      { id: 'DSP-1', connectors: 2, maxPowerW: 22_000 },
      { id: 'DSP-2', connectors: 2, maxPowerW: 22_000 },
    ],
    tokens: ['TOKEN-A', 'TOKEN-B', 'TOKEN-C', 'TOKEN-D'],
    seed: 7,
    simStart: '2026-03-02T08:00:00.000Z',
    speed: 600,
    durationSimSec: 1800,
    ev: { capacityWh: [20_000, 30_000], initialSocPct: [40, 60], targetSocPct: [80, 90], maxPowerW: [7_000, 11_000] },
    drivers: { arrivalsPerConnectorPerHour: 4, dwellMinutes: [5, 15] },
    meterValueSampleIntervalSec: 120,
    callTimeoutMs: 5_000,
    workers: 1,
    startLeadMs: 300,
  };
}

describe('simulated charger display', () => {
  let csms: Awaited<ReturnType<typeof startPricingCsms>>;
  let result: FleetResult;

  beforeAll(async () => {
    ensureBuilt();
    csms = await startPricingCsms();
    result = await runFleet(fleetConfig(csms.url));
  }, 60_000);

  afterAll(async () => {
    await csms?.server.close({ force: true });
  });

  it('keeps the user price, every running cost and the final cost (as the decimal text received) in truth', () => {
    const sessions = result.truth.filter((t) => t.transactionId !== null && t.transactionId > 0);
    expect(sessions.length).toBeGreaterThan(3);
    for (const t of sessions) {
      const sent = csms.sent.get(`${t.chargerId}|${t.transactionId}`)!;
      expect(t.display, `${t.chargerId} ${t.transactionId}`).toBeDefined();
      expect(t.display!.userPrice).toBe(PRICE_TEXT);
      expect(t.display!.runningCosts).toEqual(sent.runningCosts);
      expect(t.display!.runningCosts.length).toBeGreaterThan(0);
      expect(t.display!.finalCost).toBe(sent.finalCost);
      expect(t.display!.finalPriceText).toBe('Total');
      expect(t.display!.qrCodeText).toBe(`http://csms/invoices/${t.transactionId}`);
    }
    expect(sessions.some((t) => t.display!.runningCosts.some((r) => r.cost.endsWith('0')))).toBe(true);
  });

  it('answers Accepted to cost messages, Rejected to malformed ones, UnknownVendorId / UnknownMessageId otherwise', () => {
    const by = (what: string) => csms.answers.filter((a) => a.what === what).map((a) => a.status);
    expect(by('malformed')).toEqual(['Rejected', 'Rejected']);
    expect(by('other vendor')).toEqual(['UnknownVendorId', 'UnknownVendorId']);
    expect(by('unknown message')).toEqual(['UnknownMessageId', 'UnknownMessageId']);
    for (const id of ['SetUserPrice', 'RunningCost', 'FinalCost']) {
      expect(by(id).length, id).toBeGreaterThan(0);
      expect(new Set(by(id)), id).toEqual(new Set(['Accepted']));
    }
  });
});

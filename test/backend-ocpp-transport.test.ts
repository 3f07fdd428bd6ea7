// The back end's OCPP-J transport on its own: a real HTTP server on loopback, real WebSocket
// clients speaking raw frames, and the strict OCPP 1.6 validator.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { OcppJConnection } from '../backend/ocpp/transport/ocpp-j-connection.js';
import { OcppJServer } from '../backend/ocpp/transport/ocpp-j-server.js';
import { ocpp16Validator } from '../ocpp-j/index.js';

interface Rig {
  server: OcppJServer;
  connections: OcppJConnection[];
  url: string;
  http: Server;
}

const rigs: Rig[] = [];

async function rig(strict: boolean, setUp: (c: OcppJConnection) => void = () => undefined, pingIntervalMs?: number): Promise<Rig> {
  const connections: OcppJConnection[] = [];
  const server = new OcppJServer(
    strict ? ocpp16Validator() : null,
    (c) => {
      connections.push(c);
      setUp(c);
    },
    pingIntervalMs,
  );
  const http = createServer();
  http.on('upgrade', (req, socket, head) => server.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const r = { server, connections, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp`, http };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.server.close();
    await new Promise((done) => r.http.close(done));
  }
});

/** A raw client: every frame it receives, parsed, in order. */
async function client(url: string, opts: WebSocket.ClientOptions = {}): Promise<{ ws: WebSocket; next: () => Promise<any[]>; received: () => number }> {
  const ws = new WebSocket(url, ['ocpp1.6'], opts);
  const frames: any[][] = [];
  const waiters: Array<(f: any[]) => void> = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const w = waiters.shift();
    if (w) w(frame);
    else frames.push(frame);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = () => new Promise<any[]>((resolve) => (frames.length ? resolve(frames.shift()!) : waiters.push(resolve)));
  return { ws, next, received: () => frames.length };
}

describe('OCPP-J transport of the back end', () => {
  it('refuses a second call with the id of one still being handled, and answers the first when it is done', async () => {
    let finish: (v: unknown) => void = () => undefined;
    const r = await rig(false, (c) => c.handle('Slow', () => new Promise((resolve) => (finish = resolve))));
    const { ws, next } = await client(`${r.url}/CP-1`);
    ws.send(JSON.stringify([2, 'd1', 'Slow', {}]));
    ws.send(JSON.stringify([2, 'd1', 'Slow', {}]));
    expect(await next()).toEqual([4, 'd1', 'RpcFrameworkError', 'Already processing a call with message ID: d1', {}]);
    finish({ done: true });
    expect(await next()).toEqual([3, 'd1', { done: true }]);
    ws.close();
  });

  it('sends calls of the back end one at a time, and rejects one answered with a CALLERROR with its code', async () => {
    const r = await rig(false);
    const { ws, next, received } = await client(`${r.url}/CP-2`);
    const c = r.connections[0];
    expect(c.identity).toBe('CP-2');
    const first = c.call('First', { n: 1 });
    const second = c.call('Second', { n: 2 });
    const sentFirst = await next();
    expect(sentFirst.slice(0, 4)).toEqual([2, sentFirst[1], 'First', { n: 1 }]);
    // Nothing else arrives until the first is answered.
    await new Promise((res) => setTimeout(res, 200));
    expect(received()).toBe(0);
    ws.send(JSON.stringify([3, sentFirst[1], { ok: 1 }]));
    expect(await first).toEqual({ ok: 1 });
    const sentSecond = await next();
    expect(sentSecond[2]).toBe('Second');
    ws.send(JSON.stringify([4, sentSecond[1], 'NotImplemented', 'no', {}]));
    await expect(second).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    ws.close();
  });

  it('validates both ways in strict mode: calls and answers of the charger, and calls of the back end', async () => {
    const r = await rig(true, (c) => {
      c.handle('Heartbeat', () => ({ currentTime: '2026-01-01T00:00:00.000Z' }));
      c.handle('Authorize', () => ({ idTagInfo: { status: 'NoSuchStatus' } })); // the back end's own mistake
    });
    const { ws, next } = await client(`${r.url}/CP-3`);
    ws.send(JSON.stringify([2, 'h1', 'Heartbeat', { extra: 1 }]));
    expect((await next()).slice(0, 3)).toEqual([4, 'h1', 'PropertyConstraintViolation']);
    ws.send(JSON.stringify([2, 'h2', 'Heartbeat', {}]));
    expect(await next()).toEqual([3, 'h2', { currentTime: '2026-01-01T00:00:00.000Z' }]);
    ws.send(JSON.stringify([2, 'a1', 'Authorize', { idTag: 'T1' }]));
    expect(await next()).toEqual([
      4,
      'a1',
      'InternalError',
      'An internal error occurred and the receiver was not able to process the requested method successfully',
      {},
    ]);

    const c = r.connections[0];
    // A call the schema refuses never reaches the wire.
    await expect(c.call('DataTransfer', { data: 'no vendorId' })).rejects.toMatchObject({ rpcErrorCode: 'OccurenceConstraintViolation' });
    const asked = c.call('DataTransfer', { vendorId: 'x' });
    const sent = await next();
    expect(sent[2]).toBe('DataTransfer');
    ws.send(JSON.stringify([3, sent[1], { status: 'Bogus' }]));
    await expect(asked).rejects.toMatchObject({ rpcErrorCode: 'FormatViolation' });
    ws.close();
  });

  it('answers what is in flight before it closes a connection at shutdown, refusing calls and connections meanwhile', async () => {
    let finish: (v: unknown) => void = () => undefined;
    let entered: () => void = () => undefined;
    const handling = new Promise<void>((resolve) => (entered = resolve));
    const r = await rig(false, (c) =>
      c.handle('Slow', () => {
        entered();
        return new Promise((resolve) => (finish = resolve));
      }),
    );
    const { ws, next } = await client(`${r.url}/CP-4`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify([2, 's1', 'Slow', {}]));
    await handling;
    const shutdown = r.server.close();
    ws.send(JSON.stringify([2, 's2', 'Slow', {}]));
    expect(await next()).toEqual([4, 's2', 'GenericError', 'Call received while client state not OPEN', {}]);
    await expect(client(`${r.url}/CP-LATE`)).rejects.toThrow(/500/);
    finish({});
    expect(await next()).toEqual([3, 's1', {}]);
    expect(await closed).toBe(1001);
    await shutdown;
  });

  it('answers frames that are not OCPP-J with a CALLERROR and keeps the connection', async () => {
    const r = await rig(false, (c) => c.handle('Echo', ({ params }) => params));
    const { ws, next } = await client(`${r.url}/CP-5`);
    ws.send('{"not":"an array"}');
    expect(await next()).toEqual([4, '-1', 'RpcFrameworkError', 'Message must be an array', {}]);
    ws.send('[9,"x"]');
    expect(await next()).toEqual([4, '-1', 'MessageTypeNotSupported', 'Unrecognised message type', {}]);
    ws.send('[2,"n1",42,{}]');
    expect(await next()).toEqual([4, 'n1', 'RpcFrameworkError', 'Method must be a string', {}]);
    ws.send('not json');
    expect(await next()).toEqual([4, '-1', 'RpcFrameworkError', 'Message must be a JSON structure', {}]);
    ws.send(Buffer.from(JSON.stringify([2, 'b1', 'Echo', { binary: true }])), { binary: true });
    expect(await next()).toEqual([3, 'b1', { binary: true }]);
    ws.send('[2,"u1","Unknown",{}]');
    expect(await next()).toEqual([4, 'u1', 'NotImplemented', "Unable to handle 'Unknown' calls", {}]);
    ws.send('[3,"nobody-asked",{}]'); // an answer to nothing: dropped without a word
    ws.send(JSON.stringify([2, 'e1', 'Echo', { a: 1 }]));
    expect(await next()).toEqual([3, 'e1', { a: 1 }]);
    ws.close();
  });

  it('cuts off a connection that stops answering pings, and keeps one that answers', async () => {
    const r = await rig(false, () => undefined, 100);
    const live = await client(`${r.url}/CP-LIVE`);
    const deaf = await client(`${r.url}/CP-DEAF`, { autoPong: false });
    const deafClosed = new Promise<number>((resolve) => deaf.ws.once('close', (code) => resolve(code)));
    // The first ping goes unanswered; the second finds the connection still silent and ends it.
    expect(await deafClosed).toBe(1006);
    await new Promise((res) => setTimeout(res, 300));
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    expect(r.connections.map((c) => c.identity)).toEqual(['CP-LIVE', 'CP-DEAF']);
    live.ws.close();
  });
});

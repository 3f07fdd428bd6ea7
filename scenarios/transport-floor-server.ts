// The server side of the transport floor, in a process of its own, answering every CALL at
// once with a small CALLRESULT and storing nothing. `bare`: ws with the fleet's OCPP-J framing
// and no validation, what any CSMS on this machine pays before doing any work. `ocpp-rpc`: that
// library's RPCServer in strict mode (both directions validated), so its own cost per call can
// be read against the bare one.
import { RPCServer } from 'ocpp-rpc';
import { WebSocketServer } from 'ws';
import { CALL, decodeFrame, encodeCallResult, FrameError } from '../ocpp-j/index.js';
import type { FloorServerKind } from './transport-floor.js';

/** Half of a transaction's answers are empty (StatusNotification, MeterValues), half are not. */
const EMPTY = {};
const ACCEPTED = { idTagInfo: { status: 'Accepted' } };

async function bare(): Promise<number> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    skipUTF8Validation: true,
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  server.on('connection', (ws) => {
    ws.on('message', (data) => {
      const frame = decodeFrame(data.toString());
      if (frame instanceof FrameError || frame.type !== CALL) return;
      ws.send(encodeCallResult(frame.id, frame.action === 'MeterValues' ? EMPTY : ACCEPTED));
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as { port: number }).port;
}

async function ocppRpc(): Promise<number> {
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true, wssOptions: { perMessageDeflate: false } });
  server.on('client', (client: { handle(method: string, fn: () => unknown): void }) => {
    client.handle('MeterValues', () => EMPTY);
    client.handle('Authorize', () => ACCEPTED);
  });
  const http = await server.listen(0, '127.0.0.1');
  return (http.address() as { port: number }).port;
}

const kind: FloorServerKind = process.argv[2] === 'ocpp-rpc' ? 'ocpp-rpc' : 'bare';
const port = kind === 'ocpp-rpc' ? await ocppRpc() : await bare();
// The kind comes back in the ready line, so the figures name the server that really ran.
process.stdout.write(`listening on ws://127.0.0.1:${port}/ocpp as ${kind}\n`);
// Ends with its parent: the measuring process closes stdin when done (or when it dies).
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

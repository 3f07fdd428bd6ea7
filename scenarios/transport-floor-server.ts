// The server side of the transport floor: a bare OCPP-J endpoint in a process of its own that
// answers every CALL at once with a small CALLRESULT. No validation, no storage, no billing:
// what it costs per call is what any CSMS on this machine pays before doing any work.
import { WebSocketServer } from 'ws';
import { CALL, decodeFrame, encodeCallResult, FrameError } from '../sim/ocpp-framing.js';

/** Half of a transaction's answers are empty (StatusNotification, MeterValues), half are not. */
const EMPTY = {};
const ACCEPTED = { idTagInfo: { status: 'Accepted' } };

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

server.on('listening', () => {
  const address = server.address();
  if (typeof address === 'object' && address) process.stdout.write(`listening on ws://127.0.0.1:${address.port}/ocpp\n`);
});

// Ends with its parent: the measuring process closes stdin when done (or when it dies).
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

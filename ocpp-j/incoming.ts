// Reading a frame as the answering side of a connection (a CSMS) must: tolerant where ocpp-rpc
// is (an empty frame is ignored, an answer without an id answers nothing) and, for a malformed
// frame, with the CALLERROR code and text ocpp-rpc gives it, so that a charger sees the same
// errors from any server built on this leaf. decodeFrame (framing.ts) is the strict reading a
// client uses on the frames it receives.
import { CALL, CALLERROR, CALLRESULT } from './framing.js';

/** One frame as read: a message, a frame to answer with a CALLERROR under id "-1", or one to drop. */
export type IncomingFrame =
  | { kind: 'call'; id: string; method: unknown; params: unknown }
  | { kind: 'result'; id: string; result: unknown }
  | { kind: 'error'; id: string; code: unknown; description: unknown; details: unknown }
  | { kind: 'malformed'; code: 'RpcFrameworkError' | 'MessageTypeNotSupported'; description: string }
  | { kind: 'dropped' };

const DROPPED: IncomingFrame = { kind: 'dropped' };

/** A frame's text, with the codes and texts ocpp-rpc gives malformed ones. */
export function parseIncomingFrame(text: string): IncomingFrame {
  if (text === '') return DROPPED; // some chargers send empty frames; ocpp-rpc ignores them too
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    msg = undefined;
  }
  if (msg === undefined) return { kind: 'malformed', code: 'RpcFrameworkError', description: 'Message must be a JSON structure' };
  if (!Array.isArray(msg)) return { kind: 'malformed', code: 'RpcFrameworkError', description: 'Message must be an array' };
  const [type, id] = msg;
  if (typeof type !== 'number') return { kind: 'malformed', code: 'RpcFrameworkError', description: 'Message type must be a number' };
  if (type !== CALL && type !== CALLRESULT && type !== CALLERROR) {
    return { kind: 'malformed', code: 'MessageTypeNotSupported', description: 'Unrecognised message type' };
  }
  if (typeof id !== 'string') {
    // Only a CALL is answered: an answer without an id answers nothing.
    return type === CALL ? { kind: 'malformed', code: 'RpcFrameworkError', description: 'Message ID must be a string' } : DROPPED;
  }
  if (type === CALL) return { kind: 'call', id, method: msg[2], params: msg[3] };
  if (type === CALLRESULT) return { kind: 'result', id, result: msg[2] };
  return { kind: 'error', id, code: msg[2], description: msg[3], details: msg[4] };
}

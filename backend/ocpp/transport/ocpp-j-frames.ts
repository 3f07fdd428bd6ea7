// OCPP-J framing: the message type ids, the parsing of one text frame, and the writing of the
// three kinds of frame. Kept small and apart, as a shared OCPP-J module for the simulator and
// the back end will replace it.

export const CALL = 2;
export const CALLRESULT = 3;
export const CALLERROR = 4;

/** One frame as read: a message, a frame to answer with a CALLERROR under id "-1", or one to drop. */
export type Frame =
  | { kind: 'call'; id: string; method: unknown; params: unknown }
  | { kind: 'result'; id: string; result: unknown }
  | { kind: 'error'; id: string; code: unknown; description: unknown; details: unknown }
  | { kind: 'malformed'; code: 'RpcFrameworkError' | 'MessageTypeNotSupported'; description: string }
  | { kind: 'dropped' };

const DROPPED: Frame = { kind: 'dropped' };

/** A frame's text, with the codes and texts ocpp-rpc gives malformed ones. */
export function parseFrame(text: string): Frame {
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

export function callFrame(id: string, method: string, params: unknown): string {
  return `[${CALL},${JSON.stringify(id)},${JSON.stringify(method)},${JSON.stringify(params)}]`;
}

export function resultFrame(id: string, result: unknown): string {
  return `[${CALLRESULT},${JSON.stringify(id)},${JSON.stringify(result)}]`;
}

export function errorFrame(id: string, code: string, description: string, details: unknown): string {
  return JSON.stringify([CALLERROR, id, code, description, details]);
}

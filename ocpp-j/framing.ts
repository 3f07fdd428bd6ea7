// OCPP-J framing: [2, id, action, payload] CALL, [3, id, payload] CALLRESULT,
// [4, id, code, description, details] CALLERROR. Decoding never throws anything but
// FrameError, and only from decodeFrame's strict variant; decodeFrame returns it.

export const CALL = 2;
export const CALLRESULT = 3;
export const CALLERROR = 4;

export type JsonObject = Record<string, unknown>;

export interface CallFrame {
  type: typeof CALL;
  id: string;
  action: string;
  payload: JsonObject;
}

export interface CallResultFrame {
  type: typeof CALLRESULT;
  id: string;
  payload: JsonObject;
}

export interface CallErrorFrame {
  type: typeof CALLERROR;
  id: string;
  code: string;
  description: string;
  details: JsonObject;
}

export type Frame = CallFrame | CallResultFrame | CallErrorFrame;

export type FrameErrorKind = 'json' | 'not-array' | 'bad-type' | 'bad-id' | 'bad-action' | 'bad-payload' | 'bad-error';

/** Malformed frame. `id` is set when the message id could be read, so a CALLERROR can answer. */
export class FrameError extends Error {
  constructor(
    readonly kind: FrameErrorKind,
    message: string,
    readonly id: string | null = null,
    /** The message type id when it could be read (2, 3 or 4). */
    readonly messageType: number | null = null,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const MAX_ID_LENGTH = 36;

export function encodeCall(id: string, action: string, payload: unknown): string {
  return `[2,${JSON.stringify(id)},${JSON.stringify(action)},${JSON.stringify(payload)}]`;
}

export function encodeCallResult(id: string, payload: unknown): string {
  return `[3,${JSON.stringify(id)},${JSON.stringify(payload)}]`;
}

export function encodeCallError(id: string, code: string, description: string, details: unknown = {}): string {
  return `[4,${JSON.stringify(id)},${JSON.stringify(code)},${JSON.stringify(description)},${JSON.stringify(details)}]`;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EMPTY_RESULT_HEAD = '[3,"';
const EMPTY_RESULT_TAIL = '",{}]';

/**
 * `[3,"id",{}]` exactly as a CSMS serialises it: most answers (StatusNotification, MeterValues)
 * are empty, and reading them without the JSON parser gives the same frame for less work.
 * Anything else (spaces, escapes, other ids) returns null and takes the general path.
 */
function emptyCallResult(text: string): CallResultFrame | null {
  const end = text.length - EMPTY_RESULT_TAIL.length;
  if (end - EMPTY_RESULT_HEAD.length < 1 || end - EMPTY_RESULT_HEAD.length > MAX_ID_LENGTH) return null;
  if (!text.startsWith(EMPTY_RESULT_HEAD) || !text.endsWith(EMPTY_RESULT_TAIL)) return null;
  for (let i = EMPTY_RESULT_HEAD.length; i < end; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE || ch === BACKSLASH || ch < 0x20) return null;
  }
  return { type: CALLRESULT, id: text.slice(EMPTY_RESULT_HEAD.length, end), payload: {} };
}

/** Parses one text frame. Returns a Frame or a FrameError (never throws). */
export function decodeFrame(text: string): Frame | FrameError {
  const empty = emptyCallResult(text);
  if (empty) return empty;
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return new FrameError('json', 'frame is not valid JSON');
  }
  if (!Array.isArray(msg)) return new FrameError('not-array', 'frame is not a JSON array');
  const type = msg[0];
  const rawId = msg[1];
  const id = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= MAX_ID_LENGTH ? rawId : null;
  const knownType = type === CALL || type === CALLRESULT || type === CALLERROR ? (type as number) : null;
  if (knownType === null) return new FrameError('bad-type', `unknown message type ${JSON.stringify(type)}`, id);
  if (id === null) return new FrameError('bad-id', 'message id must be a non-empty string of at most 36 characters', null, knownType);
  switch (knownType) {
    case CALL: {
      if (msg.length !== 4) return new FrameError('bad-payload', `CALL must have 4 elements, got ${msg.length}`, id, CALL);
      const action = msg[2];
      if (typeof action !== 'string' || action.length === 0) return new FrameError('bad-action', 'CALL action must be a non-empty string', id, CALL);
      const payload = msg[3];
      if (!isObject(payload)) return new FrameError('bad-payload', 'CALL payload must be a JSON object', id, CALL);
      return { type: CALL, id, action, payload };
    }
    case CALLRESULT: {
      if (msg.length !== 3) return new FrameError('bad-payload', `CALLRESULT must have 3 elements, got ${msg.length}`, id, CALLRESULT);
      const payload = msg[2];
      if (!isObject(payload)) return new FrameError('bad-payload', 'CALLRESULT payload must be a JSON object', id, CALLRESULT);
      return { type: CALLRESULT, id, payload };
    }
    default: {
      if (msg.length !== 5) return new FrameError('bad-error', `CALLERROR must have 5 elements, got ${msg.length}`, id, CALLERROR);
      const [, , code, description, details] = msg;
      if (typeof code !== 'string' || typeof description !== 'string' || !isObject(details))
        return new FrameError('bad-error', 'CALLERROR needs string code, string description, object details', id, CALLERROR);
      return { type: CALLERROR, id, code, description, details };
    }
  }
}

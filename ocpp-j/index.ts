// OCPP-J, the JSON-over-WebSocket transport of OCPP: message type ids, framing and parsing of
// frames, the error codes, and the schema lookup. A leaf: it imports nothing else of ours, so
// the simulator, calibrate and the back end can share it.

export * from './framing.js';
export * from './incoming.js';
export * from './errors.js';
export * from './schemas.js';
export * from './library-validator.js';

import { describe, expect, it } from 'vitest';
import { ocpp16 } from '../sim/dialect-ocpp16.js';
import { CALL, CALLERROR, CALLRESULT, decodeFrame, encodeCall, encodeCallError, encodeCallResult, FrameError } from '../ocpp-j/index.js';
import { schemaValidator, SchemaValidator } from '../ocpp-j/index.js';

describe('OCPP-J framing', () => {
  it('round-trips CALL, CALLRESULT and CALLERROR', () => {
    const call = decodeFrame(encodeCall('a1', 'Heartbeat', {}));
    expect(call).toEqual({ type: CALL, id: 'a1', action: 'Heartbeat', payload: {} });
    const res = decodeFrame(encodeCallResult('a1', { currentTime: '2025-01-01T00:00:00.000Z' }));
    expect(res).toEqual({ type: CALLRESULT, id: 'a1', payload: { currentTime: '2025-01-01T00:00:00.000Z' } });
    const err = decodeFrame(encodeCallError('a1', 'NotImplemented', 'nope', { x: 1 }));
    expect(err).toEqual({ type: CALLERROR, id: 'a1', code: 'NotImplemented', description: 'nope', details: { x: 1 } });
  });

  it('reads an empty CALLRESULT exactly as the JSON parser would', () => {
    for (const id of ['1', 'zz9', 'x'.repeat(36), '\u00e9t\u00e9', 'a]b,c']) {
      expect(decodeFrame(`[3,"${id}",{}]`)).toEqual({ type: CALLRESULT, id, payload: {} });
    }
    expect(decodeFrame('[3, "a1", {}]')).toEqual({ type: CALLRESULT, id: 'a1', payload: {} });
    expect(decodeFrame('[3,"a\\u0031",{}]')).toEqual({ type: CALLRESULT, id: 'a1', payload: {} });
    expect(decodeFrame('[3,"a\\"b",{}]')).toEqual({ type: CALLRESULT, id: 'a"b', payload: {} });
    expect(decodeFrame(`[3,"${'x'.repeat(37)}",{}]`)).toMatchObject({ kind: 'bad-id' });
    expect(decodeFrame('[3,"",{}]')).toMatchObject({ kind: 'bad-id' });
  });

  it('escapes ids and actions safely', () => {
    const text = encodeCall('"weird\\id', 'Data"Transfer', { data: '\u2028' });
    const f = decodeFrame(text);
    expect(f).toMatchObject({ id: '"weird\\id', action: 'Data"Transfer' });
  });

  it.each([
    ['not json', '[2,"x"', 'json', null],
    ['not an array', '{"a":1}', 'not-array', null],
    ['unknown type', '[7,"id1","Heartbeat",{}]', 'bad-type', 'id1'],
    ['numeric id', '[2,17,"Heartbeat",{}]', 'bad-id', null],
    ['empty id', '[2,"","Heartbeat",{}]', 'bad-id', null],
    ['id too long', `[2,"${'x'.repeat(37)}","Heartbeat",{}]`, 'bad-id', null],
    ['action not a string', '[2,"id2",5,{}]', 'bad-action', 'id2'],
    ['payload not an object', '[2,"id3","Heartbeat",[]]', 'bad-payload', 'id3'],
    ['CALL too short', '[2,"id4","Heartbeat"]', 'bad-payload', 'id4'],
    ['CALLRESULT payload null', '[3,"id5",null]', 'bad-payload', 'id5'],
    ['CALLERROR code not string', '[4,"id6",1,"d",{}]', 'bad-error', 'id6'],
    ['CALLERROR too short', '[4,"id7","GenericError","d"]', 'bad-error', 'id7'],
    ['empty string', '', 'json', null],
    ['null', 'null', 'not-array', null],
  ])('malformed frame (%s) yields a typed FrameError, not a throw', (_name, text, kind, id) => {
    const f = decodeFrame(text);
    expect(f).toBeInstanceOf(FrameError);
    const e = f as FrameError;
    expect(e.kind).toBe(kind);
    expect(e.id).toBe(id);
  });
});

describe('schema validation (ocpp-rpc 1.6 schemas)', () => {
  const v = schemaValidator('ocpp1.6');

  it('is one shared instance per thread', () => {
    expect(schemaValidator('ocpp1.6')).toBe(v);
  });

  it('accepts what the 1.6 dialect builds', () => {
    const ts = '2025-03-30T00:59:59.000Z';
    const msgs = [
      ocpp16.bootNotification({ vendor: 'v', model: 'm', serialNumber: 's', firmwareVersion: 'f' }),
      ocpp16.heartbeat(),
      ocpp16.statusNotification(1, 'Charging', ts),
      ocpp16.authorize('TOKEN1'),
      ocpp16.startTransaction(1, 'TOKEN1', 123456, ts),
      ocpp16.meterValues(1, '42', {
        timestamp: ts,
        registerJ: 123999 * 3600,
        registerDecimals: 0,
        powerW: 11000,
        socPct: 55,
        context: 'Sample.Periodic',
        measurands: ['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC'],
      }),
      ocpp16.stopTransaction('42', 'TOKEN1', 130000, ts, 'Local'),
      ocpp16.dataTransfer('chargebench', 'x', 'y'),
    ];
    for (const m of msgs) expect(v.validate(m.action, 'req', m.payload), m.action).toBeNull();
    expect(ocpp16.statusNotification(1, 'Available', ts).payload.timestamp).toBe(ts);
  });

  it('writes the energy register with 0..3 decimals, truncated from the joules; a status without timestamp', () => {
    const ts = '2025-03-30T00:59:59.000Z';
    const register = (registerJ: number, registerDecimals: number, closing = false) => {
      const sample = {
        timestamp: ts,
        registerJ,
        registerDecimals,
        powerW: 7400,
        socPct: 61,
        context: 'Sample.Periodic' as const,
        measurands: ['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC'] as const,
      };
      const m = closing ? ocpp16.stopTransaction('42', 'TOKEN1', Math.floor(registerJ / 3600), ts, 'Local', sample) : ocpp16.meterValues(1, '42', sample);
      expect(v.validate(m.action, 'req', m.payload), m.action).toBeNull();
      const mv = (closing ? m.payload.transactionData : m.payload.meterValue) as Array<{ sampledValue: Array<{ value: string; measurand: string }> }>;
      const values = Object.fromEntries(mv[0].sampledValue.map((s) => [s.measurand, s.value]));
      expect(values['Power.Active.Import']).toBe('7400');
      expect(values.SoC).toBe('61');
      return values['Energy.Active.Import.Register'];
    };
    // 1,368,792 J = 380.22 Wh exactly; one joule less is 380.2197... Wh.
    expect(register(1_368_792, 0)).toBe('380');
    expect(register(1_368_792, 1)).toBe('380.2');
    expect(register(1_368_792, 2)).toBe('380.22');
    expect(register(1_368_792, 3)).toBe('380.220');
    expect(register(1_368_791, 2)).toBe('380.21');
    expect(register(1_368_791, 3)).toBe('380.219');
    expect(register(1_368_791, 2, true)).toBe('380.21');
    // Leading zeros of the fraction, a whole Wh, the register's lower and upper ends.
    expect(register(3600 * 7 + 35, 2)).toBe('7.00');
    expect(register(3600 * 7 + 36, 2)).toBe('7.01');
    expect(register(3600 * 7 + 4, 3)).toBe('7.001');
    expect(register(3600 * 7 + 3, 3)).toBe('7.000');
    expect(register(0, 3)).toBe('0.000');
    expect(register(9_999_999 * 3600 + 3599, 3)).toBe('9999999.999');
    expect(register(9_999_999 * 3600 + 3599, 0)).toBe('9999999');
    const bare = ocpp16.statusNotification(1, 'Available', null);
    expect(bare.payload).toEqual({ connectorId: 1, errorCode: 'NoError', status: 'Available' });
    expect(v.validate(bare.action, 'req', bare.payload)).toBeNull();
  });

  it('rejects bad payloads with OCPP 1.6 error codes', () => {
    expect(v.validate('StartTransaction', 'req', { connectorId: 1, idTag: 'A', timestamp: '2025-01-01T00:00:00Z' })?.code).toBe('OccurenceConstraintViolation');
    expect(v.validate('StartTransaction', 'req', { connectorId: '1', idTag: 'A', meterStart: 0, timestamp: '2025-01-01T00:00:00Z' })?.code).toBe(
      'TypeConstraintViolation',
    );
    expect(v.validate('StatusNotification', 'req', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' })?.code).toBe('PropertyConstraintViolation');
    expect(v.validate('StartTransaction', 'req', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: 'yesterday' })).not.toBeNull();
    expect(v.validate('NoSuchAction', 'req', {})?.code).toBe('NotImplemented');
    expect(v.hasAction('RemoteStartTransaction')).toBe(true);
    expect(v.hasAction('Frobnicate')).toBe(false);
  });

  it('compiles each schema once (lazily)', () => {
    const fresh = new SchemaValidator('ocpp1.6');
    const caches = fresh as unknown as { compiledReq: Map<string, unknown>; compiledConf: Map<string, unknown> };
    const compiled = () => caches.compiledReq.size + caches.compiledConf.size;
    expect(compiled()).toBe(0);
    fresh.validate('Heartbeat', 'req', {});
    fresh.validate('Heartbeat', 'req', {});
    fresh.validate('Heartbeat', 'conf', { currentTime: '2025-01-01T00:00:00Z' });
    expect(compiled()).toBe(2);
  });
});

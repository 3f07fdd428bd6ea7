// The register rules (backend/billing/registers.ts): a fall that rounding explains is no
// change, any other fall is a meter reset; the session's energy is a difference of its own
// start and stop registers.
import { describe, expect, it } from 'vitest';
import { fallIsRounding, registerValue, resolutionOf, settleRegisters } from '../backend/billing/registers.js';

const settle = (...values: string[]) => {
  const s = settleRegisters(values.map((v) => registerValue(v)));
  return { values: s.values.map(String), energy: s.energyWh[s.energyWh.length - 1].toString(), resets: s.resets };
};

describe('register resolution', () => {
  it('is one unit of the last decimal place as written', () => {
    expect(['380', '380.2', '380.22', '380.20', '0.001', '7'].map((v) => resolutionOf(v).toString())).toEqual(['1', '0.1', '0.01', '0.01', '0.001', '1']);
    expect(resolutionOf(12).toString()).toBe('1');
  });

  it('a fall is rounding when it is smaller than both resolutions together', () => {
    expect(fallIsRounding(registerValue('380.22'), registerValue('380'))).toBe(true);
    expect(fallIsRounding(registerValue('381'), registerValue('380'))).toBe(true); // 380.5 rounded up, 380.9 truncated
    expect(fallIsRounding(registerValue('382'), registerValue('380'))).toBe(false);
    expect(fallIsRounding(registerValue('380.5'), registerValue('380.3'))).toBe(false);
    expect(fallIsRounding(registerValue('12300', '100'), registerValue('12250'))).toBe(true); // "12.3" kWh
  });
});

describe('settling a session register series', () => {
  it('caps decimal readings at a later integer stop register a fraction below them', () => {
    expect(settle('0', '190.57', '380.22', '380')).toEqual({ values: ['0', '190.57', '380', '380'], energy: '380', resets: [] });
  });

  it('raises a reading a fraction below the start register to it', () => {
    expect(settle('100', '99.6', '150')).toEqual({ values: ['100', '100', '150'], energy: '50', resets: [] });
  });

  it('takes a fall beyond rounding as a reset: the value after it is the energy since', () => {
    expect(settle('5000', '5400.5', '300')).toEqual({ values: ['5000', '5400.5', '300'], energy: '700.5', resets: [2] });
  });

  it('never caps the start register itself', () => {
    expect(settle('380.5', '380')).toEqual({ values: ['380.5', '380.5'], energy: '0', resets: [] });
  });
});

// `chargebench quote` as a user runs it: files in, OCPI cost breakdown out, exit 2 on bad input.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from './helpers/run-cli.js';

async function quote(tariff: unknown, session: unknown): Promise<CliOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'cb-quote-'));
  await writeFile(join(dir, 'tariff.json'), JSON.stringify(tariff));
  await writeFile(join(dir, 'session.json'), JSON.stringify(session));
  return runCli(['quote', '--tariff', join(dir, 'tariff.json'), '--session', join(dir, 'session.json')]);
}

const tariff = {
  id: 'T',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'TIME', price: 3.0, vat: 10, step_size: 60 },
        { type: 'PARKING_TIME', price: 5.0, vat: 20, step_size: 300 },
      ],
    },
  ],
};
// 150 minutes charging then 42 minutes parked (the reference's worked vector: 11.25 / 12.75).
const session = {
  start_date_time: '2026-03-02T08:00:00Z',
  end_date_time: '2026-03-02T11:12:00Z',
  time_zone: 'Europe/Berlin',
  charging_periods: [
    {
      start_date_time: '2026-03-02T08:00:00Z',
      dimensions: [
        { type: 'ENERGY', volume: 30 },
        { type: 'TIME', volume: 2.5 },
      ],
    },
    { start_date_time: '2026-03-02T10:30:00Z', dimensions: [{ type: 'PARKING_TIME', volume: 0.7 }] },
  ],
};

describe('chargebench quote', () => {
  it('prints the OCPI cost breakdown of a session', async () => {
    const result = await quote(tariff, session);
    expect(result.code, result.stderr).toBe(0);
    const breakdown = JSON.parse(result.stdout);
    expect(breakdown.total_cost).toEqual({ excl_vat: '11.25', incl_vat: '12.75' });
    expect(breakdown.total_parking_time).toBe('0.75');
    expect(breakdown.currency).toBe('EUR');
  });

  it('exits 2 and names the field when the input is wrong', async () => {
    const result = await quote(tariff, { ...session, time_zone: 'Europe/Berlim' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/session\.time_zone/);
    const bad = await quote({ ...tariff, elements: [] }, session);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/tariff\.elements/);
  });
});

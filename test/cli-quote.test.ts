// `chargebench quote` as a user runs it: files in, OCPI cost breakdown out, exit 2 on bad input.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'bin', 'chargebench.js');

async function quote(tariff: unknown, session: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cb-quote-'));
  await writeFile(join(dir, 'tariff.json'), JSON.stringify(tariff));
  await writeFile(join(dir, 'session.json'), JSON.stringify(session));
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'quote', '--tariff', join(dir, 'tariff.json'), '--session', join(dir, 'session.json')]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const tariff = {
  id: 'T', currency: 'EUR',
  elements: [{ price_components: [
    { type: 'TIME', price: 3.0, vat: 10, step_size: 60 },
    { type: 'PARKING_TIME', price: 5.0, vat: 20, step_size: 300 },
  ] }],
};
// 150 minutes charging then 42 minutes parked (the reference's worked vector: 11.25 / 12.75).
const session = {
  start_date_time: '2026-03-02T08:00:00Z',
  end_date_time: '2026-03-02T11:12:00Z',
  time_zone: 'Europe/Berlin',
  charging_periods: [
    { start_date_time: '2026-03-02T08:00:00Z', dimensions: [{ type: 'ENERGY', volume: 30 }, { type: 'TIME', volume: 2.5 }] },
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

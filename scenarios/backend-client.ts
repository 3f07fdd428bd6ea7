// A small client for the reference back end's REST API (docs/http-api.md): provisioning
// before a run and fetching what was billed after it.
import type { Tariff } from '../backend/billing/ocpi.js';

export interface BilledDimension {
  quantity: string;
  exclVat: string;
  inclVat: string;
}

/** A session as the back end reports it; only the fields reconciliation reads. */
export interface BilledSession {
  id: number;
  transactionId: number;
  chargerId: string;
  connectorId: number;
  idTag: string;
  state: string;
  startedAt: string;
  stoppedAt: string | null;
  meterStartWh: number;
  meterStopWh: number | null;
  energyWh: number | null;
  flags: string[];
  cost: null | {
    currency: string;
    totalExclVat: string;
    totalInclVat: string;
    dimensions?: Partial<Record<'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT', BilledDimension>>;
  };
}

export class BackendClient {
  constructor(readonly baseUrl: string) {}

  async postTariff(tariff: Tariff, makeDefault = true): Promise<void> {
    await this.request('POST', `/api/tariffs${makeDefault ? '?default=true' : ''}`, tariff);
  }

  async postTokens(tokens: Array<{ idTag: string; status?: string; group?: string }>): Promise<void> {
    await this.request('POST', '/api/tokens', tokens);
  }

  /** Assign a tariff to a scope; a `group` assignment prices the sessions of that group's tokens. */
  async postTariffAssignment(assignment: { tariffId: string; scope: 'group'; group: string }): Promise<void> {
    await this.request('POST', '/api/tariff-assignments', assignment);
  }

  async postChargers(chargers: Array<{ id: string; connectors: number; timeZone: string; tariffId?: string }>): Promise<void> {
    await this.request('POST', '/api/chargers', chargers);
  }

  /** Every completed session, page by page. */
  async completedSessions(): Promise<BilledSession[]> {
    const all: BilledSession[] = [];
    const limit = 5000;
    for (let offset = 0; ; offset += limit) {
      const page = (await this.request('GET', `/api/sessions?state=completed&limit=${limit}&offset=${offset}`)) as {
        items: BilledSession[];
        total: number;
      };
      all.push(...page.items);
      if (page.items.length < limit || all.length >= page.total) return all;
    }
  }

  async health(): Promise<unknown> {
    return this.request('GET', '/api/health');
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }
}

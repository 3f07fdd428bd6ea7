// The charger's OCPP configuration keys (GetConfiguration / ChangeConfiguration).

import { SUPPORTED_MEASURANDS, type ConfigurationEntry, type Measurand } from '../dialect.js';

export type ChangeOutcome = 'Accepted' | 'Rejected' | 'NotSupported';

interface KeyRule {
  readonly: boolean;
  /** Returns the normalised value, or null when the value is not acceptable. */
  check: (value: string) => string | null;
}

const positiveInt = (v: string): string | null => (/^\d+$/.test(v.trim()) && Number(v) > 0 && Number(v) <= 2_592_000 ? String(Number(v)) : null);
const bool = (v: string): string | null => {
  const s = v.trim().toLowerCase();
  return s === 'true' || s === 'false' ? s : null;
};
const measurands = (v: string): string | null => {
  const parts = v
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return null;
  for (const p of parts) if (!(SUPPORTED_MEASURANDS as readonly string[]).includes(p)) return null;
  return parts.join(',');
};
const never = (): string | null => null;

const RULES: Record<string, KeyRule> = {
  HeartbeatInterval: { readonly: false, check: positiveInt },
  MeterValueSampleInterval: { readonly: false, check: positiveInt },
  MeterValuesSampledData: { readonly: false, check: measurands },
  NumberOfConnectors: { readonly: true, check: never },
  AuthorizeRemoteTxRequests: { readonly: false, check: bool },
  SupportedFeatureProfiles: { readonly: true, check: never },
};

/** Parsed MeterValuesSampledData by its text: every sample reads it, and fleets share a few settings. */
const measurandLists = new Map<string, Measurand[]>();

export class ChargerConfiguration {
  private readonly values = new Map<string, string>();

  constructor(init: { heartbeatIntervalSec: number; meterValueSampleIntervalSec: number; connectors: number }) {
    this.values.set('HeartbeatInterval', String(init.heartbeatIntervalSec));
    this.values.set('MeterValueSampleInterval', String(init.meterValueSampleIntervalSec));
    this.values.set('MeterValuesSampledData', SUPPORTED_MEASURANDS.join(','));
    this.values.set('NumberOfConnectors', String(init.connectors));
    this.values.set('AuthorizeRemoteTxRequests', 'false');
    this.values.set('SupportedFeatureProfiles', 'Core,RemoteTrigger');
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  int(key: string): number {
    return Number(this.values.get(key));
  }

  bool(key: string): boolean {
    return this.values.get(key) === 'true';
  }

  measurands(): Measurand[] {
    const text = this.values.get('MeterValuesSampledData') ?? '';
    let list = measurandLists.get(text);
    if (!list) {
      list = text.split(',') as Measurand[];
      measurandLists.set(text, list);
    }
    return list.slice();
  }

  /** Sets a value from inside the charger (e.g. the heartbeat interval a BootNotification.conf gives). */
  setInternal(key: string, value: string): void {
    this.values.set(key, value);
  }

  list(keys: string[] | null): { entries: ConfigurationEntry[]; unknownKeys: string[] } {
    const entries: ConfigurationEntry[] = [];
    const unknownKeys: string[] = [];
    const wanted = keys && keys.length > 0 ? keys : [...this.values.keys()];
    for (const key of wanted) {
      const value = this.values.get(key);
      if (value === undefined) unknownKeys.push(key);
      else entries.push({ key, readonly: RULES[key]?.readonly ?? true, value });
    }
    return { entries, unknownKeys };
  }

  change(key: string, value: string): ChangeOutcome {
    const rule = RULES[key];
    if (!rule) return 'NotSupported';
    if (rule.readonly) return 'Rejected';
    const v = rule.check(value);
    if (v === null) return 'Rejected';
    this.values.set(key, v);
    return 'Accepted';
  }
}

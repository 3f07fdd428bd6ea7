// One fleet run as several shard processes: `--shard i/n` picks a deterministic slice of the
// chargers (charger k, counted from 0, belongs to shard k mod n + 1) and, for the arrival-rate
// load models, the matching slice of the fleet-wide arrivals. All shards drive the same CSMS.
import type { ShardSpec } from '../reports/model.js';

/** Read when `--shard` is not given, e.g. CHARGEBENCH_SHARD=2/4. */
export const SHARD_ENV = 'CHARGEBENCH_SHARD';

export const WHOLE_FLEET: ShardSpec = { index: 1, count: 1 };

export class ShardSpecError extends Error {}

/** Parses "i/n" (1 <= i <= n). `source` names where the text came from, for the message. */
export function parseShard(text: string, source = '--shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 1) || index > count) {
    throw new ShardSpecError(`${source} '${text}' is not a shard: write i/n with 1 <= i <= n, e.g. 1/4 for the first of four shard processes`);
  }
  return { index, count };
}

/** The shard from `--shard`, else from CHARGEBENCH_SHARD, else the whole fleet. */
export function shardFromOptions(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  if (flag !== undefined) return parseShard(flag);
  const fromEnv = env[SHARD_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseShard(fromEnv, SHARD_ENV);
  return WHOLE_FLEET;
}

/** Why a shard cannot run as asked, or null. All shards must drive one CSMS, so n > 1 needs --target. */
export function shardProblem(shard: ShardSpec, target: string | undefined, fleetChargers?: number): string | null {
  if (shard.count > 1 && !target) {
    return (
      `--shard ${shard.index}/${shard.count} needs --target: all shards must drive the same CSMS, and an embedded back end ` +
      `would be a different one per shard. Start one first (chargebench backend --port 8180 &) and give every shard ` +
      `--target ws://127.0.0.1:8180/ocpp`
    );
  }
  if (fleetChargers !== undefined && fleetChargers < shard.count) {
    return `--shard ${shard.index}/${shard.count}: the fleet has only ${fleetChargers} chargers; use at most ${fleetChargers} shards`;
  }
  return null;
}

/** The items of shard `index` of `count`: item k (from 0) where k mod count == index - 1. */
export function sliceForShard<T>(items: readonly T[], shard: ShardSpec): T[] {
  if (shard.count === 1) return [...items];
  return items.filter((_, k) => k % shard.count === shard.index - 1);
}

export const shardLabel = (shard: ShardSpec): string => `shard ${shard.index}/${shard.count}`;

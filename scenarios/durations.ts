// k6-style durations ("500ms", "30s", "2m", "1h", "1m30s") and stage lists ("30s:200,60s:1000").

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds, or null if `text` is not a duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h))+$/.test(s)) return null;
  let ms = 0;
  for (const m of s.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

export const DURATION_HINT = 'write a duration such as "90s", "2m", "1h" or "1m30s"';

/** "30s:200,60s:1000" -> stages in wall seconds with targets per second; throws a message naming the fix. */
export function parseStages(text: string): Array<{ durationSec: number; target: number }> {
  const stages = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((part) => {
      const [d, t, extra] = part.split(':');
      const ms = d === undefined ? null : parseDuration(d);
      const target = Number(t);
      if (ms === null || ms <= 0 || extra !== undefined || t === undefined || t.trim() === '' || !Number.isFinite(target) || target < 0) {
        throw new Error(`bad stage '${part}': write DURATION:TARGET pairs such as '30s:200,60s:1000' (target in transactions per second)`);
      }
      return { durationSec: ms / 1000, target };
    });
  if (stages.length === 0) throw new Error(`no stages in '${text}': write e.g. '30s:200,60s:1000'`);
  return stages;
}

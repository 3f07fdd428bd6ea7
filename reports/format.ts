// Small formatting helpers shared by the terminal, HTML and comparison reports.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** JSON that is safe inside <script> (no "<" so no "</script>" or "<!--"; no U+2028/2029). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** 1234567 -> "1,234,567"; fractions keep up to `digits` decimals. */
export function formatNumber(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

/** Milliseconds with sensible precision: 0.123, 12.3, 1,234. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs === 0) return '0';
  if (abs < 1) return ms.toFixed(3);
  if (abs < 100) return ms.toFixed(1).replace(/\.0$/, '');
  return formatNumber(Math.round(ms));
}

/** Rate per second: 1,523 or 12.3. */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return String(perSec);
  return Math.abs(perSec) >= 100 ? formatNumber(Math.round(perSec)) : formatNumber(perSec, 1);
}

/** 65_000 ms -> "01:05"; an hour or more -> "1:01:05". */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** 1234 ms -> "1.2 s", 95_000 -> "1 min 35 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return h > 0 ? `${h} h ${m} min ${s} s` : `${m} min ${s} s`;
}

/** Display width of a string, counting each code point as one column (no ANSI codes expected). */
export function textWidth(s: string): number {
  return [...s].length;
}

export function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - textWidth(s)));
}

export function padStart(s: string, width: number): string {
  return ' '.repeat(Math.max(0, width - textWidth(s))) + s;
}

/** A plain-text table: first column left-aligned, others right-aligned unless `align` says otherwise. */
export function textTable(header: string[], rows: string[][], align?: Array<'l' | 'r'>): string[] {
  const widths = header.map((h, i) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[i] ?? ''))));
  const al = (i: number) => align?.[i] ?? (i === 0 ? 'l' : 'r');
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (al(i) === 'l' ? padEnd(c ?? '', widths[i]) : padStart(c ?? '', widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}

// JUnit XML for CI: one <testsuite> per scenario, one <testcase> per check and per threshold.

import type { Summary, ThresholdResult } from './model.js';

/** Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids. */
export function escapeXml(s: string): string {
  return stripInvalidXmlChars(s).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

// Allowed: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; lone surrogates are not.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function stripInvalidXmlChars(s: string): string {
  return s.replace(INVALID_XML_CHARS, '\uFFFD');
}

/** Text inside an element: `]]>` needs no CDATA games since we escape `>`. */
function text(s: string): string {
  return escapeXml(s);
}

function attr(name: string, value: string | number): string {
  return `${name}="${escapeXml(String(value))}"`;
}

export interface JUnitOptions {
  /** Prefix of suite names and class names. Default "chargebench". */
  prefix?: string;
}

interface Case {
  classname: string;
  name: string;
  failure?: { message: string; body: string };
}

function thresholdMessage(t: ThresholdResult): string {
  const base = `${t.metric} ${t.expression} failed: actual ${formatActual(t.actual)}`;
  return t.note ? `${base} (${t.note})` : base;
}

function formatActual(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 1e6) / 1e6) : String(n);
}

function casesOf(summary: Summary, prefix: string): Case[] {
  const base = `${prefix}.${summary.scenario}`;
  const cases: Case[] = [];
  for (const c of summary.checks ?? []) {
    cases.push({
      classname: `${base}.checks`,
      name: c.name,
      failure: c.passed ? undefined : { message: c.detail ? `${c.name}: ${c.detail}` : `${c.name} failed`, body: c.detail },
    });
  }
  for (const t of summary.thresholds ?? []) {
    cases.push({
      classname: `${base}.thresholds`,
      name: `${t.metric}: ${t.expression}`,
      failure: t.passed
        ? undefined
        : {
            message: thresholdMessage(t),
            body: `metric: ${t.metric}\nexpression: ${t.expression}\nactual: ${formatActual(t.actual)}${t.note ? `\nnote: ${t.note}` : ''}`,
          },
    });
  }
  // A run that failed without any failing check or threshold (e.g. it broke) must still show red in CI.
  if (!summary.passed && !cases.some((c) => c.failure)) {
    cases.push({
      classname: `${base}.run`,
      name: 'scenario passed',
      failure: {
        message: `scenario ${summary.scenario} did not pass`,
        body: 'The run reported failure without a failing check or threshold; see the run log.',
      },
    });
  }
  return cases;
}

function suiteXml(summary: Summary, prefix: string, indent: string): { xml: string; tests: number; failures: number; time: number } {
  const cases = casesOf(summary, prefix);
  const failures = cases.filter((c) => c.failure).length;
  const time = Math.max(0, (summary.wallMs ?? 0) / 1000);
  const props: Array<[string, string | number]> = [
    ['seed', summary.seed],
    ['target', summary.target],
    ['chargers', summary.chargers],
    ['workers', summary.workers],
    ['simStart', summary.simStart],
    ['simSpeed', summary.simSpeed],
  ];
  const lines: string[] = [];
  lines.push(
    `${indent}<testsuite ${[
      attr('name', `${prefix}.${summary.scenario}`),
      attr('tests', cases.length),
      attr('failures', failures),
      attr('errors', 0),
      attr('skipped', 0),
      attr('time', time.toFixed(3)),
      attr('timestamp', junitTimestamp(summary.startedAt)),
    ].join(' ')}>`,
  );
  lines.push(`${indent}  <properties>`);
  for (const [k, v] of props) {
    if (v !== undefined && v !== null) lines.push(`${indent}    <property ${attr('name', k)} ${attr('value', v)}/>`);
  }
  lines.push(`${indent}  </properties>`);
  for (const c of cases) {
    const head = `${indent}  <testcase ${attr('classname', c.classname)} ${attr('name', c.name)} ${attr('time', '0')}`;
    if (!c.failure) {
      lines.push(`${head}/>`);
    } else {
      lines.push(`${head}>`);
      lines.push(`${indent}    <failure ${attr('message', c.failure.message)} ${attr('type', 'AssertionError')}>${text(c.failure.body)}</failure>`);
      lines.push(`${indent}  </testcase>`);
    }
  }
  lines.push(`${indent}</testsuite>`);
  return { xml: lines.join('\n'), tests: cases.length, failures, time };
}

/** JUnit's timestamp is an ISO 8601 date-time; keep what we have, or now if missing/invalid. */
function junitTimestamp(iso: string | undefined): string {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}

/** JUnit XML for one or several scenario summaries (one <testsuite> each, inside <testsuites>). */
export function toJUnitXml(summaries: Summary | Summary[], opts: JUnitOptions = {}): string {
  const prefix = opts.prefix ?? 'chargebench';
  const list = Array.isArray(summaries) ? summaries : [summaries];
  const suites = list.map((s) => suiteXml(s, prefix, '  '));
  const tests = suites.reduce((n, s) => n + s.tests, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  const time = suites.reduce((n, s) => n + s.time, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${[attr('name', prefix), attr('tests', tests), attr('failures', failures), attr('errors', 0), attr('time', time.toFixed(3))].join(' ')}>`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

import { describe, expect, it } from 'vitest';
import { escapeXml, toJUnitXml } from '../reports/junit.js';
import { buildSampleRunReport } from '../reports/sample-report.js';
import type { Summary } from '../reports/model.js';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/**
 * A small strict XML parser (elements, attributes, text, declaration): enough to prove the
 * output is well-formed (balanced tags, quoted attributes, no raw "<" or stray "&").
 */
function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const checkText = (t: string) => {
    if (/&(?!(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(t)) fail('stray &');
    if (t.includes('<')) fail('raw <');
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(t)) fail('invalid control character');
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  const skipWs = () => {
    while (/\s/.test(xml[i] ?? '')) i++;
  };
  const parseElement = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    i++;
    const name = /^[A-Za-z_][\w.-]*/.exec(xml.slice(i))?.[0] ?? fail('bad tag name');
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      skipWs();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return { name, attrs, children: [], text: '' };
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      const m = /^([A-Za-z_][\w.-]*)="([^"]*)"/.exec(xml.slice(i)) ?? fail('bad attribute');
      if (m[1] in attrs) fail('duplicate attribute');
      checkText(m[2]);
      attrs[m[1]] = decodeEntities(m[2]);
      i += m[0].length;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = xml.indexOf('<', i);
      if (next < 0) fail('unclosed element ' + name);
      const chunk = xml.slice(i, next);
      checkText(chunk);
      text += decodeEntities(chunk);
      i = next;
      if (xml.startsWith('</', i)) {
        const close = `</${name}>`;
        if (!xml.startsWith(close, i)) fail(`expected ${close}`);
        i += close.length;
        return { name, attrs, children, text };
      }
      children.push(parseElement());
    }
  };
  skipWs();
  const root = parseElement();
  skipWs();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

function nasty(): Summary {
  const s = buildSampleRunReport({ durationSec: 3, sessions: 20 }).summary;
  s.scenario = 'tariff <night> & "DST"';
  s.checks = [
    { name: 'every session billed once', passed: true, detail: '' },
    { name: 'bills <match> & "agree"', passed: false, detail: "ENERGY expected 4.2500 billed 4.0000; it's <wrong> & bad\u0001" },
  ];
  s.thresholds = [
    { metric: 'latency.StartTransaction', expression: 'p(99)<200', passed: true, actual: 12.5 },
    { metric: 'sessions.mismatched', expression: 'count==0', passed: false, actual: 3 },
    { metric: 'latency.Authorize', expression: 'p(99)<=5', passed: false, actual: 0, note: 'no samples recorded for this metric' },
  ];
  s.passed = false;
  return s;
}

describe('JUnit XML', () => {
  it('has one testcase per check and per threshold, with failures and counts', () => {
    const xml = toJUnitXml(nasty());
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs.tests).toBe('5');
    expect(root.attrs.failures).toBe('3');
    const suite = root.children[0];
    expect(suite.name).toBe('testsuite');
    expect(suite.attrs).toMatchObject({ name: 'chargebench.tariff <night> & "DST"', tests: '5', failures: '3', errors: '0', time: '3.000' });
    expect(suite.attrs.timestamp).toBe('2025-11-21T12:00:00.000Z');
    const cases = suite.children.filter((c) => c.name === 'testcase');
    expect(cases).toHaveLength(5);
    expect(cases.map((c) => c.attrs.name)).toEqual([
      'every session billed once',
      'bills <match> & "agree"',
      'latency.StartTransaction: p(99)<200',
      'sessions.mismatched: count==0',
      'latency.Authorize: p(99)<=5',
    ]);
    const failures = cases.filter((c) => c.children.some((x) => x.name === 'failure'));
    expect(failures).toHaveLength(3);
    const f = failures[0].children[0];
    expect(f.attrs.message).toBe('bills <match> & "agree": ENERGY expected 4.2500 billed 4.0000; it\'s <wrong> & bad\uFFFD');
    expect(f.text).toContain("it's <wrong> & bad");
    expect(failures[1].children[0].attrs.message).toBe('sessions.mismatched count==0 failed: actual 3');
    expect(failures[2].children[0].attrs.message).toContain('no samples recorded');
    expect(cases[2].attrs.classname).toBe('chargebench.tariff <night> & "DST".thresholds');
    const props = suite.children.find((c) => c.name === 'properties')!;
    expect(props.children.find((p) => p.attrs.name === 'seed')!.attrs.value).toBe('7');
  });

  it('several scenarios become several suites with summed totals', () => {
    const a = nasty();
    const b = buildSampleRunReport({ durationSec: 2, sessions: 5, thresholds: { dropped: ['count>=0'] } }).summary;
    b.checks = b.checks.map((c) => ({ ...c, passed: true }));
    b.passed = true;
    const root = parseXml(toJUnitXml([a, b]));
    expect(root.children).toHaveLength(2);
    expect(root.attrs.tests).toBe(String(5 + b.checks.length + 1));
    expect(root.attrs.failures).toBe('3');
  });

  it('a failed run without a failing case still shows a failure', () => {
    const s = nasty();
    s.checks = [];
    s.thresholds = [];
    const root = parseXml(toJUnitXml(s));
    expect(root.attrs.tests).toBe('1');
    expect(root.attrs.failures).toBe('1');
  });

  it('escapes all five XML specials and drops forbidden characters', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;');
    expect(escapeXml('ok\u0000\u001b\ttab')).toBe('ok\uFFFD\uFFFD\ttab');
    expect(escapeXml('😀')).toBe('😀');
    expect(escapeXml('\uD800x')).toBe('\uFFFDx');
  });
});

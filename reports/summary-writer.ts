// Writes the three report files of a run into one folder.

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from './model.js';
import { toJUnitXml } from './junit.js';
import { renderHtmlReport, type HtmlReportOptions } from './html.js';
import { RESULT_FILE, resultJson, toRunResult } from './run-result.js';

export interface WrittenReports {
  summaryPath: string;
  junitPath: string;
  htmlPath: string;
  /** result.json, for merging shard results; written when the report carries what a merge needs. */
  resultPath?: string;
}

/** Writes via a temporary file and rename, so a reader never sees half a file. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, path);
}

/** summary.json as written to disk: pretty, with a trailing newline. */
export function summaryJson(report: RunReport): string {
  return `${JSON.stringify(report.summary, null, 2)}\n`;
}

/**
 * Creates `dir` (like mkdir -p) and writes summary.json (pretty), junit.xml, report.html and,
 * for a run or a merge, result.json.
 */
export async function writeReports(dir: string, report: RunReport, opts: HtmlReportOptions = {}): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const summaryPath = join(dir, 'summary.json');
  const junitPath = join(dir, 'junit.xml');
  const htmlPath = join(dir, 'report.html');
  const result = toRunResult(report);
  const resultPath = join(dir, RESULT_FILE);
  await Promise.all([
    writeAtomically(summaryPath, summaryJson(report)),
    writeAtomically(junitPath, toJUnitXml(report.summary)),
    writeAtomically(htmlPath, renderHtmlReport(report, opts)),
    ...(result ? [writeAtomically(resultPath, resultJson(result))] : []),
  ]);
  return result ? { summaryPath, junitPath, htmlPath, resultPath } : { summaryPath, junitPath, htmlPath };
}

// `--html <out>`: the Analysis panel's bundle (dist/webview/analysis.{js,css}, found next to the
// CLI's own bundle) inlined with the result into one offline HTML file.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisResult } from '../protocol/analysisResult';
import { buildEvaluationReport } from '../core/reports/evaluationReport';
import { buildHtmlReport } from '../core/reports/htmlReport';
import { OutputError } from './exitCodes';
import type { BenchmarkSummary } from '../protocol/evaluationSummary';

/** The folder holding the panel bundle: dist/cli/../webview. */
export const WEBVIEW_BUNDLE_DIR = join(__dirname, '..', 'webview');

/** A panel bundle's script and stylesheet (`<name>.js`, `<name>.css` in `bundleDir`). */
export async function readPanelBundle(
  name: string,
  bundleDir: string = WEBVIEW_BUNDLE_DIR,
): Promise<{ script: string; style: string }> {
  const scriptPath = join(bundleDir, `${name}.js`);
  const stylePath = join(bundleDir, `${name}.css`);
  for (const path of [scriptPath, stylePath]) {
    if (!existsSync(path)) {
      throw new OutputError(
        `cannot write the HTML report: the panel bundle ${path} is missing (run npm run build)`,
      );
    }
  }
  const [script, style] = await Promise.all([
    readFile(scriptPath, 'utf8'),
    readFile(stylePath, 'utf8'),
  ]);
  return { script, style };
}

/** The report HTML for a result, from the panel bundle in `bundleDir`. */
export async function htmlReportFor(
  result: AnalysisResult,
  bundleDir: string = WEBVIEW_BUNDLE_DIR,
): Promise<string> {
  const { script, style } = await readPanelBundle('analysis', bundleDir);
  return buildHtmlReport({
    script,
    style,
    title: `${result.clip.name} — ${result.model.metadata.checkpoint.name} — MoSEAR Lens`,
    init: {
      origin: { kind: 'report' },
      result,
      canRun: false,
      readOnlyReason: `a report written by mosear-lens on ${result.createdAt.slice(0, 10)}; the AR flag preview works, re-runs need the extension`,
      workspaceDefaults: null,
      debounceMs: 250,
    },
  });
}

/** The Evaluate panel's report for a benchmark summary (the evaluate bundle with it embedded). */
export async function evaluationReportFor(
  summary: BenchmarkSummary,
  title: string,
  bundleDir: string = WEBVIEW_BUNDLE_DIR,
): Promise<string> {
  const bundle = await readPanelBundle('evaluation', bundleDir);
  const init = {
    title,
    runDirNote: 'a report written by mosear-lens eval',
    status: 'finished' as const,
    progress: null,
    summary,
    error: null,
  };
  return buildEvaluationReport(init, bundle);
}

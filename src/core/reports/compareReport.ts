// The Compare panel as a self-contained HTML report: its bundle (dist/webview/compare.{js,css})
// with the comparison embedded, through the same builder and CSP as the Analysis report. Pure,
// so the CLI and the extension host (which read the bundle files themselves) share it.
import type { ComparisonResult } from '../../protocol/comparisonResult';
import { buildHtmlReport } from './htmlReport';

/** The file base name of the Compare panel's bundle under dist/webview/. */
export const COMPARE_BUNDLE = 'compare';

/** The report page of a comparison; `note` says where it came from (shown as read-only). */
export function buildCompareReport(
  comparison: ComparisonResult,
  bundle: { script: string; style: string },
  note: string,
): string {
  const { a, b } = comparison.subjects;
  return buildHtmlReport({
    ...bundle,
    title: `${comparison.clip.name} — ${a.label} vs ${b.label} — MoSEAR Lens`,
    init: {
      origin: { kind: 'report' },
      comparison,
      canRun: false,
      readOnlyReason: note,
      debounceMs: 250,
    },
  });
}

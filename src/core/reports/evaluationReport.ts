// The Evaluate panel as a self-contained HTML report: its bundle (dist/webview/evaluation.{js,css})
// with the evaluation's state embedded. Pure, so the CLI's run folders and the panel's "Export
// HTML report" (which read the bundle files themselves) share it.
import type { EvaluationInit } from '../../protocol/evaluationMessages';
import { buildReportPage } from './htmlReport';

/** The report page of an evaluation: read-only (no host, so flipped clips cannot open). */
export function buildEvaluationReport(
  init: Omit<EvaluationInit, 'origin' | 'canOpenClips'>,
  bundle: { script: string; style: string },
): string {
  const data: EvaluationInit = { ...init, origin: { kind: 'report' }, canOpenClips: false };
  return buildReportPage({ ...bundle, data, title: `MoSEAR evaluation: ${init.title}` });
}

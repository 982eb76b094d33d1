// One clip analysis under a cancellable progress notification, showing the stages the host can
// see (decoding, inference in the worker); errors become one clear notification.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../../protocol/analysisResult';
import type { ArControls } from '../../../protocol/contract';
import type { GivenFeatures } from '../../../core/engine/featureSource';
import type { GivenTranscript } from '../../../core/engine/transcriptSource';
import type { AnalysisStage } from '../../extensionEngine';
import { messageOf } from '../../logger';
import type { PanelHost } from '../panelBase';

const STAGE_MESSAGES: Record<AnalysisStage, string> = {
  decoding: 'decoding the clip…',
  inference: 'inference in the worker process, then analysis…',
};

/** Analyses a clip: the result, or the error already shown to the user (none when cancelled). */
export async function analyzeWithProgress(
  host: PanelHost,
  clipPath: string,
  modelPath: string,
  options: {
    /** Controls to run with (the Evaluate panel's setting); settings fill the rest. */
    controls?: ArControls;
    /** An evaluation's decode cache to take the clip's tensors from (see ExtensionEngine). */
    decodeCacheDir?: string;
    /** The clip's transcript from a manifest row (else the engine reads a sidecar). */
    transcript?: GivenTranscript;
    /** The clip's FaceMAE / VideoMAE files from a manifest row (else sidecars, else zeros). */
    features?: GivenFeatures;
  } = {},
): Promise<{ result: AnalysisResult } | { error: string; cancelled: boolean }> {
  const name = basename(clipPath);
  host.logger.info(`analyze ${clipPath} with ${modelPath}`);
  const controller = new AbortController();
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `MoSEAR: ${name}`,
        cancellable: true,
      },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        progress.report({ message: `loading ${basename(modelPath)}…` });
        const request = { clipPath, modelPath, ...options };
        return host.engine.analyze(request, controller.signal, (stage) =>
          progress.report({ message: STAGE_MESSAGES[stage] }),
        );
      },
    );
    const t = result.timings;
    host.logger.info(
      `${name}: ${result.intervention.prediction.label} on ${result.runtime.provider}; ` +
        `decode ${Math.round(t.decodeMs)} ms${t.decodeCached ? ' (cached)' : ''}, ` +
        `inference ${Math.round(t.inferenceMs)} ms, analysis ${Math.round(t.analysisMs)} ms`,
    );
    return { result };
  } catch (error) {
    const cancelled = controller.signal.aborted;
    if (cancelled) {
      host.logger.info(`analysis of ${name} cancelled`);
      return { error: 'The analysis was cancelled.', cancelled };
    }
    host.logger.error(`analysis of ${name} failed`, error);
    const message = `MoSEAR: cannot analyze ${name}. ${messageOf(error)}`;
    host.logger.userError(message);
    return { error: message, cancelled };
  }
}

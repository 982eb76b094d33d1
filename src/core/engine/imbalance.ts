// The token-imbalance probe on one clip (issue 18 item 5; CONTRACT.md §1c): the clip analysed
// with `audio_repeat` k for each requested k, under `off` and the requested intervention, reduced
// to the prediction, the label probabilities and the audio UAP per layer. Each k is one analysis
// (two session runs in the checkpoint's worker), so the probe reports progress between k values
// and stops at the next one when its signal aborts.
import type { AnalysisResult, RunAnalysis } from '../../protocol/analysisResult';
import {
  IMBALANCE_RESULT_KIND,
  IMBALANCE_UNAVAILABLE,
  parseAudioRepeats,
  type ImbalanceProgress,
  type ImbalanceResult,
  type ImbalanceRun,
} from '../../protocol/imbalance';
import type { AnalysisEngine, AnalyzeRequest } from './analysisEngine';
import { EngineError } from './engineError';

/** What a probe analyses: an analysis request without its own k. */
export type ImbalanceRequest = Omit<AnalyzeRequest, 'audioRepeat' | 'thumbnails'> & {
  /** The k values (1 is added; sorted). */
  repeats: readonly number[];
};

function runOf(run: RunAnalysis, answer: number, base: number | undefined): ImbalanceRun {
  const logP = logProbOf(run, answer);
  return {
    prediction: run.prediction.index,
    probabilities: run.probabilities,
    audioUap: run.uapBefore.map((u) => u.audio),
    audioOfAV: run.uapBefore.map((u) => u.audioOfAV),
    answerLogProbChange: base === undefined ? 0 : logP - base,
  };
}

function logProbOf(run: RunAnalysis, answer: number): number {
  return Math.log(Math.max(run.probabilities[answer] ?? 0, Number.MIN_VALUE));
}

/**
 * Runs the probe. Refuses a checkpoint without `audio_repeat` (IMBALANCE_UNAVAILABLE) and a k
 * above its cap, before any run.
 */
export async function imbalanceProbe(
  engine: AnalysisEngine,
  request: ImbalanceRequest,
  signal?: AbortSignal,
  onProgress?: (p: ImbalanceProgress) => void,
): Promise<ImbalanceResult> {
  const model = await engine.model(request.modelPath);
  const max = model.metadata.audio.repeatMax;
  if (model.optional.audioRepeat !== true || max === undefined) {
    throw new EngineError('BAD_SETTINGS', `${model.fileName}: ${IMBALANCE_UNAVAILABLE}`);
  }
  const ks = parseAudioRepeats(request.repeats.join(','), max);
  if (typeof ks === 'string') throw new EngineError('BAD_SETTINGS', `audio repeats: ${ks}`);
  const results: { k: number; result: AnalysisResult }[] = [];
  onProgress?.({ done: 0, total: ks.length });
  for (const k of ks) {
    signal?.throwIfAborted();
    // The request's `repeats` rides along unread.
    const result = await engine.analyze({ ...request, audioRepeat: k, thumbnails: false }, signal);
    results.push({ k, result });
    onProgress?.({ done: results.length, total: ks.length });
  }
  const first = results[0]!.result;
  const answer = {
    off: first.baseline.prediction.index,
    intervention: first.intervention.prediction.index,
  };
  const baseOff = logProbOf(first.baseline, answer.off);
  const baseAr = logProbOf(first.intervention, answer.intervention);
  return {
    kind: IMBALANCE_RESULT_KIND,
    labels: [...model.metadata.labels],
    controls: first.settings.controls,
    answer,
    points: results.map(({ k, result }) => ({
      k,
      tokens: result.layout?.total ?? result.model.metadata.tokenLayout.total,
      off: runOf(result.baseline, answer.off, k === 1 ? undefined : baseOff),
      intervention: runOf(result.intervention, answer.intervention, k === 1 ? undefined : baseAr),
    })),
  };
}

// Head knockout on one clip through contract 1.1's `head_gate` (issue 18): the answer and every
// label's probability with chosen heads removed, under `off` and the requested intervention; and
// the effect ranking of the top K flagged heads (each removed alone, ranked by the change in the
// answer's log-probability) with its cumulative curve. Every run goes through the checkpoint's
// inference worker (AnalysisEngine.gatedRunner), one request per gate, so a ranking reports
// progress between runs and stops at the next run when its signal aborts.
import { flaggedHeadsByAudio } from '../../shared/flaggedHeads';
import type { ArControls } from '../../protocol/contract';
import {
  DEFAULT_RANK_K,
  HEAD_RANKING_KIND,
  KNOCKOUT_RESULT_KIND,
  KNOCKOUT_UNAVAILABLE,
  type HeadRanking,
  type HeadRef,
  type KnockoutResult,
  type KnockoutUnder,
  type RankProgress,
} from '../../protocol/knockout';
import type { WorkerRunOutput } from '../../protocol/workerMessages';
import {
  cumulativePoint,
  gatedRun,
  headsProblem,
  knockoutGate,
  knockoutPair,
  logProbability,
  rankBySingleKnockout,
} from '../analysis/knockout';
import { nestedArray } from '../analysis/runAnalysis';
import { InferenceError } from '../inference/inferenceError';
import type { AnalysisEngine, AnalyzeRequest, GatedRunner } from './analysisEngine';
import { EngineError } from './engineError';

/** What a knockout or a ranking analyses: an analysis request without its own gate. */
export type KnockoutBase = Omit<AnalyzeRequest, 'headGate' | 'thumbnails'>;

/** A knockout of chosen heads. */
export interface KnockoutRequest extends KnockoutBase {
  heads: HeadRef[];
}

/** An effect ranking. */
export interface RankRequest extends KnockoutBase {
  /** Candidates (default: the intervention run's flagged heads, most audio-attending first). */
  heads?: HeadRef[];
  /** How many candidates to rank (default 16). */
  k?: number;
  /** The controls the effects are measured under (default `off`: the model as it is). */
  under?: KnockoutUnder;
}

/** A runner for a request, refusing a checkpoint without `head_gate` with the one message. */
async function runnerFor(
  engine: AnalysisEngine,
  request: KnockoutBase,
  signal?: AbortSignal,
): Promise<GatedRunner> {
  const model = await engine.model(request.modelPath);
  if (!model.optional.headGate) throw new EngineError('BAD_SETTINGS', KNOCKOUT_UNAVAILABLE);
  return engine.gatedRunner(request, signal);
}

function checkHeads(runner: GatedRunner, heads: readonly HeadRef[]): void {
  const { layers: L, heads: Hh } = runner.model.metadata.architecture;
  const problem = headsProblem(heads, L, Hh);
  if (problem !== undefined) throw new EngineError('BAD_SETTINGS', `knockout: ${problem}`);
}

/** The requested controls and `off` (the same controls with mode 0). */
function controlPair(runner: GatedRunner): [ArControls, ArControls] {
  return [runner.controls, { ...runner.controls, mode: 0 }];
}

function summary(out: WorkerRunOutput) {
  return gatedRun(out.outputs.logits.data, out.outputs.layer_logits?.data);
}

/**
 * Knocks out `heads` on the clip: the answer and every label's probability under `off` and under
 * the request's controls, with every head kept and with those heads' gate 0.
 */
export async function knockoutHeads(
  engine: AnalysisEngine,
  request: KnockoutRequest,
  signal?: AbortSignal,
): Promise<KnockoutResult> {
  const runner = await runnerFor(engine, request, signal);
  checkHeads(runner, request.heads);
  const { layers: L, heads: Hh } = runner.model.metadata.architecture;
  const [controls, off] = controlPair(runner);
  const [before, beforeOff] = await runner.run(undefined, [controls, off], signal, true);
  const [after, afterOff] = await runner.run(
    knockoutGate(request.heads, L, Hh),
    [controls, off],
    signal,
    true,
  );
  if (!before || !beforeOff || !after || !afterOff) throw new Error('missing knockout runs');
  return {
    kind: KNOCKOUT_RESULT_KIND,
    labels: [...runner.model.metadata.labels],
    heads: request.heads.map((h) => ({ layer: h.layer, head: h.head })),
    off: knockoutPair(summary(beforeOff), summary(afterOff)),
    intervention: knockoutPair(summary(before), summary(after)),
  };
}

/**
 * Ranks the top K candidate heads by the change in the answer's log-probability when each is
 * knocked out alone (largest drop first), then knocks them out cumulatively in that order. One
 * worker request per gate: 1 (ungated, reusing the kept baseline where it can) + K + (K − 1).
 * `onProgress` hears after each; an aborted `signal` ends the ranking with CANCELLED.
 */
export async function rankHeads(
  engine: AnalysisEngine,
  request: RankRequest,
  signal?: AbortSignal,
  onProgress?: (progress: RankProgress) => void,
): Promise<HeadRanking> {
  const runner = await runnerFor(engine, request, signal);
  const meta = runner.model.metadata;
  const { layers: L, heads: Hh } = meta.architecture;
  const k = request.k ?? DEFAULT_RANK_K;
  if (!Number.isInteger(k) || k < 1) {
    throw new EngineError('BAD_SETTINGS', `rank: K must be a whole number ≥ 1, got ${k}`);
  }
  const under = request.under ?? 'off';
  const [controls, off] = controlPair(runner);
  const measured = under === 'off' ? off : controls;
  const stop = (): void => {
    if (signal?.aborted === true) {
      throw new InferenceError('CANCELLED', 'The head ranking was cancelled.');
    }
  };

  // The ungated runs: the answer, and the flags that choose the candidates.
  const [flagRun, base] = await runner.run(undefined, [controls, off], signal, true);
  if (!flagRun || !base) throw new Error('missing baseline runs');
  const baseline = under === 'off' ? base : flagRun;
  const answer = gatedRun(baseline.outputs.logits.data).prediction;
  const baseLogProb = logProbability(baseline.outputs.logits.data, answer);
  let candidates: HeadRef[];
  if (request.heads !== undefined) {
    checkHeads(runner, request.heads);
    candidates = request.heads;
  } else {
    const flags = nestedArray(flagRun.outputs.ar_flags.data, [L, Hh]) as number[][];
    const mass = nestedArray(flagRun.outputs.modality_mass.data, [L, Hh, 3]) as number[][][];
    candidates = flaggedHeadsByAudio(flags, mass);
    if (candidates.length === 0) {
      throw new EngineError(
        'BAD_SETTINGS',
        controls.mode === 0
          ? 'rank: no head is flagged with the intervention off; choose an intervention (AR) or name the heads'
          : 'rank: no head is flagged under these settings; name the heads instead',
      );
    }
  }
  const chosen = candidates.slice(0, k);
  const total = 1 + chosen.length + Math.max(0, chosen.length - 1);
  let done = 1;
  onProgress?.({ done, total, phase: 'baseline' });

  const singles: Float32Array[] = [];
  for (const head of chosen) {
    stop();
    const [out] = await runner.run(knockoutGate([head], L, Hh), [measured], signal);
    if (!out) throw new Error('missing knockout run');
    singles.push(out.outputs.logits.data);
    onProgress?.({ done: ++done, total, phase: 'single' });
  }
  const ranked = rankBySingleKnockout(chosen, singles, answer, baseLogProb);
  const cumulative = [cumulativePoint(0, baseline.outputs.logits.data, answer, baseLogProb)];
  for (let n = 1; n <= ranked.length; n++) {
    let logits: Float32Array | undefined;
    if (n === 1) {
      const first = ranked[0]!;
      logits = singles[chosen.findIndex((h) => h.layer === first.layer && h.head === first.head)];
    } else {
      stop();
      const [out] = await runner.run(knockoutGate(ranked.slice(0, n), L, Hh), [measured], signal);
      logits = out?.outputs.logits.data;
      onProgress?.({ done: ++done, total, phase: 'cumulative' });
    }
    if (logits === undefined) throw new Error('missing cumulative run');
    cumulative.push(cumulativePoint(n, logits, answer, baseLogProb));
  }
  return {
    kind: HEAD_RANKING_KIND,
    labels: [...meta.labels],
    under,
    answer,
    baseLogProb,
    candidates: candidates.length,
    k,
    ranked,
    cumulative,
  };
}

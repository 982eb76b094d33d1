// One clip, two subjects: two checkpoints, or one checkpoint under two settings. The clip is
// decoded once (the engine's clip cache shares one decode between concurrent requests for the
// same file and spec) and both subjects run at the same time. Two checkpoints run in their two
// workers with the cores split between them; one checkpoint's two settings go to its one worker,
// which serves them back to back (a second process for the same model would double its memory
// and session-open cost for runs that take milliseconds).
import { basename } from 'node:path';
import type { AnalysisResult } from '../../protocol/analysisResult';
import {
  COMPARISON_RESULT_KIND,
  COMPARISON_SCHEMA_VERSION,
  SUBJECT_KEYS,
  type ComparisonResult,
  type ComparisonSubject,
  type SubjectKey,
} from '../../protocol/comparisonResult';
import type { ArControls } from '../../protocol/contract';
import type { AnalysisEngine, AnalyzeRequest } from './analysisEngine';
import { resolveControls } from './analysisEngine';

/** One side of a comparison as asked for. */
export interface CompareSubjectRequest {
  modelPath: string;
  /** Fields left out come from the checkpoint's `mosear.ar_defaults`. */
  controls?: Partial<ArControls>;
  /** Default: from the checkpoint's name and the intervention mode. */
  label?: string;
}

/** A comparison to run; `executionProvider`, `allowFallback` and `thumbnails` apply to both. */
export interface CompareRequest extends Omit<AnalyzeRequest, 'modelPath' | 'controls'> {
  subjects: Record<SubjectKey, CompareSubjectRequest>;
}

const MODE_WORDS = ['off', 'AR', 'PAI'] as const;

/** The subjects' default labels: checkpoint names, with the mode when the names are equal. */
export function subjectLabels(
  names: Record<SubjectKey, string>,
  controls: Record<SubjectKey, ArControls>,
): Record<SubjectKey, string> {
  if (names.a !== names.b) return names;
  const [a, b] = SUBJECT_KEYS.map((k) => `${names[k]} · ${MODE_WORDS[controls[k].mode]}`);
  if (a !== b) return { a: a as string, b: b as string };
  return { a: `${a as string} (A)`, b: `${b as string} (B)` };
}

/** Runs both subjects on the clip and returns the ComparisonResult. */
export async function compareClip(
  engine: AnalysisEngine,
  request: CompareRequest,
  signal?: AbortSignal,
): Promise<ComparisonResult> {
  const started = performance.now();
  const { subjects, ...shared } = request;
  const [modelA, modelB] = await Promise.all([
    engine.model(subjects.a.modelPath),
    engine.model(subjects.b.modelPath),
  ]);
  // Resolved up front so a bad setting fails before anything is decoded or run.
  const controls = {
    a: resolveControls(modelA.metadata, subjects.a.controls),
    b: resolveControls(modelB.metadata, subjects.b.controls),
  };
  engine.reserveWorkers(SUBJECT_KEYS.map((k) => subjects[k].modelPath));
  const decodesBefore = engine.clipDecodes;
  // One cancellation for both: when either fails, the other is stopped too.
  const both = new AbortController();
  const onAbort = (): void => both.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) both.abort(signal.reason);
  let results: AnalysisResult[];
  try {
    results = await Promise.all(
      SUBJECT_KEYS.map((k) =>
        engine
          .analyze(
            { ...shared, modelPath: subjects[k].modelPath, controls: controls[k] },
            both.signal,
          )
          .catch((error: unknown) => {
            both.abort(error);
            throw error;
          }),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const [a, b] = results as [AnalysisResult, AnalysisResult];
  const labels = subjectLabels(
    { a: a.model.metadata.checkpoint.name, b: b.model.metadata.checkpoint.name },
    controls,
  );
  const subject = (k: SubjectKey, result: AnalysisResult): ComparisonSubject => ({
    label: subjects[k].label ?? labels[k],
    modelPath: result.model.path,
    controls: result.settings.controls,
    result,
  });
  return {
    kind: COMPARISON_RESULT_KIND,
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    comparing: a.model.path === b.model.path ? 'settings' : 'checkpoints',
    clip: { path: a.clip.path, name: basename(a.clip.path) },
    subjects: { a: subject('a', a), b: subject('b', b) },
    timings: {
      clipDecodes: engine.clipDecodes - decodesBefore,
      totalMs: performance.now() - started,
    },
  };
}

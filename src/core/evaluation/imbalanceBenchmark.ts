// The token-imbalance probe over a labelled manifest (`mosear-lens eval --audio-repeat`, and the
// imbalance section of RESULTS.md): every clip under every checkpoint with its audio token
// repeated k times for each k (contract 1.2's `audio_repeat`, CONTRACT.md §1c), under `off`
// (the paper's Fig. 3c and research.evaluate's duplication probe are plain forwards); then the
// accuracy per subset and the audio-aligned − video-aligned gap at each k. One worker request
// per clip carries every k (logits only); `jobs` lanes take the clips in turn, each through its
// own AnalysisEngine. A clip that cannot run is recorded with its reason and left out of the
// figures; a checkpoint without the input is refused with the reason before any clip runs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  IMBALANCE_SUMMARY_KIND,
  IMBALANCE_UNAVAILABLE,
  parseAudioRepeats,
  type ImbalanceBenchmarkPoint,
  type ImbalanceCheckpoint,
  type ImbalanceSummary,
} from '../../protocol/imbalance';
import { toCsv } from '../../shared/csv';
import type { ClipDecoder } from '../decode/clipDecoder';
import { DecodeError } from '../decode/decodeError';
import { AnalysisEngine, type LoadedModel } from '../engine/analysisEngine';
import type { StoredDecodes } from '../engine/clipCache';
import { EngineError } from '../engine/engineError';
import { writeFileAtomic } from '../io/atomicWrite';
import { locateManifest, readManifest } from './manifest';

/** What an imbalance benchmark runs. */
export interface ImbalanceBenchmarkOptions {
  manifest: string;
  models: readonly string[];
  /** The k values (1 is added; sorted). */
  repeats: readonly number[];
  workerScript: string;
  decoder: ClipDecoder;
  decodeCache?: StoredDecodes;
  /** Cores each lane's sessions use (default 1). */
  cores?: number;
  /** Lanes working on different clips at once (default 1). */
  jobs?: number;
  signal?: AbortSignal;
  /** Clips done (under every checkpoint) of all. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

const argmax = (row: Float32Array): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++)
    if ((row[i] ?? -Infinity) > (row[best] ?? -Infinity)) best = i;
  return best;
};

/** CA-MER's subsets in the order the tables show them (others follow in first-seen order). */
const SUBSET_ORDER = ['consistent', 'audio-aligned', 'video-aligned'];

/** Accuracy per subset and the gap at each k. */
export function imbalancePoints(
  repeats: readonly number[],
  clips: ImbalanceCheckpoint['clips'],
): ImbalanceBenchmarkPoint[] {
  const seen = [...new Set(clips.map((c) => c.subset))];
  const subsets = [
    ...SUBSET_ORDER.filter((s) => seen.includes(s)),
    ...seen.filter((s) => !SUBSET_ORDER.includes(s)),
  ];
  return repeats.map((k, j) => {
    const rows = subsets.map((subset) => {
      const ran = clips.filter((c) => c.subset === subset && c.predictions !== null);
      const correct = ran.filter((c) => c.predictions?.[j] === c.label).length;
      return {
        subset,
        correct,
        clips: ran.length,
        percent: ran.length === 0 ? 0 : (100 * correct) / ran.length,
      };
    });
    const pct = (s: string) => rows.find((r) => r.subset === s && r.clips > 0)?.percent;
    const audio = pct('audio-aligned');
    const video = pct('video-aligned');
    return {
      k,
      subsets: rows,
      gap: audio === undefined || video === undefined ? null : audio - video,
    };
  });
}

/** Runs every clip at every k under every checkpoint and summarises them. */
export async function runImbalanceBenchmark(
  options: ImbalanceBenchmarkOptions,
): Promise<ImbalanceSummary> {
  const lanes = Array.from(
    { length: Math.max(1, Math.floor(options.jobs ?? 1)) },
    () =>
      new AnalysisEngine({
        workerScript: options.workerScript,
        decoder: options.decoder,
        cores: options.cores ?? 1,
        clipCacheEntries: 2,
      }),
  );
  const manifestPath = await locateManifest(options.manifest);
  let labels: string[] = [];
  let repeats: number[] = [1];
  const checkpoints: ImbalanceCheckpoint[] = [];
  try {
    // Every checkpoint is checked before any clip runs; each clip is then decoded once and run
    // under every checkpoint in turn (the lane's clip cache keeps it).
    const models: LoadedModel[] = [];
    for (const modelPath of options.models) {
      const model = await (lanes[0] as AnalysisEngine).model(modelPath);
      const max = model.metadata.audio.repeatMax;
      if (model.optional.audioRepeat !== true || max === undefined) {
        throw new EngineError('BAD_SETTINGS', `${model.fileName}: ${IMBALANCE_UNAVAILABLE}`);
      }
      const ks = parseAudioRepeats(options.repeats.join(','), max);
      if (typeof ks === 'string') throw new EngineError('BAD_SETTINGS', `audio repeats: ${ks}`);
      repeats = ks;
      labels = [...model.metadata.labels];
      models.push(model);
    }
    const entries = await readManifest(manifestPath, labels);
    const clipsOf = models.map(() =>
      entries.map((e): ImbalanceCheckpoint['clips'][number] => ({
        path: e.relativePath,
        subset: e.subset ?? '',
        label: e.label,
        predictions: null,
        problem: null,
      })),
    );
    let next = 0;
    let done = 0;
    let failed = false;
    const runClip = async (engine: AnalysisEngine, i: number): Promise<void> => {
      const entry = entries[i] as (typeof entries)[number];
      for (const [m, model] of models.entries()) {
        const clip = clipsOf[m]?.[i] as ImbalanceCheckpoint['clips'][number];
        try {
          const logits = await engine.audioRepeatLogits(
            {
              clipPath: entry.path,
              modelPath: model.path,
              ...(entry.transcript === null
                ? {}
                : { transcript: { text: entry.transcript, source: 'manifest' as const } }),
              ...(options.decodeCache === undefined ? {} : { storedDecodes: options.decodeCache }),
            },
            repeats,
            options.signal,
          );
          clip.predictions = logits.map(argmax);
        } catch (error) {
          const known =
            (error instanceof DecodeError && error.code !== 'CANCELLED') ||
            error instanceof EngineError;
          if (!known) throw error;
          clip.problem = error.message;
        }
      }
      done += 1;
      options.onProgress?.({ done, total: entries.length });
    };
    await Promise.all(
      lanes.map(async (engine) => {
        while (next < entries.length && !failed) {
          const i = next++;
          try {
            await runClip(engine, i);
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      }),
    );
    for (const [m, model] of models.entries()) {
      const clips = clipsOf[m] ?? [];
      checkpoints.push({
        name: model.metadata.checkpoint.name,
        path: model.path,
        points: imbalancePoints(repeats, clips),
        clips,
      });
    }
  } finally {
    await Promise.all(lanes.map((engine) => engine.dispose()));
  }
  return {
    kind: IMBALANCE_SUMMARY_KIND,
    manifest: manifestPath,
    labels,
    repeats,
    checkpoints,
  };
}

/** The files `writeImbalanceFiles` leaves in a run folder. */
export const IMBALANCE_FILES = {
  json: 'imbalance.json',
  points: 'imbalance.csv',
} as const;

/** imbalance.csv: one row per checkpoint, k and subset (and a `gap` row per k). */
export function imbalanceCsv(summary: ImbalanceSummary): string {
  const rows: Record<string, unknown>[] = [];
  for (const c of summary.checkpoints) {
    for (const p of c.points) {
      for (const s of p.subsets) {
        rows.push({
          checkpoint: c.name,
          k: p.k,
          subset: s.subset,
          correct: s.correct,
          clips: s.clips,
          accuracy: Number(s.percent.toFixed(2)),
        });
      }
      if (p.gap !== null) {
        rows.push({
          checkpoint: c.name,
          k: p.k,
          subset: 'gap',
          accuracy: Number(p.gap.toFixed(2)),
        });
      }
    }
  }
  return toCsv(rows, ['checkpoint', 'k', 'subset', 'correct', 'clips', 'accuracy']);
}

/** Writes imbalance.json and imbalance.csv into the run folder `dir`. */
export async function writeImbalanceFiles(dir: string, summary: ImbalanceSummary): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, IMBALANCE_FILES.json), `${JSON.stringify(summary, null, 1)}\n`);
  await writeFileAtomic(join(dir, IMBALANCE_FILES.points), imbalanceCsv(summary));
}

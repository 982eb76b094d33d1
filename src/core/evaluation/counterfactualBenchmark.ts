// Modality counterfactuals over a labelled manifest (`mosear-lens eval --counterfactuals`, and the
// reliance section of RESULTS.md): every clip of the manifest under every checkpoint, its audio and
// frames swapped with one clip of each other label (that label's first consistent clip), silenced
// and grey beside, under off and the checkpoint's default intervention; then the RelianceSummary.
// `jobs` lanes take the clips in turn, each through its own AnalysisEngine (its own workers; its
// clip cache keeps the few partners decoded); a clip that cannot run is recorded with its reason
// and left out of the figures.
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import {
  RELIANCE_SCHEMA_VERSION,
  RELIANCE_SUMMARY_KIND,
  type RelianceCheckpoint,
  type RelianceClip,
  type RelianceSummary,
} from '../../protocol/relianceSummary';
import type { SwapPartner } from '../../protocol/counterfactualResult';
import { VERDICT_RULE } from '../analysis/counterfactuals';
import type { BootstrapOptions } from '../analysis/statistics';
import type { ClipDecoder } from '../decode/clipDecoder';
import { DecodeError } from '../decode/decodeError';
import { AnalysisEngine, resolveControls } from '../engine/analysisEngine';
import type { StoredDecodes } from '../engine/clipCache';
import { PartnerError, partnersFromManifest } from '../engine/counterfactualPartners';
import { EngineError } from '../engine/engineError';
import { locateManifest, readManifest } from './manifest';
import {
  CORRELATION_METHOD,
  problemClip,
  relianceClipOf,
  relianceClipsCsv,
  relianceLayersCsv,
  summarizeReliance,
} from './relianceSummary';

/** What a counterfactual benchmark runs. */
export interface CounterfactualBenchmarkOptions {
  manifest: string;
  models: readonly string[];
  workerScript: string;
  decoder: ClipDecoder;
  /** Decoded clips to take before decoding (an evaluation's decode cache). */
  decodeCache?: StoredDecodes;
  /** Cores each lane's sessions use (default 1: onnxruntime's answers then do not depend on the machine). */
  cores?: number;
  /** Lanes working on different clips at once, each with its own workers (default 1). */
  jobs?: number;
  bootstrap?: BootstrapOptions;
  signal?: AbortSignal;
  onProgress?: (progress: { checkpoint: string; done: number; total: number }) => void;
}

/** Runs the counterfactuals of every clip under every checkpoint and summarises them. */
export async function runCounterfactualBenchmark(
  options: CounterfactualBenchmarkOptions,
): Promise<RelianceSummary> {
  const lanes = Array.from(
    { length: Math.max(1, Math.floor(options.jobs ?? 1)) },
    () =>
      new AnalysisEngine({
        workerScript: options.workerScript,
        decoder: options.decoder,
        cores: options.cores ?? 1,
        clipCacheEntries: 16,
      }),
  );
  const manifestPath = await locateManifest(options.manifest);
  const manifestName = basename(manifestPath);
  let labels: string[] = [];
  const checkpoints: RelianceCheckpoint[] = [];
  try {
    for (const modelPath of options.models) {
      const model = await (lanes[0] as AnalysisEngine).model(modelPath);
      labels = [...model.metadata.labels];
      const entries = await readManifest(manifestPath, labels);
      // Filled by clip index, so the figures and the partner list never depend on which lane
      // finished first.
      const clips: RelianceClip[] = new Array<RelianceClip>(entries.length);
      const chosenOf: SwapPartner[][] = entries.map(() => []);
      const controlsOf: (RelianceCheckpoint['controls'] | undefined)[] = entries.map(
        () => undefined,
      );
      let next = 0;
      let done = 0;
      let failed = false;
      const runClip = async (engine: AnalysisEngine, i: number): Promise<void> => {
        const entry = entries[i] as (typeof entries)[number];
        const clip = {
          path: entry.relativePath,
          label: labels[entry.label] ?? String(entry.label),
          subset: entry.subset,
        };
        try {
          const chosen = partnersFromManifest(entry.path, entries, labels, manifestName);
          const result = await engine.counterfactuals(
            {
              clipPath: entry.path,
              modelPath: model.path,
              partners: chosen,
              ...(options.decodeCache === undefined ? {} : { storedDecodes: options.decodeCache }),
            },
            options.signal,
          );
          controlsOf[i] = result.controls;
          chosenOf[i] = chosen;
          clips[i] = relianceClipOf(clip, result);
        } catch (error) {
          const known =
            error instanceof PartnerError ||
            (error instanceof DecodeError && error.code !== 'CANCELLED') ||
            error instanceof EngineError;
          if (!known) throw error;
          clips[i] = problemClip(clip, error.message);
        }
        done += 1;
        options.onProgress?.({ checkpoint: model.fileName, done, total: entries.length });
      };
      // Each lane takes the next clip until none is left (or another lane failed).
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
      const partners = new Map<string, SwapPartner>();
      for (const chosen of chosenOf) for (const p of chosen) partners.set(p.path, p);
      checkpoints.push({
        name: model.metadata.checkpoint.name,
        path: model.path,
        controls: controlsOf.find((c) => c !== undefined) ?? resolveControls(model.metadata),
        partners: [...partners.values()],
        ...summarizeReliance(clips, options.bootstrap),
        clips,
      });
    }
  } finally {
    await Promise.all(lanes.map((engine) => engine.dispose()));
  }
  return {
    kind: RELIANCE_SUMMARY_KIND,
    schemaVersion: RELIANCE_SCHEMA_VERSION,
    manifest: manifestPath,
    labels,
    rule: VERDICT_RULE,
    correlation: CORRELATION_METHOD,
    checkpoints,
  };
}

/** The files `writeRelianceFiles` leaves in a run folder. */
export const RELIANCE_FILES = {
  json: 'counterfactuals.json',
  clips: 'counterfactuals.csv',
  layers: 'counterfactual-layers.csv',
} as const;

/** Writes counterfactuals.json and its two CSV tables into the run folder `dir`. */
export async function writeRelianceFiles(dir: string, summary: RelianceSummary): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, RELIANCE_FILES.json), `${JSON.stringify(summary, null, 1)}\n`);
  await writeFileAtomic(join(dir, RELIANCE_FILES.clips), relianceClipsCsv(summary));
  await writeFileAtomic(join(dir, RELIANCE_FILES.layers), relianceLayersCsv(summary));
}

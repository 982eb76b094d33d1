// Assembles an AnalysisResult from a decoded clip, the model's metadata and the two runs'
// outputs. Pure: no process, no file.
import {
  ANALYSIS_RESULT_KIND,
  ANALYSIS_SCHEMA_VERSION,
  type AnalysisResult,
  type AnalysisSettings,
  type AnalysisTimings,
  type ClipInfo,
  type FrameThumbnail,
  type ModelInfo,
  type RuntimeInfo,
} from '../../protocol/analysisResult';
import { analyzeRun, flagRuleForRun, type RunOutputs } from '../analysis/runAnalysis';
import type { RunLayout } from '../../protocol/contract';
import { mapRunTokens, mapTokens } from '../analysis/tokenMap';
import { compareFlags } from '../ar/flagAgreement';
import type { DecodedClip } from '../decode/clipDecoder';
import type { ContractOutputs } from '../inference/contractModel';

/** The graph's outputs under the names the analysis uses. */
export function runOutputsOf(outputs: ContractOutputs): RunOutputs {
  return {
    logits: outputs.logits.data,
    modalityMass: outputs.modality_mass.data,
    modalityMassAfter: outputs.modality_mass_after.data,
    arFlags: outputs.ar_flags.data,
    tokenAttentionBefore: outputs.token_attention_before.data,
    tokenAttention: outputs.token_attention.data,
    moseGate: outputs.mose_gate?.data,
    layerLogits: outputs.layer_logits?.data,
  };
}

/** Clip facts for the result from a decode and the file's identity. */
export function clipInfoOf(
  clip: DecodedClip,
  file: { sizeBytes: number; modifiedMs: number },
  silenceUsed: boolean,
  audioSamples: number = clip.spec.samples,
): ClipInfo {
  const { source, spec } = clip;
  const name = source.path.split(/[\\/]/).pop() ?? source.path;
  return {
    path: source.path,
    name,
    sizeBytes: file.sizeBytes,
    modifiedMs: file.modifiedMs,
    container: source.formatName,
    durationSeconds: source.durationSeconds,
    durationSource: source.durationSource,
    video: {
      codec: source.video.codec,
      width: source.video.width,
      height: source.video.height,
      displayWidth: source.video.displayWidth,
      displayHeight: source.video.displayHeight,
      rotationDegrees: source.video.rotationDegrees,
      frameRateHz: source.video.averageFrameRateHz,
    },
    audio:
      source.audio === null
        ? null
        : {
            codec: source.audio.codec,
            sampleRateHz: source.audio.sampleRateHz,
            channels: source.audio.channels,
          },
    hasAudio: source.audio !== null,
    silenceUsed,
    frameTimesSeconds: [...clip.frameTimesSeconds],
    frameFromTail: [...clip.frameFromTail],
    audioWindow: {
      startSeconds: clip.audioStartSeconds,
      seconds: audioSamples / spec.sampleRateHz,
      sampleRateHz: spec.sampleRateHz,
      samples: audioSamples,
    },
    decoder: { backend: clip.backend, spec: clip.specName },
  };
}

/** What `assembleAnalysisResult` combines. */
export interface ResultParts {
  tool: AnalysisResult['tool'];
  model: ModelInfo;
  clip: DecodedClip;
  file: { sizeBytes: number; modifiedMs: number };
  silenceUsed: boolean;
  /** S fed to the model (a 1.1 variable length; default the spec's). */
  audioSamples?: number;
  /** The run's layout (CONTRACT.md §3.3), stored in the result (absent: the metadata's N). */
  layout?: RunLayout;
  settings: AnalysisSettings;
  runtime: RuntimeInfo;
  /** The requested intervention's outputs. */
  intervention: ContractOutputs;
  /** The ar_mode 0 run's outputs (the same object when the requested mode is 0). */
  baseline: ContractOutputs;
  /** The clip's frames as PNGs (see thumbnails.ts), or [] to leave them out. */
  thumbnails: FrameThumbnail[];
  /** Timings measured so far; analysisMs and totalMs are completed here. */
  timings: Omit<AnalysisTimings, 'analysisMs' | 'totalMs'>;
  /** performance.now() when the analysis began. */
  startedAt: number;
}

/** Analyses both runs and assembles the versioned result. */
export function assembleAnalysisResult(parts: ResultParts): AnalysisResult {
  const analysisStarted = performance.now();
  const meta = parts.model.metadata;
  const { layers: L, heads: Hh } = meta.architecture;
  const controls = parts.settings.controls;
  const baselineControls = { ...controls, mode: 0 as const };
  const N = parts.layout?.total ?? meta.tokenLayout.total;
  const intervention = analyzeRun(meta, controls, runOutputsOf(parts.intervention), N);
  const baseline =
    controls.mode === 0
      ? intervention
      : analyzeRun(meta, baselineControls, runOutputsOf(parts.baseline), N);
  const rule = flagRuleForRun(meta, parts.intervention.modality_mass.data, controls);
  const flagCheck = compareFlags(parts.intervention.ar_flags.data, rule, L, Hh);
  const clip = parts.clip;
  const audioSamples = parts.audioSamples ?? clip.spec.samples;
  // A contract-1 result keeps its token list as it always was; 1.1 builds it from the layout.
  const tokens =
    meta.contract === '1' || parts.layout === undefined
      ? mapTokens(meta.tokenLayout, {
          durationSeconds: clip.source.durationSeconds,
          audioStartSeconds: clip.audioStartSeconds,
          audioWindowSeconds: clip.spec.samples / clip.spec.sampleRateHz,
          promptIds: parts.settings.promptIds,
          vocab: meta.prompt.vocab,
        })
      : mapRunTokens(parts.layout, {
          frame: meta.frames,
          frameTimesSeconds: clip.frameTimesSeconds,
          audioStartSeconds: clip.audioStartSeconds,
          audioWindowSeconds: audioSamples / clip.spec.sampleRateHz,
        });
  const analysisMs = performance.now() - analysisStarted;
  return {
    kind: ANALYSIS_RESULT_KIND,
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    tool: parts.tool,
    clip: clipInfoOf(clip, parts.file, parts.silenceUsed, audioSamples),
    model: parts.model,
    settings: parts.settings,
    runtime: parts.runtime,
    ...(parts.layout === undefined ? {} : { layout: parts.layout }),
    tokens,
    intervention,
    baseline,
    flagCheck,
    thumbnails: parts.thumbnails,
    timings: {
      ...parts.timings,
      analysisMs,
      totalMs: performance.now() - parts.startedAt,
    },
  };
}

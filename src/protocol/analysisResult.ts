// The AnalysisResult: everything one analysis of one clip with one checkpoint produced: plain
// data, except the token rows, which are float32 blocks (tokenRows.ts). The CLI writes it, the
// extension's panels draw it, and a saved file renders without the clip or the model. Versioned:
// readers accept `ANALYSIS_SCHEMA_VERSION`, convert schema 1 files (nested number arrays) and
// reject newer ones with a message (analysisResultReader.ts). The small tensors are checked by
// shape against the saved metadata in one loop each (`numberArray`), never a schema per number.
import * as v from 'valibot';
import {
  ArControlsSchema,
  ContractMetadataSchema,
  RunLayoutSchema,
  TextPositionKindSchema,
  finiteNumber,
} from './contract';
import {
  ExecutionProviderChoiceSchema,
  ExecutionProviderNameSchema,
  ProviderAttemptSchema,
} from './executionProviders';
import { numberArray } from './issues';
import { TokenRowsSchema } from './tokenRows';

/**
 * The schema version this code writes and reads (2: token rows as float32 blocks; 1: nested
 * number arrays, still read). Bump on any incompatible change.
 */
export const ANALYSIS_SCHEMA_VERSION = 2;

/** The `kind` every saved result carries, so any other JSON is recognised as foreign. */
export const ANALYSIS_RESULT_KIND = 'mosear-lens/analysis';

/** Head-averaged attention shares of the answer query at one layer (the paper's UAP). */
export const LayerUapSchema = v.object({
  /** Whole-row shares: the head-averaged mass on each modality (visual + audio + text = 1). */
  visual: finiteNumber,
  audio: finiteNumber,
  text: finiteNumber,
  /** A+V-normalised: visual / (visual + audio) of the head-averaged masses (text left out). */
  visualOfAV: finiteNumber,
  /** A+V-normalised: audio / (visual + audio); visualOfAV + audioOfAV = 1. */
  audioOfAV: finiteNumber,
});
export type LayerUap = v.InferOutput<typeof LayerUapSchema>;

const layerRatioEntries = {
  /** Layer statistic r(ΣA, ΣV) over the layer's heads (summed masses). */
  statistic: finiteNumber,
  /** Head statistics sₕ = r(Aₕ, Vₕ). */
  headStatistics: numberArray(1),
  /** Mean of the head statistics. */
  headMean: finiteNumber,
};

/** One layer's audio-vs-visual statistics of one ratio kind (CONTRACT.md §4). */
export const LayerRatioStatisticsSchema = v.object(layerRatioEntries);
export type LayerRatioStatistics = v.InferOutput<typeof LayerRatioStatisticsSchema>;

/** How the flag rule decided one head. */
export const HeadReasonSchema = v.picklist([
  'forced-on',
  'forced-off',
  'automatic',
  'not-selected',
  'layer-off',
]);
export type HeadReason = v.InferOutput<typeof HeadReasonSchema>;

/** Why each head of one layer was or was not flagged (what the threshold view draws). */
export const LayerDecisionSchema = v.object({
  ...layerRatioEntries,
  layer: finiteNumber,
  /** ar_layers[l] > 0.5. */
  enabled: v.boolean(),
  tau: finiteNumber,
  /** statistic > τ. */
  triggered: v.boolean(),
  /** (1 + margin) · mean: a head must exceed it. */
  headThreshold: finiteNumber,
  /** The AR flag of each head (mode 1). */
  flags: v.array(v.boolean()),
  reasons: v.array(HeadReasonSchema),
});
export type LayerDecision = v.InferOutput<typeof LayerDecisionSchema>;

/** A key position read through the token layout. */
export const TokenInfoSchema = v.variant('modality', [
  v.object({
    index: finiteNumber,
    modality: v.literal('visual'),
    /** Grid position: token = start + (frame·rows + row)·cols + col. */
    frame: finiteNumber,
    row: finiteNumber,
    col: finiteNumber,
    /** The clip time the frame was decoded at. */
    frameTimeSeconds: finiteNumber,
    /** Contract 1.1 (absent in contract-1 results): the run layout's segment name. */
    segment: v.exactOptional(v.string()),
    /** 1.1: the grid cell's rectangle in input-frame pixels (CONTRACT.md §3.1 `cell_px`). */
    cell: v.exactOptional(
      v.object({ x: finiteNumber, y: finiteNumber, width: finiteNumber, height: finiteNumber }),
    ),
    /** 1.1: a global visual token (no grid: frame 0, row 0, col = its index in the segment). */
    global: v.exactOptional(v.literal(true)),
  }),
  v.object({
    index: finiteNumber,
    modality: v.literal('audio'),
    /** Which audio token (0 for the single-token checkpoints). */
    audioToken: finiteNumber,
    /** The clip time span the token covers (the audio window split evenly over the tokens). */
    startSeconds: finiteNumber,
    endSeconds: finiteNumber,
    /** 1.1: the run layout's segment name. */
    segment: v.exactOptional(v.string()),
  }),
  v.object({
    index: finiteNumber,
    modality: v.literal('text'),
    /** Which text position (0 = the first prompt token). */
    textToken: finiteNumber,
    /** The prompt id fed at this position, or null when the prompt is shorter than the segment. */
    id: v.nullable(finiteNumber),
    /** The id's vocabulary entry ("?" when unknown). */
    text: v.string(),
    /** 1.1: the run layout's segment name. */
    segment: v.exactOptional(v.string()),
    /** 1.1: what put the position there (template word, special token, slot piece). */
    kind: v.exactOptional(TextPositionKindSchema),
    /** 1.1: the slot whose value gave it (kind "slot"). */
    slot: v.exactOptional(v.string()),
    /** 1.1: the word as written (differs from `text` for a word the vocabulary lacks). */
    word: v.exactOptional(v.string()),
  }),
]);
export type TokenInfo = v.InferOutput<typeof TokenInfoSchema>;

/** What the model predicted in one run. */
export const PredictionSchema = v.object({
  /** Into the model's labels (checked against their count with the tensors' shapes). */
  index: v.pipe(
    v.number(),
    v.integer('must be an integer ≥ 0'),
    v.minValue(0, 'must be an integer ≥ 0'),
  ),
  label: v.string(),
  probability: finiteNumber,
});
export type Prediction = v.InferOutput<typeof PredictionSchema>;

/** One session run (with its controls) and the analysis of its outputs. */
export const RunAnalysisSchema = v.object({
  controls: ArControlsSchema,
  logits: numberArray(1),
  /** softmax(logits), in label order. */
  probabilities: numberArray(1),
  prediction: PredictionSchema,
  /** [L][Hh][3]: (visual, audio, text) mass of the answer query before each layer's intervention. */
  modalityMass: numberArray(3),
  /** [L][Hh][3]: the same after the intervention. */
  modalityMassAfter: numberArray(3),
  /** [L][Hh]: the graph's `ar_flags`. */
  arFlags: numberArray(2),
  /**
   * [L, Hh, N] (or the head means [L, 1, N]): the answer query's attention over the keys, before /
   * after intervention; null when the saved result kept no token rows (`--tokens none`).
   */
  tokenAttentionBefore: v.nullable(TokenRowsSchema),
  tokenAttention: v.nullable(TokenRowsSchema),
  /** UAP per layer from `modalityMass` (before) and `modalityMassAfter`. */
  uapBefore: v.array(LayerUapSchema),
  uapAfter: v.array(LayerUapSchema),
  /** Every ratio kind's statistics from `modalityMass` (what detection sees), per layer. */
  ratioStatistics: v.object({
    raw: v.array(LayerRatioStatisticsSchema),
    density: v.array(LayerRatioStatisticsSchema),
    share: v.array(LayerRatioStatisticsSchema),
  }),
  /** The TypeScript flag rule applied to `modalityMass` with `controls`. */
  flagDecisions: v.array(LayerDecisionSchema),
  /** MoSE's λ per layer; null for checkpoints without MoSE. */
  moseGate: v.nullable(numberArray(1)),
  /** [L][C]: the graph's `layer_logits` (contract 1.1, CONTRACT.md §2a), when it has them. */
  layerLogits: v.exactOptional(numberArray(2)),
});
export type RunAnalysis = v.InferOutput<typeof RunAnalysisSchema>;

/** A head where the graph's `ar_flags` and the TypeScript rule disagree. */
export const FlagMismatchSchema = v.object({
  layer: finiteNumber,
  head: finiteNumber,
  graph: finiteNumber,
  rule: finiteNumber,
  /** The layer or head statistic lies within float32 rounding of its threshold. */
  nearThreshold: v.boolean(),
});
export type FlagMismatch = v.InferOutput<typeof FlagMismatchSchema>;

/** The TypeScript flag rule re-derived from the intervention run's masses, against the graph. */
export const FlagCheckSchema = v.object({
  /** Heads compared (L·Hh). */
  heads: finiteNumber,
  mismatches: v.array(FlagMismatchSchema),
  /** No mismatch at all. */
  agree: v.boolean(),
  /** Every mismatch (if any) is explained by float32 rounding at a threshold. */
  agreeBeyondRounding: v.boolean(),
});
export type FlagCheck = v.InferOutput<typeof FlagCheckSchema>;

/** The clip and how it was decoded. */
export const ClipInfoSchema = v.object({
  path: v.string(),
  name: v.string(),
  sizeBytes: finiteNumber,
  modifiedMs: finiteNumber,
  /** ffmpeg's container name. */
  container: v.string(),
  durationSeconds: finiteNumber,
  durationSource: v.picklist(['video-stream', 'format']),
  video: v.object({
    codec: v.string(),
    width: finiteNumber,
    height: finiteNumber,
    displayWidth: finiteNumber,
    displayHeight: finiteNumber,
    rotationDegrees: v.picklist([0, 90, 180, 270]),
    frameRateHz: v.nullable(finiteNumber),
  }),
  /** The first audio stream, or null when the clip has none. */
  audio: v.nullable(
    v.object({
      codec: v.string(),
      sampleRateHz: v.nullable(finiteNumber),
      channels: v.nullable(finiteNumber),
    }),
  ),
  /** The file has an audio stream. */
  hasAudio: v.boolean(),
  /** No audio stream, and the model (audio optional) was fed silence instead. */
  silenceUsed: v.boolean(),
  /** tᵢ, the time each frame was decoded at. */
  frameTimesSeconds: numberArray(1),
  /** Per frame: the decode spec's past-the-end rule supplied it. */
  frameFromTail: v.array(v.boolean()),
  audioWindow: v.object({
    startSeconds: finiteNumber,
    seconds: finiteNumber,
    sampleRateHz: finiteNumber,
    samples: finiteNumber,
  }),
  decoder: v.object({ backend: v.picklist(['system', 'wasm']), spec: v.string() }),
});
export type ClipInfo = v.InferOutput<typeof ClipInfoSchema>;

/** The checkpoint. */
export const ModelInfoSchema = v.object({
  path: v.string(),
  fileName: v.string(),
  sizeBytes: finiteNumber,
  modifiedMs: finiteNumber,
  /** The contract metadata (labels, token layout, architecture, defaults …). */
  metadata: ContractMetadataSchema,
});
export type ModelInfo = v.InferOutput<typeof ModelInfoSchema>;

/**
 * Where a run's transcript came from (contract 1.1, a `transcript` slot): a sidecar next to the
 * clip (.txt, or the text of .srt / .vtt), a manifest row, typed in the panel, the CLI's
 * `--transcript`, or none (the slot kept its default).
 */
export const TranscriptSourceSchema = v.picklist([
  'sidecar-txt',
  'sidecar-srt',
  'sidecar-vtt',
  'manifest',
  'typed',
  'cli',
  'none',
]);
export type TranscriptSource = v.InferOutput<typeof TranscriptSourceSchema>;

/**
 * Where a run's FaceMAE or VideoMAE feature vector came from (contract 1.2's feature inputs,
 * CONTRACT.md §1b): zeros (the public demo's), or a `.npy` file given on the command line, by a
 * manifest row, or found as a sidecar next to the clip.
 */
export const FeatureSourceSchema = v.variant('kind', [
  v.object({ kind: v.literal('zeros') }),
  v.object({
    kind: v.literal('file'),
    path: v.string(),
    from: v.picklist(['cli', 'manifest', 'sidecar']),
  }),
]);
export type FeatureSource = v.InferOutput<typeof FeatureSourceSchema>;

/** Each feature input the model declares, with its source. */
export const FeatureSourcesSchema = v.object({
  faceMae: v.exactOptional(FeatureSourceSchema),
  videoMae: v.exactOptional(FeatureSourceSchema),
});
export type FeatureSources = v.InferOutput<typeof FeatureSourcesSchema>;

/** What the analysis was asked to do. */
export const AnalysisSettingsSchema = v.object({
  /** The requested intervention (the baseline run uses the same with mode 0). */
  controls: ArControlsSchema,
  promptIds: v.array(finiteNumber),
  executionProvider: ExecutionProviderChoiceSchema,
  allowFallback: v.boolean(),
  /** Contract 1.1: the prompt slot values set (e.g. the transcript); unset slots took defaults. */
  slots: v.exactOptional(v.record(v.string(), v.string())),
  /** Contract 1.1, a model with a `transcript` slot: where the transcript came from. */
  transcriptSource: v.exactOptional(TranscriptSourceSchema),
  /** Contract 1.1: the `head_gate` fed to both runs [L][Hh], when not all ones. */
  headGate: v.exactOptional(numberArray(2)),
  /** A model with feature inputs (CONTRACT.md §1b): where each feature vector came from. */
  featureSources: v.exactOptional(FeatureSourcesSchema),
  /**
   * Contract 1.2: `audio_repeat` k fed to both runs, when not 1 (the token-imbalance probe). The
   * result's metadata, layout and token map are then the run's: the audio segment has k
   * positions and N grew by k − 1 (CONTRACT.md §1c).
   */
  audioRepeat: v.exactOptional(v.number()),
});
export type AnalysisSettings = v.InferOutput<typeof AnalysisSettingsSchema>;

/** Where the model ran. */
export const RuntimeInfoSchema = v.object({
  provider: ExecutionProviderNameSchema,
  /** Every provider tried, in order; the last one succeeded. */
  attempts: v.array(ProviderAttemptSchema),
  intraOpNumThreads: finiteNumber,
  graphOptimizationLevel: v.string(),
});
export type RuntimeInfo = v.InferOutput<typeof RuntimeInfoSchema>;

/** An embedded PNG or JPEG image; anything else (a file or web URL) would be fetched. */
const THUMBNAIL_DATA_URI = /^data:image\/(?:png|jpeg);base64,[A-Za-z0-9+/]*={0,2}$/;

/** A decoded frame as a small PNG, so a saved result renders without the clip. */
export const FrameThumbnailSchema = v.object({
  frame: finiteNumber,
  timeSeconds: finiteNumber,
  width: finiteNumber,
  height: finiteNumber,
  /** `data:image/png;base64,…` (or jpeg): only an embedded image, never a link to fetch. */
  dataUri: v.pipe(
    v.string(),
    v.regex(THUMBNAIL_DATA_URI, 'must be a data:image/png or data:image/jpeg base64 URI'),
  ),
});
export type FrameThumbnail = v.InferOutput<typeof FrameThumbnailSchema>;

/** Wall-clock milliseconds per stage of this analysis. */
export const AnalysisTimingsSchema = v.object({
  /**
   * Getting the clip's tensors: a full decode, or when `decodeCached` a cache lookup or the wait
   * for the same decode started by a concurrent analysis (a comparison's other subject).
   */
  decodeMs: finiteNumber,
  decodeCached: v.boolean(),
  /** Opening the session (0 when the worker's session was reused). */
  sessionOpenMs: finiteNumber,
  /** Both runs through the worker, end to end (queueing and IPC included). */
  inferenceMs: finiteNumber,
  /** Each `session.run` as timed inside the worker. */
  sessionRunMs: numberArray(1),
  /** `session.run` calls this analysis made. */
  sessionRuns: finiteNumber,
  /**
   * The `ar_mode` 0 run was reused from an earlier analysis of the same decoded clip with the
   * same checkpoint, prompt and provider (absent in results written before reuse existed).
   */
  baselineReused: v.exactOptional(v.boolean()),
  /** The pure analysis and the result's assembly. */
  analysisMs: finiteNumber,
  totalMs: finiteNumber,
});
export type AnalysisTimings = v.InferOutput<typeof AnalysisTimingsSchema>;

/** A nested array's lengths, outermost first. */
type Shape = readonly number[];

/** Where a nested array's shape first differs from `dims` (path and message), or null. */
function shapeIssue(value: unknown, dims: Shape): { path: number[]; message: string } | null {
  const path: number[] = [];
  const walk = (x: unknown, axis: number): string | null => {
    if (axis === dims.length) return null;
    if (!Array.isArray(x) || x.length !== dims[axis]) {
      return `must be an array of ${dims[axis]} (shape [${dims.join(', ')}])`;
    }
    // The leaves were checked as numbers already (`numberArray`).
    if (axis === dims.length - 1) return null;
    for (let i = 0; i < x.length; i++) {
      const message = walk(x[i], axis + 1);
      if (message !== null) {
        path.unshift(i);
        return message;
      }
    }
    return null;
  };
  const message = walk(value, 0);
  return message === null ? null : { path, message };
}

/** Per run: each small tensor's expected shape from L, Hh and C (labels). */
function runShapes(L: number, Hh: number, C: number): [string, Shape][] {
  return [
    ['logits', [C]],
    ['probabilities', [C]],
    ['modalityMass', [L, Hh, 3]],
    ['modalityMassAfter', [L, Hh, 3]],
    ['arFlags', [L, Hh]],
    ['uapBefore', [L]],
    ['uapAfter', [L]],
    ['flagDecisions', [L]],
    ['moseGate', [L]],
    ['layerLogits', [L, C]],
  ];
}

/** One analysis: the clip, the model, the settings, both runs and their analysis. */
/** The most answer tokens one analysis generates (each costs a run per branch and token). */
export const MAX_ANSWER_TOKENS = 32;

/** One branch of a generated answer: the greedy ids (EOS not included) and their text. */
export const GeneratedTextSchema = v.object({
  ids: v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
  text: v.string(),
  /** Why generation ended: the model produced EOS, or `maxTokens` were generated. */
  stoppedAt: v.picklist(['eos', 'max-tokens']),
});

/**
 * A few greedy tokens of the model's answer (CONTRACT.md §2a, generation), under `ar_mode` 0
 * and under the requested intervention applied at every generated position.
 */
export const GeneratedAnswerSchema = v.object({
  off: GeneratedTextSchema,
  intervention: GeneratedTextSchema,
  maxTokens: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(MAX_ANSWER_TOKENS)),
});
export type GeneratedAnswer = v.InferOutput<typeof GeneratedAnswerSchema>;

export const AnalysisResultSchema = v.pipe(
  v.object({
    kind: v.literal(ANALYSIS_RESULT_KIND),
    schemaVersion: v.literal(ANALYSIS_SCHEMA_VERSION),
    /** ISO 8601. */
    createdAt: v.string(),
    tool: v.object({ name: v.string(), version: v.string(), onnxruntime: v.string() }),
    clip: ClipInfoSchema,
    model: ModelInfoSchema,
    settings: AnalysisSettingsSchema,
    runtime: RuntimeInfoSchema,
    /**
     * The run's layout (CONTRACT.md §3.3): named segments, N and every text position. Absent in
     * results written before contract 1.1; then N is the metadata's.
     */
    layout: v.exactOptional(RunLayoutSchema),
    /** The N key positions, in order. */
    tokens: v.array(TokenInfoSchema),
    /** The requested intervention's run (the same run as `baseline` when its mode is 0). */
    intervention: RunAnalysisSchema,
    /** The `ar_mode` = 0 run: the model without intervention. */
    baseline: RunAnalysisSchema,
    flagCheck: FlagCheckSchema,
    thumbnails: v.array(FrameThumbnailSchema),
    timings: AnalysisTimingsSchema,
    /** The generated answer, when asked for (`answerTokens`) on a model with `greedy_token`. */
    generatedAnswer: v.exactOptional(GeneratedAnswerSchema),
  }),
  // The tensors' shapes follow the saved metadata, so a panel can index without guarding.
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const result = dataset.value;
    const { architecture, tokenLayout, labels } = result.model.metadata;
    const N = result.layout?.total ?? tokenLayout.total;
    const item = (input: unknown, key: string | number, value: unknown): v.IssuePathItem =>
      typeof key === 'number'
        ? { type: 'array', origin: 'value', input: input as unknown[], key, value }
        : { type: 'object', origin: 'value', input: input as Record<string, unknown>, key, value };
    if (result.tokens.length !== N) {
      addIssue({
        message: `must be an array of ${N} (the run layout's total)`,
        path: [item(result, 'tokens', result.tokens)],
      });
      return;
    }
    const L = architecture.layers;
    const gate = result.settings.headGate;
    const gateIssue = gate === undefined ? null : shapeIssue(gate, [L, architecture.heads]);
    if (gateIssue !== null) {
      addIssue({
        message: gateIssue.message,
        path: [item(result, 'settings', result.settings), item(result.settings, 'headGate', gate)],
      });
      return;
    }
    const shapes: [string, Shape][] = [
      ...runShapes(L, architecture.heads, labels.length),
      ...(['raw', 'density', 'share'] as const).map((k): [string, Shape] => [k, [L]]),
    ];
    for (const runKey of ['intervention', 'baseline'] as const) {
      const run = result[runKey];
      if (run.prediction.index >= labels.length) {
        addIssue({
          message: `must be an index < ${labels.length} (the model's label count)`,
          path: [
            item(result, runKey, run),
            item(run, 'prediction', run.prediction),
            item(run.prediction, 'index', run.prediction.index),
          ],
        });
        return;
      }
      for (const key of ['tokenAttentionBefore', 'tokenAttention'] as const) {
        const rows = run[key];
        if (rows === null) continue;
        const want = [L, rows.heads === 'mean' ? 1 : architecture.heads, N];
        if (rows.shape.every((d, i) => d === want[i])) continue;
        addIssue({
          message: `must have shape [${want.join(', ')}] (${rows.heads === 'mean' ? 'head means' : 'every head'}), not [${rows.shape.join(', ')}]`,
          path: [item(result, runKey, run), item(run, key, rows), item(rows, 'shape', rows.shape)],
        });
        return;
      }
      const tensors: Record<string, unknown> = { ...run, ...run.ratioStatistics };
      for (const [key, dims] of shapes) {
        const value = tensors[key];
        if (key === 'moseGate' && value === null) continue;
        if (key === 'layerLogits' && value === undefined) continue;
        const bad = shapeIssue(value, dims);
        if (bad === null) continue;
        const inRatio = key === 'raw' || key === 'density' || key === 'share';
        let at: unknown = value;
        const path: v.IssuePathItem[] = [item(result, runKey, run)];
        if (inRatio) path.push(item(run, 'ratioStatistics', run.ratioStatistics));
        path.push(item(inRatio ? run.ratioStatistics : run, key, at));
        for (const i of bad.path) {
          const next = (at as unknown[])[i];
          path.push(item(at, i, next));
          at = next;
        }
        addIssue({ message: bad.message, path: path as [v.IssuePathItem, ...v.IssuePathItem[]] });
        return;
      }
    }
  }),
);
export type AnalysisResult = v.InferOutput<typeof AnalysisResultSchema>;

// The AnalysisResult: everything one analysis of one clip with one checkpoint produced, as plain
// JSON. The CLI writes it, the extension's panels draw it, and a saved file renders without the
// clip or the model. Versioned: readers accept `ANALYSIS_SCHEMA_VERSION` and reject the others
// with a message (analysisResultReader.ts).
import type { ArControls, ContractMetadata, Modality, RatioKindName } from './contract';
import type {
  ExecutionProviderChoice,
  ExecutionProviderName,
  ProviderAttempt,
} from './executionProviders';

/** The schema version this code writes and reads. Bump on any incompatible change. */
export const ANALYSIS_SCHEMA_VERSION = 1;

/** The `kind` every saved result carries, so any other JSON is recognised as foreign. */
export const ANALYSIS_RESULT_KIND = 'mosear-lens/analysis';

/** Head-averaged attention shares of the answer query at one layer (the paper's UAP). */
export interface LayerUap {
  /** Whole-row shares: the head-averaged mass on each modality (visual + audio + text = 1). */
  visual: number;
  audio: number;
  text: number;
  /** A+V-normalised: visual / (visual + audio) of the head-averaged masses (text left out). */
  visualOfAV: number;
  /** A+V-normalised: audio / (visual + audio); visualOfAV + audioOfAV = 1. */
  audioOfAV: number;
}

/** One layer's audio-vs-visual statistics of one ratio kind (CONTRACT.md §4). */
export interface LayerRatioStatistics {
  /** Layer statistic r(ΣA, ΣV) over the layer's heads (summed masses). */
  statistic: number;
  /** Head statistics sₕ = r(Aₕ, Vₕ). */
  headStatistics: number[];
  /** Mean of the head statistics. */
  headMean: number;
}

/** How the flag rule decided one head. */
export type HeadReason = 'forced-on' | 'forced-off' | 'automatic' | 'not-selected' | 'layer-off';

/** Why each head of one layer was or was not flagged (what the threshold view draws). */
export interface LayerDecision extends LayerRatioStatistics {
  layer: number;
  /** ar_layers[l] > 0.5. */
  enabled: boolean;
  tau: number;
  /** statistic > τ. */
  triggered: boolean;
  /** (1 + margin) · mean: a head must exceed it. */
  headThreshold: number;
  /** The AR flag of each head (mode 1). */
  flags: boolean[];
  reasons: HeadReason[];
}

/** A key position read through the token layout. */
export type TokenInfo =
  | {
      index: number;
      modality: Extract<Modality, 'visual'>;
      /** Grid position: token = start + (frame·rows + row)·cols + col. */
      frame: number;
      row: number;
      col: number;
      /** The clip time the frame was decoded at. */
      frameTimeSeconds: number;
    }
  | {
      index: number;
      modality: Extract<Modality, 'audio'>;
      /** Which audio token (0 for the single-token checkpoints). */
      audioToken: number;
      /** The clip time span the token covers (the audio window split evenly over the tokens). */
      startSeconds: number;
      endSeconds: number;
    }
  | {
      index: number;
      modality: Extract<Modality, 'text'>;
      /** Which text position (0 = the first prompt token). */
      textToken: number;
      /** The prompt id fed at this position, or null when the prompt is shorter than the segment. */
      id: number | null;
      /** The id's vocabulary entry ("?" when unknown). */
      text: string;
    };

/** What the model predicted in one run. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** One session run (with its controls) and the analysis of its outputs. */
export interface RunAnalysis {
  controls: ArControls;
  logits: number[];
  /** softmax(logits), in label order. */
  probabilities: number[];
  prediction: Prediction;
  /** [L][Hh][3]: (visual, audio, text) mass of the answer query before each layer's intervention. */
  modalityMass: number[][][];
  /** [L][Hh][3]: the same after the intervention. */
  modalityMassAfter: number[][][];
  /** [L][Hh]: the graph's `ar_flags`. */
  arFlags: number[][];
  /** [L][Hh][N]: the answer query's attention over the keys, before / after intervention. */
  tokenAttentionBefore: number[][][];
  tokenAttention: number[][][];
  /** UAP per layer from `modalityMass` (before) and `modalityMassAfter`. */
  uapBefore: LayerUap[];
  uapAfter: LayerUap[];
  /** Every ratio kind's statistics from `modalityMass` (what detection sees), per layer. */
  ratioStatistics: Record<RatioKindName, LayerRatioStatistics[]>;
  /** The TypeScript flag rule applied to `modalityMass` with `controls`. */
  flagDecisions: LayerDecision[];
  /** MoSE's λ per layer; null for checkpoints without MoSE. */
  moseGate: number[] | null;
}

/** A head where the graph's `ar_flags` and the TypeScript rule disagree. */
export interface FlagMismatch {
  layer: number;
  head: number;
  graph: number;
  rule: number;
  /** The layer or head statistic lies within float32 rounding of its threshold. */
  nearThreshold: boolean;
}

/** The TypeScript flag rule re-derived from the intervention run's masses, against the graph. */
export interface FlagCheck {
  /** Heads compared (L·Hh). */
  heads: number;
  mismatches: FlagMismatch[];
  /** No mismatch at all. */
  agree: boolean;
  /** Every mismatch (if any) is explained by float32 rounding at a threshold. */
  agreeBeyondRounding: boolean;
}

/** The clip and how it was decoded. */
export interface ClipInfo {
  path: string;
  name: string;
  sizeBytes: number;
  modifiedMs: number;
  /** ffmpeg's container name. */
  container: string;
  durationSeconds: number;
  durationSource: 'video-stream' | 'format';
  video: {
    codec: string;
    width: number;
    height: number;
    displayWidth: number;
    displayHeight: number;
    rotationDegrees: 0 | 90 | 180 | 270;
    frameRateHz: number | null;
  };
  /** The first audio stream, or null when the clip has none. */
  audio: { codec: string; sampleRateHz: number | null; channels: number | null } | null;
  /** The file has an audio stream. */
  hasAudio: boolean;
  /** No audio stream, and the model (audio optional) was fed silence instead. */
  silenceUsed: boolean;
  /** tᵢ, the time each frame was decoded at. */
  frameTimesSeconds: number[];
  /** Per frame: the decode spec's past-the-end rule supplied it. */
  frameFromTail: boolean[];
  audioWindow: { startSeconds: number; seconds: number; sampleRateHz: number; samples: number };
  decoder: { backend: 'system' | 'wasm'; spec: string };
}

/** The checkpoint. */
export interface ModelInfo {
  path: string;
  fileName: string;
  sizeBytes: number;
  modifiedMs: number;
  /** The contract metadata (labels, token layout, architecture, defaults …). */
  metadata: ContractMetadata;
}

/** What the analysis was asked to do. */
export interface AnalysisSettings {
  /** The requested intervention (the baseline run uses the same with mode 0). */
  controls: ArControls;
  promptIds: number[];
  executionProvider: ExecutionProviderChoice;
  allowFallback: boolean;
}

/** Where the model ran. */
export interface RuntimeInfo {
  provider: ExecutionProviderName;
  /** Every provider tried, in order; the last one succeeded. */
  attempts: ProviderAttempt[];
  intraOpNumThreads: number;
  graphOptimizationLevel: string;
}

/** A decoded frame as a small PNG, so a saved result renders without the clip. */
export interface FrameThumbnail {
  frame: number;
  timeSeconds: number;
  width: number;
  height: number;
  /** `data:image/png;base64,…` */
  dataUri: string;
}

/** Wall-clock milliseconds per stage of this analysis. */
export interface AnalysisTimings {
  /**
   * Getting the clip's tensors: a full decode, or when `decodeCached` a cache lookup or the wait
   * for the same decode started by a concurrent analysis (a comparison's other subject).
   */
  decodeMs: number;
  decodeCached: boolean;
  /** Opening the session (0 when the worker's session was reused). */
  sessionOpenMs: number;
  /** Both runs through the worker, end to end (queueing and IPC included). */
  inferenceMs: number;
  /** Each `session.run` as timed inside the worker. */
  sessionRunMs: number[];
  /** `session.run` calls this analysis made. */
  sessionRuns: number;
  /** The pure analysis and the result's assembly. */
  analysisMs: number;
  totalMs: number;
}

/** One analysis: the clip, the model, the settings, both runs and their analysis. */
export interface AnalysisResult {
  kind: typeof ANALYSIS_RESULT_KIND;
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  /** ISO 8601. */
  createdAt: string;
  tool: { name: string; version: string; onnxruntime: string };
  clip: ClipInfo;
  model: ModelInfo;
  settings: AnalysisSettings;
  runtime: RuntimeInfo;
  /** The N key positions, in order. */
  tokens: TokenInfo[];
  /** The requested intervention's run (the same run as `baseline` when its mode is 0). */
  intervention: RunAnalysis;
  /** The `ar_mode` = 0 run: the model without intervention. */
  baseline: RunAnalysis;
  flagCheck: FlagCheck;
  thumbnails: FrameThumbnail[];
  timings: AnalysisTimings;
}

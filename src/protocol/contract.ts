// Plain data types of model contract v1 (models/CONTRACT.md), shared by the engine, the CLI and
// the webviews. Field names are the camelCase forms of the metadata's snake_case JSON keys.

/** The kind of a key position. */
export type Modality = 'visual' | 'audio' | 'text';

/** Index of each modality on the last axis of `modality_mass` / `modality_mass_after`. */
export const MODALITY_AXIS = { visual: 0, audio: 1, text: 2 } as const;

/** `ar_mode`: 0 no intervention, 1 AR, 2 PAI-style. */
export type ArMode = 0 | 1 | 2;

/** `ar_ratio_kind`: 0 raw A/V, 1 per-token density, 2 audio share A/(A+V). */
export type RatioKind = 0 | 1 | 2;

/** Names of the ratio kinds, indexed by `RatioKind` (also the keys of `mosear.tau_sweep`). */
export const RATIO_KIND_NAMES = ['raw', 'density', 'share'] as const;

/** A ratio kind's name. */
export type RatioKindName = (typeof RATIO_KIND_NAMES)[number];

/** Frame × row × column grid of the visual tokens (token = start + (f·rows + r)·cols + c). */
export interface VisualGrid {
  frames: number;
  rows: number;
  cols: number;
  order: 'frame,row,col';
}

/** A contiguous run of key positions of one modality. */
export interface TokenSegment {
  modality: Modality;
  start: number;
  count: number;
  grid?: VisualGrid;
}

/** `mosear.token_layout`: the N key positions in order. */
export interface TokenLayout {
  segments: TokenSegment[];
  total: number;
}

/** `mosear.checkpoint`: what the checkpoint is. */
export interface CheckpointInfo {
  name: string;
  description: string;
  trainingData: string;
  version: string;
}

/** `mosear.architecture`: L = layers, Hh = heads; `mose` decides whether `mose_gate` exists. */
export interface Architecture {
  family: string;
  layers: number;
  heads: number;
  dModel: number;
  adapter: 'none' | 'lora' | 'mose';
  mose: boolean;
  loraRank: number;
  moseEps: number | null;
}

/** `mosear.frames`: T, H, W of the `frames` input. */
export interface FrameSpec {
  count: number;
  height: number;
  width: number;
  dynamicCount: boolean;
  channels: 'rgb';
  range: [0, 1];
}

/** `mosear.audio`: the `audio` input's window. */
export interface AudioSpec {
  sampleRateHz: number;
  samples: number;
  windowSeconds: number;
  optional: boolean;
  tokens: number;
}

/** `mosear.prompt`: vocabulary (for display) and the default prompt. */
export interface PromptSpec {
  vocab: string[];
  default: string[];
  defaultIds: number[];
}

/** `mosear.decode`: which decode spec produced the training tensors (CONTRACT.md §6). */
export interface DecodeSpec {
  spec: 'mosear-decode-1';
  frameTimes: 'midpoints';
  resize: 'cover-center-crop';
  scaleFlags: 'area';
  audioWindow: 'centered';
  audioPad: 'zeros-at-end';
}

/** The intervention controls fed to the graph (its `ar_*` and `pai_alpha` inputs). */
export interface ArControls {
  mode: ArMode;
  ratioKind: RatioKind;
  /** τ per layer [L]. */
  tau: number[];
  headMargin: number;
  /** α ∈ [0, 1]. */
  alpha: number;
  paiAlpha: number;
  /** 1 where an intervention may act, 0 elsewhere [L]. */
  layers: number[];
  /** −1 never flag, 0 automatic, +1 always flag [L][Hh]. */
  headOverride: number[][];
}

/** `mosear.ar_defaults`: the controls the checkpoint recommends (no overrides). */
export type ArDefaults = Omit<ArControls, 'headOverride'>;

/** One default τ sweep range. */
export interface TauRange {
  min: number;
  max: number;
  steps: number;
  scale: 'linear' | 'log';
}

/** `mosear.tau_sweep`: a default τ sweep per ratio kind. */
export type TauSweep = Record<RatioKindName, TauRange>;

/** Everything contract v1 requires in `metadata_props`, parsed and validated. */
export interface ContractMetadata {
  contract: '1';
  checkpoint: CheckpointInfo;
  labels: string[];
  architecture: Architecture;
  tokenLayout: TokenLayout;
  answerPositions: number[];
  frames: FrameSpec;
  audio: AudioSpec;
  prompt: PromptSpec;
  decode: DecodeSpec;
  arDefaults: ArDefaults;
  tauSweep: TauSweep;
}

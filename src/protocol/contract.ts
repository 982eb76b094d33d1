// Plain data of model contract v1 (models/CONTRACT.md), shared by the engine, the CLI and the
// webviews, as schemas with their inferred types. Field names are the camelCase forms of the
// metadata's snake_case JSON keys (modelMetadata.ts parses those and builds these).
import * as v from 'valibot';

/** Index of each modality on the last axis of `modality_mass` / `modality_mass_after`. */
export const MODALITY_AXIS = { visual: 0, audio: 1, text: 2 } as const;

/** Names of the ratio kinds, indexed by `RatioKind` (also the keys of `mosear.tau_sweep`). */
export const RATIO_KIND_NAMES = ['raw', 'density', 'share'] as const;

/** The kind of a key position. */
export const ModalitySchema = v.picklist(['visual', 'audio', 'text']);
export type Modality = v.InferOutput<typeof ModalitySchema>;

/** `ar_mode`: 0 no intervention, 1 AR, 2 PAI-style. */
export const ArModeSchema = v.picklist([0, 1, 2]);
export type ArMode = v.InferOutput<typeof ArModeSchema>;

/** `ar_ratio_kind`: 0 raw A/V, 1 per-token density, 2 audio share A/(A+V). */
export const RatioKindSchema = v.picklist([0, 1, 2]);
export type RatioKind = v.InferOutput<typeof RatioKindSchema>;

/** A ratio kind's name. */
export type RatioKindName = (typeof RATIO_KIND_NAMES)[number];

/** A finite number (what the contract's scalars and small vectors hold). */
export const finiteNumber = v.pipe(v.number(), v.finite());

/** Frame × row × column grid of the visual tokens (token = start + (f·rows + r)·cols + c). */
export const VisualGridSchema = v.object({
  frames: v.number(),
  rows: v.number(),
  cols: v.number(),
  order: v.literal('frame,row,col'),
});
export type VisualGrid = v.InferOutput<typeof VisualGridSchema>;

/** A contiguous run of key positions of one modality. */
export const TokenSegmentSchema = v.object({
  modality: ModalitySchema,
  start: v.number(),
  count: v.number(),
  grid: v.exactOptional(VisualGridSchema),
});
export type TokenSegment = v.InferOutput<typeof TokenSegmentSchema>;

/** `mosear.token_layout`: the N key positions in order. */
export const TokenLayoutSchema = v.object({
  segments: v.array(TokenSegmentSchema),
  total: v.number(),
});
export type TokenLayout = v.InferOutput<typeof TokenLayoutSchema>;

/** `mosear.checkpoint`: what the checkpoint is. */
export const CheckpointInfoSchema = v.object({
  name: v.string(),
  description: v.string(),
  trainingData: v.string(),
  version: v.string(),
});
export type CheckpointInfo = v.InferOutput<typeof CheckpointInfoSchema>;

/** `mosear.architecture`: L = layers, Hh = heads; `mose` decides whether `mose_gate` exists. */
export const ArchitectureSchema = v.object({
  family: v.string(),
  layers: v.number(),
  heads: v.number(),
  dModel: v.number(),
  adapter: v.picklist(['none', 'lora', 'mose']),
  mose: v.boolean(),
  loraRank: v.number(),
  moseEps: v.nullable(v.number()),
});
export type Architecture = v.InferOutput<typeof ArchitectureSchema>;

/** `mosear.frames`: T, H, W of the `frames` input. */
export const FrameSpecSchema = v.object({
  count: v.number(),
  height: v.number(),
  width: v.number(),
  dynamicCount: v.boolean(),
  channels: v.literal('rgb'),
  range: v.tuple([v.literal(0), v.literal(1)]),
});
export type FrameSpec = v.InferOutput<typeof FrameSpecSchema>;

/** `mosear.audio`: the `audio` input's window. */
export const AudioSpecSchema = v.object({
  sampleRateHz: v.number(),
  samples: v.number(),
  windowSeconds: v.number(),
  optional: v.boolean(),
  tokens: v.number(),
});
export type AudioSpec = v.InferOutput<typeof AudioSpecSchema>;

/** `mosear.prompt`: vocabulary (for display) and the default prompt. */
export const PromptSpecSchema = v.object({
  vocab: v.array(v.string()),
  default: v.array(v.string()),
  defaultIds: v.array(v.number()),
});
export type PromptSpec = v.InferOutput<typeof PromptSpecSchema>;

/** `mosear.decode`: which decode spec produced the training tensors (CONTRACT.md §6). */
export const DecodeSpecSchema = v.object({
  spec: v.literal('mosear-decode-1'),
  frameTimes: v.literal('midpoints'),
  resize: v.literal('cover-center-crop'),
  scaleFlags: v.literal('area'),
  audioWindow: v.literal('centered'),
  audioPad: v.literal('zeros-at-end'),
});
export type DecodeSpec = v.InferOutput<typeof DecodeSpecSchema>;

const arDefaultsEntries = {
  mode: ArModeSchema,
  ratioKind: RatioKindSchema,
  /** τ per layer [L]. */
  tau: v.array(finiteNumber),
  headMargin: finiteNumber,
  /** α ∈ [0, 1]. */
  alpha: finiteNumber,
  paiAlpha: finiteNumber,
  /** 1 where an intervention may act, 0 elsewhere [L]. */
  layers: v.array(finiteNumber),
};

/**
 * The intervention controls fed to the graph (its `ar_*` and `pai_alpha` inputs). Types only:
 * lengths and ranges are checked against the checkpoint's metadata by the engine.
 */
export const ArControlsSchema = v.object({
  ...arDefaultsEntries,
  /** −1 never flag, 0 automatic, +1 always flag [L][Hh]. */
  headOverride: v.array(v.array(finiteNumber)),
});
export type ArControls = v.InferOutput<typeof ArControlsSchema>;

/** Controls a user set in a panel: head overrides are exactly −1, 0 or +1. */
export const UserControlsSchema = v.object({
  ...ArControlsSchema.entries,
  headOverride: v.array(
    v.array(
      v.pipe(
        finiteNumber,
        v.check((x) => x === -1 || x === 0 || x === 1, 'must be -1, 0 or 1'),
      ),
    ),
  ),
});

/** `mosear.ar_defaults`: the controls the checkpoint recommends (no overrides). */
export const ArDefaultsSchema = v.object(arDefaultsEntries);
export type ArDefaults = v.InferOutput<typeof ArDefaultsSchema>;

/** One default τ sweep range. */
export const TauRangeSchema = v.object({
  min: v.number(),
  max: v.number(),
  steps: v.number(),
  scale: v.picklist(['linear', 'log']),
});
export type TauRange = v.InferOutput<typeof TauRangeSchema>;

/** `mosear.tau_sweep`: a default τ sweep per ratio kind. */
export const TauSweepSchema = v.object({
  raw: TauRangeSchema,
  density: TauRangeSchema,
  share: TauRangeSchema,
});
export type TauSweep = v.InferOutput<typeof TauSweepSchema>;

/** Everything contract v1 requires in `metadata_props`, parsed and validated. */
export const ContractMetadataSchema = v.object({
  contract: v.literal('1'),
  checkpoint: CheckpointInfoSchema,
  labels: v.array(v.string()),
  architecture: ArchitectureSchema,
  tokenLayout: TokenLayoutSchema,
  answerPositions: v.array(v.number()),
  frames: FrameSpecSchema,
  audio: AudioSpecSchema,
  prompt: PromptSpecSchema,
  decode: DecodeSpecSchema,
  arDefaults: ArDefaultsSchema,
  tauSweep: TauSweepSchema,
});
export type ContractMetadata = v.InferOutput<typeof ContractMetadataSchema>;

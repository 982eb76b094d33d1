// Plain data of model contracts 1 and 1.1 (models/CONTRACT.md), shared by the engine, the CLI and
// the webviews, as schemas with their inferred types. Field names are the camelCase forms of the
// metadata's snake_case JSON keys (modelMetadata.ts parses those and builds these). Fields only
// 1.1 has are optional: absent, they mean what contract 1 says (see the accessors in
// src/core/contract/runLayout.ts), so a contract-1 model's metadata is exactly what it was.
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

/** A width × height in pixels. */
export const PixelSizeSchema = v.object({ width: v.number(), height: v.number() });
export type PixelSize = v.InferOutput<typeof PixelSizeSchema>;

/** Frame × row × column grid of the visual tokens (token = start + (f·rows + r)·cols + c). */
export const VisualGridSchema = v.object({
  frames: v.number(),
  rows: v.number(),
  cols: v.number(),
  order: v.literal('frame,row,col'),
  /** 1.1: the input frame of each grid frame (absent: grid frame f is input frame f). */
  frameIndex: v.exactOptional(v.array(v.number())),
  /** 1.1: cell size in input-frame pixels (absent: W / cols × H / rows). */
  cellPx: v.exactOptional(PixelSizeSchema),
  /** 1.1, informative: the encoder's patch grid a cell groups. */
  patches: v.exactOptional(
    v.object({
      rows: v.number(),
      cols: v.number(),
      sizePx: PixelSizeSchema,
      perCell: v.object({ rows: v.number(), cols: v.number() }),
    }),
  ),
});
export type VisualGrid = v.InferOutput<typeof VisualGridSchema>;

/** A contiguous run of key positions of one modality. */
export const TokenSegmentSchema = v.object({
  /** 1.1: unique name (`eva_patches`, `hubert`, `prompt` …); contract 1 has none. */
  name: v.exactOptional(v.string()),
  /** 1.1: display name (absent: the name). */
  label: v.exactOptional(v.string()),
  modality: ModalitySchema,
  start: v.number(),
  count: v.number(),
  grid: v.exactOptional(VisualGridSchema),
});
export type TokenSegment = v.InferOutput<typeof TokenSegmentSchema>;

/**
 * `mosear.token_layout`: the N key positions in order. For a 1.1 model with a variable text
 * segment (its `count` and the later `start`s and `total` are null in the metadata) this holds
 * the layout at the slots' defaults (CONTRACT.md §3.3), and `variableSegment` names the segment
 * whose count varies from run to run; each run's own layout is a RunLayout.
 */
export const TokenLayoutSchema = v.object({
  segments: v.array(TokenSegmentSchema),
  total: v.number(),
  variableSegment: v.exactOptional(v.string()),
});
export type TokenLayout = v.InferOutput<typeof TokenLayoutSchema>;

/** What put a text position there (CONTRACT.md §3.3). */
export const TextPositionKindSchema = v.picklist(['template', 'special', 'slot']);
export type TextPositionKind = v.InferOutput<typeof TextPositionKindSchema>;

/** One text position of a run: the id fed, its vocabulary entry and the word as written. */
export const TextPositionSchema = v.object({
  position: v.number(),
  id: v.number(),
  /** The vocabulary entry the model saw (the unk entry for an unknown slot word). */
  token: v.string(),
  /** The word as written. */
  text: v.string(),
  kind: TextPositionKindSchema,
  /** The slot whose value gave this position (kind "slot"). */
  slot: v.exactOptional(v.string()),
});
export type TextPosition = v.InferOutput<typeof TextPositionSchema>;

/** A named segment of a run's layout (CONTRACT.md §3.3). */
export const RunSegmentSchema = v.object({
  name: v.string(),
  label: v.string(),
  modality: ModalitySchema,
  start: v.number(),
  count: v.number(),
  grid: v.exactOptional(VisualGridSchema),
});
export type RunSegment = v.InferOutput<typeof RunSegmentSchema>;

/** One run's layout (CONTRACT.md §3.3): named segments, N, and every text position. */
export const RunLayoutSchema = v.object({
  segments: v.array(RunSegmentSchema),
  total: v.number(),
  text: v.array(TextPositionSchema),
});
export type RunLayout = v.InferOutput<typeof RunLayoutSchema>;

/** `mosear.checkpoint`: what the checkpoint is. */
export const CheckpointInfoSchema = v.object({
  name: v.string(),
  description: v.string(),
  /** null: the checkpoint names no training data (random weights, e.g. a test fixture). */
  trainingData: v.nullable(v.string()),
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
  /** 1.1: what PAI's scores are taken after (absent: "rope"). */
  positionEncoding: v.exactOptional(v.picklist(['rope', 'learned', 'none'])),
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
  /** 1.1: "variable": minSamples ≤ S ≤ samples (absent: "fixed", S = samples). */
  length: v.exactOptional(v.picklist(['fixed', 'variable'])),
  /** 1.1: the shortest S a variable-length graph accepts. */
  minSamples: v.exactOptional(v.number()),
  /** 1.2: the largest k of the `audio_repeat` input; present exactly when the graph has it. */
  repeatMax: v.exactOptional(v.number()),
});
export type AudioSpec = v.InferOutput<typeof AudioSpecSchema>;

/** One piece of a 1.1 prompt template (CONTRACT.md §3.1). */
export const TemplatePieceSchema = v.variant('kind', [
  v.object({ kind: v.literal('special'), token: v.string() }),
  v.object({ kind: v.literal('text'), text: v.string() }),
  v.object({ kind: v.literal('slot'), slot: v.string() }),
]);
export type TemplatePiece = v.InferOutput<typeof TemplatePieceSchema>;

/** A 1.1 prompt slot: its default value and the most tokens it may give. */
export const PromptSlotSchema = v.object({
  default: v.string(),
  maxTokens: v.number(),
  description: v.exactOptional(v.string()),
});
export type PromptSlot = v.InferOutput<typeof PromptSlotSchema>;

/**
 * A 1.1 tokenizer (CONTRACT.md §3.1): "word-level" over the vocabulary, or "sentencepiece", the
 * real model's `tokenizer.model` (a file next to the .onnx, checked by its SHA-256).
 */
export const TokenizerSpecSchema = v.variant('kind', [
  v.object({
    kind: v.literal('word-level'),
    unk: v.nullable(v.string()),
    ref: v.nullable(v.string()),
  }),
  v.object({
    kind: v.literal('sentencepiece'),
    unk: v.nullable(v.string()),
    ref: v.nullable(v.string()),
    /** The SentencePiece model's path, relative to the .onnx. */
    file: v.string(),
    /** Its lower-case hex SHA-256. */
    sha256: v.string(),
    /** How a segment's pieces are encoded (§3.1): "joined", the only value. */
    segmentEncoding: v.literal('joined'),
  }),
]);
export type TokenizerSpec = v.InferOutput<typeof TokenizerSpecSchema>;

/** `mosear.prompt`: vocabulary (for display) and the default prompt. */
export const PromptSpecSchema = v.object({
  vocab: v.array(v.string()),
  /** Tokens and ids of every text position in layout order, slots at their defaults. */
  default: v.array(v.string()),
  defaultIds: v.array(v.number()),
  /** 1.1 (all three): the tokenizer, each text segment's template, the slots. */
  tokenizer: v.exactOptional(TokenizerSpecSchema),
  template: v.exactOptional(v.record(v.string(), v.array(TemplatePieceSchema))),
  slots: v.exactOptional(v.record(v.string(), PromptSlotSchema)),
});
export type PromptSpec = v.InferOutput<typeof PromptSpecSchema>;

/**
 * `mosear.decode`: which decode spec produced the training tensors (CONTRACT.md §6). Contract 1
 * allows only the first value of each field; 1.1 adds the others (§6 step 5).
 */
export const DecodeSpecSchema = v.object({
  spec: v.literal('mosear-decode-1'),
  frameTimes: v.picklist(['midpoints', 'first']),
  resize: v.picklist(['cover-center-crop', 'squash']),
  scaleFlags: v.picklist(['area', 'bicubic']),
  audioWindow: v.picklist(['centered', 'from-start']),
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

/** The contract versions this code reads. */
export const CONTRACT_VERSIONS = ['1', '1.1', '1.2'] as const;

/** Everything contract 1 or 1.1 requires in `metadata_props`, parsed and validated. */
export const ContractMetadataSchema = v.object({
  contract: v.picklist(CONTRACT_VERSIONS),
  checkpoint: CheckpointInfoSchema,
  labels: v.array(v.string()),
  architecture: ArchitectureSchema,
  tokenLayout: TokenLayoutSchema,
  /** As declared: 1.1 allows a negative p, meaning N + p (resolved per run). */
  answerPositions: v.array(v.number()),
  frames: FrameSpecSchema,
  audio: AudioSpecSchema,
  prompt: PromptSpecSchema,
  decode: DecodeSpecSchema,
  arDefaults: ArDefaultsSchema,
  tauSweep: TauSweepSchema,
});
export type ContractMetadata = v.InferOutput<typeof ContractMetadataSchema>;

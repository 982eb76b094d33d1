// The ONNX model's `metadata_props` as contracts 1 and 1.1 write them (models/CONTRACT.md): one
// JSON value per `mosear.*` key, snake_case; a `*11JsonSchema` is a key's 1.1 form (contract 1's
// plus the fields of §3.2), used only for models that declare "1.1". These schemas check each value's own fields; the checks
// that need numbers from several keys (segments contiguous, τ per layer, ids in the vocabulary)
// are the engine's (core/contract/metadata.ts), which also builds the camelCase ContractMetadata.
// Messages follow "expected …, found …", prefixed by the key path ("mosear.architecture.layers").
import * as v from 'valibot';
import { describeValue, type Issue } from './issues';

/** A message "expected `what`, found <the value>". */
export function expected(what: string): (issue: Issue) => string {
  return (issue) => `expected ${what}, found ${describeValue(issue.input)}`;
}

const text = v.string(expected('a string'));
const nonEmptyText = v.pipe(text, v.minLength(1, expected('a non-empty string')));
const flag = v.boolean(expected('true or false'));
const finite = v.pipe(v.number(expected('a finite number')), v.finite(expected('a finite number')));

/** An integer ≥ `min`. */
function integer(min = 0) {
  const message = expected(`an integer ≥ ${min}`);
  return v.pipe(v.number(message), v.safeInteger(message), v.minValue(min, message));
}

/** One of a few strings. */
function oneOf<const T extends readonly [string, ...string[]]>(options: T) {
  return v.picklist(options, expected(`one of ${options.map((o) => `"${o}"`).join(', ')}`));
}

/** One of a few numbers. */
function oneOfNumbers<const T extends readonly [number, ...number[]]>(options: T) {
  return v.picklist(options, expected(`one of ${options.join(', ')}`));
}

/** An array of `item`, with at least `atLeast` items. */
function list<const S extends v.GenericSchema>(item: S, atLeast = 0) {
  return v.pipe(
    v.array(item, expected('an array')),
    v.minLength(
      atLeast,
      (issue) => `expected an array of at least ${atLeast} items, found "length ${issue.received}"`,
    ),
  );
}

/** `mosear.checkpoint`. */
export const CheckpointJsonSchema = v.object({
  name: text,
  description: text,
  /** null: no training data (random weights); accepted under both versions. */
  training_data: v.nullable(text),
  version: text,
});

/** `mosear.labels`: at least two non-empty names. */
export const LabelsJsonSchema = list(nonEmptyText, 2);

/** `mosear.architecture`. */
export const ArchitectureJsonSchema = v.object({
  family: text,
  layers: integer(1),
  heads: integer(1),
  d_model: integer(1),
  adapter: oneOf(['none', 'lora', 'mose']),
  mose: flag,
  lora_rank: integer(),
  mose_eps: v.nullable(finite),
});

/** One segment of `mosear.token_layout` (a grid only on the visual one, checked by the engine). */
export const TokenSegmentJsonSchema = v.object({
  modality: oneOf(['visual', 'audio', 'text']),
  start: integer(),
  count: integer(1),
  grid: v.exactOptional(
    v.nullable(
      v.object({
        frames: integer(1),
        rows: integer(1),
        cols: integer(1),
        order: oneOf(['frame,row,col']),
      }),
    ),
  ),
});
export type TokenSegmentJson = v.InferOutput<typeof TokenSegmentJsonSchema>;

/** `mosear.token_layout`. */
export const TokenLayoutJsonSchema = v.object({
  total: integer(1),
  segments: list(TokenSegmentJsonSchema, 1),
});

/** `mosear.answer_positions`: at least one key position. */
export const AnswerPositionsJsonSchema = list(integer(), 1);

/** `mosear.frames`. */
export const FramesJsonSchema = v.object({
  count: integer(1),
  height: integer(1),
  width: integer(1),
  dynamic_count: flag,
  channels: oneOf(['rgb']),
  range: v.custom<[0, 1]>(
    (r) => Array.isArray(r) && r.length === 2 && r[0] === 0 && r[1] === 1,
    expected('[0, 1]'),
  ),
});

/** `mosear.audio`. */
export const AudioJsonSchema = v.object({
  sample_rate_hz: integer(1),
  samples: integer(1),
  window_seconds: finite,
  optional: flag,
  tokens: integer(1),
});

/** `mosear.prompt`. */
export const PromptJsonSchema = v.object({
  vocab: list(text, 1),
  default: list(text),
  default_ids: list(integer()),
});

/** `mosear.decode`: the one decode spec this engine implements. */
export const DecodeJsonSchema = v.object({
  spec: oneOf(['mosear-decode-1']),
  frame_times: oneOf(['midpoints']),
  resize: oneOf(['cover-center-crop']),
  scale_flags: oneOf(['area']),
  audio_window: oneOf(['centered']),
  audio_pad: oneOf(['zeros-at-end']),
});

/** `mosear.ar_defaults` (the lengths of `tau` and `layers` are the engine's check: L). */
export const ArDefaultsJsonSchema = v.object({
  mode: oneOfNumbers([0, 1, 2]),
  ratio_kind: oneOfNumbers([0, 1, 2]),
  tau: list(finite),
  head_margin: finite,
  alpha: v.pipe(
    finite,
    v.minValue(0, expected('a number in [0, 1]')),
    v.maxValue(1, expected('a number in [0, 1]')),
  ),
  pai_alpha: finite,
  layers: list(v.picklist([0, 1], expected('0 or 1'))),
});

/** One default τ sweep range (min < max and a positive log range: the engine's checks). */
export const TauRangeJsonSchema = v.object({
  min: finite,
  max: finite,
  steps: integer(2),
  scale: oneOf(['linear', 'log']),
});

/** `mosear.tau_sweep`. */
export const TauSweepJsonSchema = v.object({
  raw: TauRangeJsonSchema,
  density: TauRangeJsonSchema,
  share: TauRangeJsonSchema,
});

// Contract 1.1 (CONTRACT.md §3.1, §3.2).

/** A 1.1 segment name. */
const segmentName = v.pipe(
  text,
  v.regex(/^[a-z][a-z0-9_]*$/, expected('a name matching ^[a-z][a-z0-9_]*$')),
);

/** A width × height of at least 1 × 1 pixels. */
const pixelSize = v.object({ width: integer(1), height: integer(1) });

/** `mosear.architecture` in 1.1. */
export const Architecture11JsonSchema = v.object({
  ...ArchitectureJsonSchema.entries,
  position_encoding: v.exactOptional(oneOf(['rope', 'learned', 'none'])),
});

/** A 1.1 grid: contract 1's plus the input frame of each grid frame, cell size and patches. */
export const Grid11JsonSchema = v.object({
  frames: integer(1),
  rows: integer(1),
  cols: integer(1),
  order: oneOf(['frame,row,col']),
  frame_index: v.exactOptional(list(integer())),
  cell_px: v.exactOptional(pixelSize),
  patches: v.exactOptional(
    v.object({
      rows: integer(1),
      cols: integer(1),
      size_px: pixelSize,
      per_cell: v.object({ rows: integer(1), cols: integer(1) }),
    }),
  ),
});

/** One 1.1 segment: named, with null start/count where the layout varies (§3.1). */
export const TokenSegment11JsonSchema = v.object({
  name: segmentName,
  label: v.exactOptional(text),
  modality: oneOf(['visual', 'audio', 'text']),
  start: v.nullable(integer()),
  count: v.nullable(integer(1)),
  grid: v.exactOptional(v.nullable(Grid11JsonSchema)),
});
export type TokenSegment11Json = v.InferOutput<typeof TokenSegment11JsonSchema>;

/** `mosear.token_layout` in 1.1. */
export const TokenLayout11JsonSchema = v.object({
  total: v.nullable(integer(1)),
  segments: list(TokenSegment11JsonSchema, 1),
});
export type TokenLayout11Json = v.InferOutput<typeof TokenLayout11JsonSchema>;

/** `mosear.answer_positions` in 1.1: a negative p means N + p. */
export const AnswerPositions11JsonSchema = list(
  v.pipe(v.number(expected('an integer')), v.safeInteger(expected('an integer'))),
  1,
);

/** `mosear.audio` in 1.1. */
export const Audio11JsonSchema = v.object({
  ...AudioJsonSchema.entries,
  length: v.exactOptional(oneOf(['fixed', 'variable'])),
  min_samples: v.exactOptional(integer(1)),
  /** 1.2 (CONTRACT.md §1c): the largest k the `audio_repeat` input accepts. */
  repeat_max: v.exactOptional(integer(2)),
});

/** One piece of a prompt template. */
export const TemplatePieceJsonSchema = v.variant(
  'kind',
  [
    v.object({ kind: v.literal('special'), token: nonEmptyText }),
    v.object({ kind: v.literal('text'), text }),
    v.object({ kind: v.literal('slot'), slot: nonEmptyText }),
  ],
  expected('a piece of kind "special", "text" or "slot"'),
);

/** `mosear.prompt` in 1.1: the tokenizer, each text segment's template, the slots. */
export const Prompt11JsonSchema = v.object({
  ...PromptJsonSchema.entries,
  tokenizer: v.variant(
    'kind',
    [
      v.object({ kind: v.literal('word-level'), unk: v.nullable(text), ref: v.nullable(text) }),
      v.object({
        kind: v.literal('sentencepiece'),
        unk: v.nullable(text),
        ref: v.nullable(text),
        file: nonEmptyText,
        sha256: v.pipe(text, v.regex(/^[0-9a-f]{64}$/, expected('a lower-case hex SHA-256'))),
        segment_encoding: oneOf(['joined']),
        /** The rule in words (informative). */
        rule: v.exactOptional(text),
      }),
    ],
    expected('a tokenizer of kind "word-level" or "sentencepiece"'),
  ),
  template: v.record(text, list(TemplatePieceJsonSchema), expected('an object')),
  slots: v.record(
    text,
    v.object({
      default: text,
      max_tokens: integer(0),
      description: v.exactOptional(text),
    }),
    expected('an object'),
  ),
});
export type Prompt11Json = v.InferOutput<typeof Prompt11JsonSchema>;

/** `mosear.decode` in 1.1: contract 1's values and the variants of §6 step 5. */
export const Decode11JsonSchema = v.object({
  spec: oneOf(['mosear-decode-1']),
  frame_times: oneOf(['midpoints', 'first']),
  resize: oneOf(['cover-center-crop', 'squash']),
  scale_flags: oneOf(['area', 'bicubic']),
  audio_window: oneOf(['centered', 'from-start']),
  audio_pad: oneOf(['zeros-at-end']),
});

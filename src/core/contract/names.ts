// The names the contract fixes: its versions, the graph's inputs and outputs, the metadata keys.
/** The first contract version (`mosear.contract`); every later one reads its models unchanged. */
export const CONTRACT_VERSION = '1';

/** The contract versions this engine implements. */
export const KNOWN_CONTRACT_VERSIONS: readonly string[] = ['1', '1.1', '1.2'];

/** Graph inputs, in the order of CONTRACT.md §1; every one must be present. */
export const INPUT_NAMES = [
  'frames',
  'audio',
  'prompt_ids',
  'ar_mode',
  'ar_tau',
  'ar_ratio_kind',
  'ar_head_margin',
  'ar_alpha',
  'pai_alpha',
  'ar_layers',
  'ar_head_override',
] as const;

/** Graph outputs every contract model has (CONTRACT.md §2). */
export const OUTPUT_NAMES = [
  'logits',
  'modality_mass',
  'modality_mass_after',
  'ar_flags',
  'token_attention_before',
  'token_attention',
] as const;

/** Contract 1.1's optional input (§1a): a per-head gate [L, Hh], all ones when absent. */
export const HEAD_GATE_INPUT = 'head_gate';

/**
 * Contract 1.2's optional feature inputs (§1b): pre-extracted FaceMAE and VideoMAE vectors
 * [1, D] (D the graph's), zeros when not given.
 */
export const FEATURE_INPUTS = ['face_mae_features', 'video_mae_features'] as const;

/** A feature input's name. */
export type FeatureInputName = (typeof FEATURE_INPUTS)[number];

/**
 * Contract 1.2's optional input (§1c): int64 [], the audio tokens repeated k times (the
 * token-imbalance probe); 1 when absent. `mosear.audio.repeat_max` is its cap.
 */
export const AUDIO_REPEAT_INPUT = 'audio_repeat';

/** Contract 1.1's optional output (§2a): the label readout after each layer [L, C]. */
export const LAYER_LOGITS_OUTPUT = 'layer_logits';

/** Contract 1.1's optional output (§2a): the vocabulary's argmax at the answer position, int64 [1]. */
export const GREEDY_TOKEN_OUTPUT = 'greedy_token';

/** Contract 1.1's optional output (§2a): the labels' first tokens' total vocabulary probability [1]. */
export const LABEL_PROBABILITY_OUTPUT = 'label_probability';

/** The output present if and only if `mosear.architecture.mose` is true. */
export const MOSE_OUTPUT = 'mose_gate';

/** A contract input's name. */
export type InputName = (typeof INPUT_NAMES)[number];

/** A contract output's name. */
export type OutputName =
  | (typeof OUTPUT_NAMES)[number]
  | typeof MOSE_OUTPUT
  | typeof LAYER_LOGITS_OUTPUT
  | typeof GREEDY_TOKEN_OUTPUT
  | typeof LABEL_PROBABILITY_OUTPUT;

/** Metadata keys whose values are JSON (all required; `mosear.contract` is a plain string). */
export const METADATA_KEYS = [
  'mosear.checkpoint',
  'mosear.labels',
  'mosear.architecture',
  'mosear.token_layout',
  'mosear.answer_positions',
  'mosear.frames',
  'mosear.audio',
  'mosear.prompt',
  'mosear.decode',
  'mosear.ar_defaults',
  'mosear.tau_sweep',
] as const;

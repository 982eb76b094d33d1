// The names contract v1 fixes: its version, the graph's inputs and outputs, the metadata keys.
/** The contract version this engine implements (`mosear.contract`). */
export const CONTRACT_VERSION = '1';

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

/** The output present if and only if `mosear.architecture.mose` is true. */
export const MOSE_OUTPUT = 'mose_gate';

/** A contract input's name. */
export type InputName = (typeof INPUT_NAMES)[number];

/** A contract output's name. */
export type OutputName = (typeof OUTPUT_NAMES)[number] | typeof MOSE_OUTPUT;

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

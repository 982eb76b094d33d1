// What both contract versions' metadata readers share: one key's JSON value read by its schema,
// the cross-field checks of the keys 1.1 leaves unchanged, and their camelCase forms.
import type * as v from 'valibot';
import type { ContractMetadata, TauRange } from '../../protocol/contract';
import { JsonTextError, parseJsonBounded } from '../../protocol/boundedJson';
import { describeValue, expectedFound, issuePath, parseOrThrow } from '../../protocol/issues';
import type {
  ArDefaultsJsonSchema,
  Architecture11JsonSchema,
  Audio11JsonSchema,
  CheckpointJsonSchema,
  Decode11JsonSchema,
  FramesJsonSchema,
} from '../../protocol/modelMetadata';
import { ContractError } from './contractError';
import type { METADATA_KEYS } from './names';

/** The longest metadata value read as JSON (a vocabulary of a large model fits). */
const MAX_METADATA_VALUE_CHARS = 16 * 1024 * 1024;

/** Reads one metadata key's JSON value by its schema (errors name the key and the member). */
export type MetadataReader = <const S extends v.GenericSchema>(
  key: (typeof METADATA_KEYS)[number],
  schema: S,
) => v.InferOutput<S>;

/** A reader over a model's `metadata_props`. */
export function metadataReader(props: ReadonlyMap<string, string>): MetadataReader {
  return (key, schema) => {
    const text = props.get(key);
    if (text === undefined) throw new ContractError(`metadata key "${key}" is missing`);
    let value: unknown;
    try {
      value = parseJsonBounded(text, { what: key, maxChars: MAX_METADATA_VALUE_CHARS });
    } catch (error) {
      throw error instanceof JsonTextError ? new ContractError(error.message) : error;
    }
    return parseOrThrow(
      schema,
      value,
      (issue) => new ContractError(`${issuePath(issue, key)}: ${issue.message}`),
      expectedFound,
    );
  };
}

/** Throws a ContractError "`path`: expected `expected`, found `found`". */
export function fail(path: string, expected: string, found: unknown): never {
  throw new ContractError(`${path}: expected ${expected}, found ${describeValue(found)}`);
}

export function requireUnique(values: string[], path: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new ContractError(`${path}: "${v}" appears more than once`);
    seen.add(v);
  }
}

/** `default_ids` index the vocabulary and name the `default` words, one each. */
export function checkPrompt(vocab: string[], words: string[], ids: number[]): void {
  const path = 'mosear.prompt';
  ids.forEach((id, i) => {
    if (id >= vocab.length) {
      fail(`${path}.default_ids[${i}]`, `an id < ${vocab.length} (the vocabulary size)`, id);
    }
  });
  if (ids.length !== words.length) {
    fail(`${path}.default_ids`, `${words.length} ids (one per default word)`, ids.length);
  }
  ids.forEach((id, i) => {
    if (vocab[id] !== words[i]) {
      fail(`${path}.default_ids[${i}]`, `the id of "${words[i]}"`, `${id} ("${vocab[id]}")`);
    }
  });
}

export function checkTauRange(range: TauRange, path: string): void {
  if (!(range.min < range.max)) fail(`${path}.max`, `a number > min (${range.min})`, range.max);
  if (range.scale === 'log' && range.min <= 0) {
    fail(`${path}.min`, 'a number > 0 on a log scale', range.min);
  }
}

/** τ and the enabled layers have one entry per layer. */
export function checkDefaults(
  defaults: v.InferOutput<typeof ArDefaultsJsonSchema>,
  layers: number,
): void {
  for (const key of ['tau', 'layers'] as const) {
    if (defaults[key].length !== layers) {
      fail(
        `mosear.ar_defaults.${key}`,
        `an array of length ${layers}`,
        `length ${defaults[key].length}`,
      );
    }
  }
}

export function checkpointOf(
  checkpoint: v.InferOutput<typeof CheckpointJsonSchema>,
): ContractMetadata['checkpoint'] {
  return {
    name: checkpoint.name,
    description: checkpoint.description,
    trainingData: checkpoint.training_data,
    version: checkpoint.version,
  };
}

/** `mosear.architecture` in camelCase (1.1's optional `position_encoding` only when set). */
export function architectureOf(
  a: Omit<v.InferOutput<typeof Architecture11JsonSchema>, 'position_encoding'> & {
    position_encoding?: v.InferOutput<typeof Architecture11JsonSchema>['position_encoding'];
  },
): ContractMetadata['architecture'] {
  return {
    family: a.family,
    layers: a.layers,
    heads: a.heads,
    dModel: a.d_model,
    adapter: a.adapter,
    mose: a.mose,
    loraRank: a.lora_rank,
    moseEps: a.mose_eps,
    ...(a.position_encoding === undefined ? {} : { positionEncoding: a.position_encoding }),
  };
}

/** `mosear.audio` in camelCase (1.1's `length` and `min_samples` only when set). */
export function audioOf(
  a: Omit<v.InferOutput<typeof Audio11JsonSchema>, 'length' | 'min_samples' | 'repeat_max'> & {
    length?: v.InferOutput<typeof Audio11JsonSchema>['length'];
    min_samples?: v.InferOutput<typeof Audio11JsonSchema>['min_samples'];
    repeat_max?: v.InferOutput<typeof Audio11JsonSchema>['repeat_max'];
  },
): ContractMetadata['audio'] {
  return {
    sampleRateHz: a.sample_rate_hz,
    samples: a.samples,
    windowSeconds: a.window_seconds,
    optional: a.optional,
    tokens: a.tokens,
    ...(a.length === undefined ? {} : { length: a.length }),
    ...(a.min_samples === undefined ? {} : { minSamples: a.min_samples }),
    ...(a.repeat_max === undefined ? {} : { repeatMax: a.repeat_max }),
  };
}

/** `mosear.decode` in camelCase (contract 1's values are a subset of 1.1's). */
export function decodeOf(d: v.InferOutput<typeof Decode11JsonSchema>): ContractMetadata['decode'] {
  return {
    spec: d.spec,
    frameTimes: d.frame_times,
    resize: d.resize,
    scaleFlags: d.scale_flags,
    audioWindow: d.audio_window,
    audioPad: d.audio_pad,
  };
}

export function framesOf(
  frames: v.InferOutput<typeof FramesJsonSchema>,
): ContractMetadata['frames'] {
  return {
    count: frames.count,
    height: frames.height,
    width: frames.width,
    dynamicCount: frames.dynamic_count,
    channels: frames.channels,
    range: [0, 1],
  };
}

export function arDefaultsOf(
  defaults: v.InferOutput<typeof ArDefaultsJsonSchema>,
): ContractMetadata['arDefaults'] {
  return {
    mode: defaults.mode,
    ratioKind: defaults.ratio_kind,
    tau: defaults.tau,
    headMargin: defaults.head_margin,
    alpha: defaults.alpha,
    paiAlpha: defaults.pai_alpha,
    layers: defaults.layers,
  };
}

// Contract v1's `metadata_props` parsed and validated into ContractMetadata; every error names
// the key and the member inside its JSON value.
import type {
  RATIO_KIND_NAMES,
  ArDefaults,
  ArMode,
  Architecture,
  AudioSpec,
  CheckpointInfo,
  ContractMetadata,
  DecodeSpec,
  FrameSpec,
  Modality,
  PromptSpec,
  RatioKind,
  TauRange,
  TauSweep,
  TokenLayout,
  TokenSegment,
} from '../../protocol/contract';
import { ContractError } from './contractError';
import {
  arrayAt,
  asArray,
  asInteger,
  asNumber,
  asObject,
  asString,
  booleanAt,
  enumAt,
  fail,
  integerAt,
  member,
  numberAt,
  objectAt,
  stringAt,
  type JsonObject,
} from './jsonFields';
import { CONTRACT_VERSION, type METADATA_KEYS } from './names';

/**
 * Parses and validates a model's `metadata_props` against contract v1. Errors name the key (and
 * the member inside its JSON value) and say what is wrong.
 */
export function parseContractMetadata(props: ReadonlyMap<string, string>): ContractMetadata {
  const version = props.get('mosear.contract');
  if (version === undefined) {
    throw new ContractError(
      'metadata key "mosear.contract" is missing: this is not a MoSEAR contract model',
    );
  }
  if (version !== CONTRACT_VERSION) {
    throw new ContractError(
      `mosear.contract: unsupported contract version "${version}" (this engine knows "${CONTRACT_VERSION}")`,
    );
  }
  const json = (key: (typeof METADATA_KEYS)[number]): { value: unknown; path: string } => {
    const text = props.get(key);
    if (text === undefined) throw new ContractError(`metadata key "${key}" is missing`);
    try {
      return { value: JSON.parse(text) as unknown, path: key };
    } catch (error) {
      throw new ContractError(`${key}: not valid JSON (${(error as Error).message})`);
    }
  };
  const root = (key: (typeof METADATA_KEYS)[number]): JsonObject => {
    const { value, path } = json(key);
    return asObject(value, path);
  };

  const architecture = parseArchitecture(root('mosear.architecture'));
  const labelsJson = json('mosear.labels');
  const labels = asArray(labelsJson.value, labelsJson.path, nonEmptyString, { atLeast: 2 });
  requireUnique(labels, labelsJson.path);
  const tokenLayout = parseTokenLayout(root('mosear.token_layout'));
  const answerJson = json('mosear.answer_positions');
  const answerPositions = asArray(
    answerJson.value,
    answerJson.path,
    (v, p) => {
      const position = asInteger(v, p);
      if (position >= tokenLayout.total) fail(p, `a position < ${tokenLayout.total}`, v);
      return position;
    },
    { atLeast: 1 },
  );
  const audio = parseAudio(root('mosear.audio'), tokenLayout);
  return {
    contract: CONTRACT_VERSION,
    checkpoint: parseCheckpoint(root('mosear.checkpoint')),
    labels,
    architecture,
    tokenLayout,
    answerPositions,
    frames: parseFrames(root('mosear.frames')),
    audio,
    prompt: parsePrompt(root('mosear.prompt')),
    decode: parseDecode(root('mosear.decode')),
    arDefaults: parseArDefaults(root('mosear.ar_defaults'), architecture.layers),
    tauSweep: parseTauSweep(root('mosear.tau_sweep')),
  };
}

function nonEmptyString(value: unknown, path: string): string {
  const text = asString(value, path);
  if (text.length === 0) fail(path, 'a non-empty string', value);
  return text;
}

function requireUnique(values: string[], path: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new ContractError(`${path}: "${v}" appears more than once`);
    seen.add(v);
  }
}

function parseCheckpoint(o: JsonObject): CheckpointInfo {
  return {
    name: stringAt(o, 'name'),
    description: stringAt(o, 'description'),
    trainingData: stringAt(o, 'training_data'),
    version: stringAt(o, 'version'),
  };
}

function parseArchitecture(o: JsonObject): Architecture {
  const eps = member(o, 'mose_eps');
  return {
    family: stringAt(o, 'family'),
    layers: integerAt(o, 'layers', 1),
    heads: integerAt(o, 'heads', 1),
    dModel: integerAt(o, 'd_model', 1),
    adapter: enumAt(o, 'adapter', ['none', 'lora', 'mose'] as const),
    mose: booleanAt(o, 'mose'),
    loraRank: integerAt(o, 'lora_rank'),
    moseEps: eps.value === null ? null : asNumber(eps.value, eps.path),
  };
}

const MODALITIES: readonly Modality[] = ['visual', 'audio', 'text'];

function parseTokenLayout(o: JsonObject): TokenLayout {
  const total = integerAt(o, 'total', 1);
  const segments = arrayAt(o, 'segments', parseSegment, { atLeast: 1 });
  let next = 0;
  segments.forEach((segment, i) => {
    const path = `${o.path}.segments[${i}]`;
    if (segment.start !== next) {
      fail(`${path}.start`, `${next} (segments must be contiguous from 0)`, segment.start);
    }
    next = segment.start + segment.count;
  });
  if (next !== total) {
    fail(`${o.path}.total`, `${next} (the end of the last segment)`, total);
  }
  for (const modality of ['visual', 'audio'] as const) {
    if (!segments.some((s) => s.modality === modality)) {
      throw new ContractError(`${o.path}.segments: no ${modality} segment`);
    }
  }
  return { segments, total };
}

function parseSegment(value: unknown, path: string): TokenSegment {
  const o = asObject(value, path);
  const segment: TokenSegment = {
    modality: enumAt(o, 'modality', MODALITIES),
    start: integerAt(o, 'start'),
    count: integerAt(o, 'count', 1),
  };
  const hasGrid = Object.hasOwn(o.value, 'grid') && o.value['grid'] !== null;
  if (segment.modality !== 'visual') {
    if (hasGrid) fail(`${path}.grid`, 'no grid on a non-visual segment', o.value['grid']);
    return segment;
  }
  const grid = objectAt(o, 'grid');
  segment.grid = {
    frames: integerAt(grid, 'frames', 1),
    rows: integerAt(grid, 'rows', 1),
    cols: integerAt(grid, 'cols', 1),
    order: enumAt(grid, 'order', ['frame,row,col'] as const),
  };
  const cells = segment.grid.frames * segment.grid.rows * segment.grid.cols;
  if (cells !== segment.count) {
    fail(`${path}.grid`, `frames·rows·cols = count (${segment.count})`, `${cells} cells`);
  }
  return segment;
}

function parseFrames(o: JsonObject): FrameSpec {
  const range = member(o, 'range');
  if (!Array.isArray(range.value) || range.value[0] !== 0 || range.value[1] !== 1) {
    fail(range.path, '[0, 1]', range.value);
  }
  return {
    count: integerAt(o, 'count', 1),
    height: integerAt(o, 'height', 1),
    width: integerAt(o, 'width', 1),
    dynamicCount: booleanAt(o, 'dynamic_count'),
    channels: enumAt(o, 'channels', ['rgb'] as const),
    range: [0, 1],
  };
}

function parseAudio(o: JsonObject, layout: TokenLayout): AudioSpec {
  const spec: AudioSpec = {
    sampleRateHz: integerAt(o, 'sample_rate_hz', 1),
    samples: integerAt(o, 'samples', 1),
    windowSeconds: numberAt(o, 'window_seconds'),
    optional: booleanAt(o, 'optional'),
    tokens: integerAt(o, 'tokens', 1),
  };
  if (Math.abs(spec.sampleRateHz * spec.windowSeconds - spec.samples) >= 0.5) {
    fail(`${o.path}.samples`, 'sample_rate_hz · window_seconds', spec.samples);
  }
  const audioTokens = countTokens(layout, 'audio');
  if (spec.tokens !== audioTokens) {
    fail(
      `${o.path}.tokens`,
      `${audioTokens} (the audio positions in the token layout)`,
      spec.tokens,
    );
  }
  return spec;
}

function parsePrompt(o: JsonObject): PromptSpec {
  const vocab = arrayAt(o, 'vocab', asString, { atLeast: 1 });
  const words = arrayAt(o, 'default', asString);
  const ids = arrayAt(o, 'default_ids', (v, p) => {
    const id = asInteger(v, p);
    if (id >= vocab.length) fail(p, `an id < ${vocab.length} (the vocabulary size)`, v);
    return id;
  });
  if (ids.length !== words.length) {
    fail(`${o.path}.default_ids`, `${words.length} ids (one per default word)`, ids.length);
  }
  ids.forEach((id, i) => {
    if (vocab[id] !== words[i]) {
      fail(`${o.path}.default_ids[${i}]`, `the id of "${words[i]}"`, `${id} ("${vocab[id]}")`);
    }
  });
  return { vocab, default: words, defaultIds: ids };
}

function parseDecode(o: JsonObject): DecodeSpec {
  return {
    spec: enumAt(o, 'spec', ['mosear-decode-1'] as const),
    frameTimes: enumAt(o, 'frame_times', ['midpoints'] as const),
    resize: enumAt(o, 'resize', ['cover-center-crop'] as const),
    scaleFlags: enumAt(o, 'scale_flags', ['area'] as const),
    audioWindow: enumAt(o, 'audio_window', ['centered'] as const),
    audioPad: enumAt(o, 'audio_pad', ['zeros-at-end'] as const),
  };
}

function parseArDefaults(o: JsonObject, layers: number): ArDefaults {
  const alpha = numberAt(o, 'alpha');
  if (alpha < 0 || alpha > 1) fail(`${o.path}.alpha`, 'a number in [0, 1]', alpha);
  return {
    mode: integerIn(o, 'mode', [0, 1, 2]) as ArMode,
    ratioKind: integerIn(o, 'ratio_kind', [0, 1, 2]) as RatioKind,
    tau: arrayAt(o, 'tau', asNumber, { exactly: layers }),
    headMargin: numberAt(o, 'head_margin'),
    alpha,
    paiAlpha: numberAt(o, 'pai_alpha'),
    layers: arrayAt(o, 'layers', (v, p) => (v === 0 || v === 1 ? v : fail(p, '0 or 1', v)), {
      exactly: layers,
    }),
  };
}

function integerIn(o: JsonObject, key: string, allowed: number[]): number {
  const { value, path } = member(o, key);
  if (typeof value !== 'number' || !allowed.includes(value)) {
    fail(path, `one of ${allowed.join(', ')}`, value);
  }
  return value;
}

function parseTauSweep(o: JsonObject): TauSweep {
  const range = (key: (typeof RATIO_KIND_NAMES)[number]): TauRange => {
    const r = objectAt(o, key);
    const parsed: TauRange = {
      min: numberAt(r, 'min'),
      max: numberAt(r, 'max'),
      steps: integerAt(r, 'steps', 2),
      scale: enumAt(r, 'scale', ['linear', 'log'] as const),
    };
    if (!(parsed.min < parsed.max))
      fail(`${r.path}.max`, `a number > min (${parsed.min})`, parsed.max);
    if (parsed.scale === 'log' && parsed.min <= 0) {
      fail(`${r.path}.min`, 'a number > 0 on a log scale', parsed.min);
    }
    return parsed;
  };
  return { raw: range('raw'), density: range('density'), share: range('share') };
}

/** Number of key positions of one modality in a layout (|V|, |A|, |T|). */
export function countTokens(layout: TokenLayout, modality: Modality): number {
  return layout.segments.filter((s) => s.modality === modality).reduce((n, s) => n + s.count, 0);
}

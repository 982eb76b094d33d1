// A valid contract-v1 metadata set shaped like the one models/mosear/export.py writes
// (4 layers × 4 heads, 4 frames of 64×64 in 4×4 patches, one audio token, an 8-token prompt).
import type { TokenLayout, TokenSegment } from '../../src/protocol/contract';
import type { SessionSignature, ValueInfo } from '../../src/core/contract/signature';

/** A token layout of back-to-back segments: each starts where the one before ends. */
export function consecutiveLayout(segments: Omit<TokenSegment, 'start'>[]): TokenLayout {
  let start = 0;
  const placed = segments.map(({ modality, ...rest }) => {
    const at = start;
    start += rest.count;
    // Keys in the order export.py writes them: modality, start, count, grid.
    return { modality, start: at, ...rest };
  });
  return { segments: placed, total: start };
}

/** Visual tokens of a frames × rows × cols grid, then the audio tokens, then the text tokens. */
export function gridLayout(
  grid: { frames: number; rows: number; cols: number },
  audioTokens: number,
  textTokens: number,
): TokenLayout {
  return consecutiveLayout([
    {
      modality: 'visual',
      count: grid.frames * grid.rows * grid.cols,
      grid: { ...grid, order: 'frame,row,col' },
    },
    { modality: 'audio', count: audioTokens },
    { modality: 'text', count: textTokens },
  ]);
}

/** The JSON values of a valid model's metadata, by key (before JSON encoding). */
export function validMetadataValues(): Record<string, unknown> {
  const vocab = [
    '<pad>',
    '<bos>',
    'what',
    'emotion',
    'is',
    'expressed',
    'in',
    'this',
    'clip',
    '?',
    '<ans>',
  ];
  const prompt = ['<bos>', 'what', 'emotion', 'is', 'expressed', 'in', 'this', '<ans>'];
  return {
    'mosear.checkpoint': {
      name: 'fixture-tiny',
      description: 'a hand-written metadata fixture',
      training_data: 'none',
      version: '0',
    },
    'mosear.labels': ['neutral', 'angry', 'happy', 'sad', 'worried', 'surprise'],
    'mosear.architecture': {
      family: 'llama-tiny',
      layers: 4,
      heads: 4,
      d_model: 128,
      adapter: 'mose',
      mose: true,
      lora_rank: 8,
      mose_eps: 0.1,
    },
    // Visual tokens 0–63, the audio token 64, the prompt 65–72.
    'mosear.token_layout': gridLayout({ frames: 4, rows: 4, cols: 4 }, 1, 8),
    'mosear.answer_positions': [72],
    'mosear.frames': {
      count: 4,
      height: 64,
      width: 64,
      dynamic_count: false,
      channels: 'rgb',
      range: [0, 1],
    },
    'mosear.audio': {
      sample_rate_hz: 16000,
      samples: 32000,
      window_seconds: 2.0,
      optional: true,
      tokens: 1,
    },
    'mosear.prompt': { vocab, default: prompt, default_ids: prompt.map((w) => vocab.indexOf(w)) },
    'mosear.decode': {
      spec: 'mosear-decode-1',
      frame_times: 'midpoints',
      resize: 'cover-center-crop',
      scale_flags: 'area',
      audio_window: 'centered',
      audio_pad: 'zeros-at-end',
    },
    'mosear.ar_defaults': {
      mode: 1,
      ratio_kind: 2,
      tau: [0.5, 0.5, 0.5, 0.5],
      head_margin: 0.1,
      alpha: 0.3,
      pai_alpha: 0.5,
      layers: [0.0, 1.0, 1.0, 1.0],
    },
    'mosear.tau_sweep': {
      raw: { min: 0.001, max: 1000.0, steps: 25, scale: 'log' },
      density: { min: 0.01, max: 10000.0, steps: 25, scale: 'log' },
      share: { min: 0.0, max: 1.0, steps: 21, scale: 'linear' },
    },
  };
}

/** Encodes metadata values as `metadata_props` (JSON strings; `mosear.contract` plain). */
export function toProps(values: Record<string, unknown>, contract = '1'): Map<string, string> {
  const props = new Map<string, string>([['mosear.contract', contract]]);
  for (const [key, value] of Object.entries(values)) props.set(key, JSON.stringify(value));
  return props;
}

/** A valid fixture's props with one key's JSON value changed by `edit`. */
export function propsWith(
  key: string,
  edit: (value: Record<string, unknown>) => void,
): Map<string, string> {
  const values = validMetadataValues();
  edit(values[key] as Record<string, unknown>);
  return toProps(values);
}

function tensor(name: string, type: string, shape: (number | string)[]): ValueInfo {
  return { name, isTensor: true, type, shape };
}

/** A session signature that matches the fixture exactly (what onnxruntime would report). */
export function validSignature(): {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ValueInfo[];
  outputMetadata: ValueInfo[];
} & SessionSignature {
  const inputMetadata = [
    tensor('frames', 'float32', [1, 4, 3, 64, 64]),
    tensor('audio', 'float32', [1, 32000]),
    tensor('prompt_ids', 'int64', [1, 8]),
    tensor('ar_mode', 'int64', []),
    tensor('ar_tau', 'float32', [4]),
    tensor('ar_ratio_kind', 'int64', []),
    tensor('ar_head_margin', 'float32', []),
    tensor('ar_alpha', 'float32', []),
    tensor('pai_alpha', 'float32', []),
    tensor('ar_layers', 'float32', [4]),
    tensor('ar_head_override', 'float32', [4, 4]),
  ];
  const outputMetadata = [
    tensor('logits', 'float32', [1, 6]),
    tensor('modality_mass', 'float32', [4, 4, 3]),
    tensor('modality_mass_after', 'float32', [4, 4, 3]),
    tensor('ar_flags', 'float32', [4, 4]),
    tensor('token_attention_before', 'float32', [4, 4, 73]),
    tensor('token_attention', 'float32', [4, 4, 73]),
    tensor('mose_gate', 'float32', [4]),
  ];
  return {
    inputNames: inputMetadata.map((m) => m.name),
    outputNames: outputMetadata.map((m) => m.name),
    inputMetadata,
    outputMetadata,
  };
}

/** The fixture's signature as graph inputs and outputs for protoEncode's graphBytes. */
export function validGraphValues(): {
  inputs: { name: string; type: string; shape: (number | string)[] }[];
  outputs: { name: string; type: string; shape: (number | string)[] }[];
} {
  const sig = validSignature();
  const plain = (m: ValueInfo) => ({
    name: m.name,
    type: m.type ?? 'float32',
    shape: [...(m.shape ?? [])],
  });
  return { inputs: sig.inputMetadata.map(plain), outputs: sig.outputMetadata.map(plain) };
}

/**
 * A valid contract-1.1 metadata set, a small model shaped like the full-shape fixture: a prefix
 * (7 text positions), a 1 × 2 × 2 grid of one 32 × 32 frame, a global visual token, one audio
 * token from variable-length audio, and a variable prompt with a transcript slot (N 23 at the
 * default transcript "I can't go").
 */
export function valid11MetadataValues(): Record<string, unknown> {
  const vocab = ['<unk>', '<s>', '[', 'INST', ']', '<', 'video', '>', 'says', ':', 'I', "can't"];
  vocab.push('go', '.', '/');
  const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 2, 14, 3, 4];
  return {
    ...validMetadataValues(),
    'mosear.checkpoint': {
      name: 'fixture-11',
      description: 'a hand-written 1.1 metadata fixture',
      training_data: null,
      version: '0',
    },
    'mosear.architecture': {
      family: 'llama-tiny',
      layers: 2,
      heads: 2,
      d_model: 16,
      adapter: 'none',
      mose: false,
      lora_rank: 0,
      mose_eps: null,
      position_encoding: 'rope',
    },
    'mosear.token_layout': {
      segments: [
        { name: 'prefix', label: 'prefix', modality: 'text', start: 0, count: 7 },
        {
          name: 'patches',
          label: 'Patches',
          modality: 'visual',
          start: 7,
          count: 4,
          grid: { frames: 1, rows: 2, cols: 2, order: 'frame,row,col', frame_index: [0] },
        },
        { name: 'face', label: 'Face', modality: 'visual', start: 11, count: 1 },
        { name: 'hubert', modality: 'audio', start: 12, count: 1 },
        { name: 'prompt', modality: 'text', start: 13, count: null },
      ],
      total: null,
    },
    'mosear.answer_positions': [-1],
    'mosear.frames': {
      count: 1,
      height: 32,
      width: 32,
      dynamic_count: false,
      channels: 'rgb',
      range: [0, 1],
    },
    'mosear.audio': {
      sample_rate_hz: 16000,
      samples: 16000,
      window_seconds: 1.0,
      optional: true,
      tokens: 1,
      length: 'variable',
      min_samples: 1600,
    },
    'mosear.prompt': {
      tokenizer: { kind: 'word-level', unk: '<unk>', ref: null },
      vocab,
      template: {
        prefix: [
          { kind: 'special', token: '<s>' },
          { kind: 'text', text: '[INST] <video>' },
        ],
        prompt: [
          { kind: 'text', text: 'says:' },
          { kind: 'slot', slot: 'transcript' },
          { kind: 'text', text: '. [/INST]' },
        ],
      },
      slots: { transcript: { default: "I can't go", max_tokens: 8 } },
      default: ids.map((id) => vocab[id]),
      default_ids: ids,
    },
    'mosear.decode': {
      spec: 'mosear-decode-1',
      frame_times: 'first',
      resize: 'squash',
      scale_flags: 'bicubic',
      audio_window: 'from-start',
      audio_pad: 'zeros-at-end',
    },
    'mosear.ar_defaults': {
      mode: 1,
      ratio_kind: 2,
      tau: [0, 0],
      head_margin: 0,
      alpha: 0.3,
      pai_alpha: 0.5,
      layers: [1, 1],
    },
  };
}

/** The 1.1 fixture's props with one key's JSON value changed by `edit`. */
export function props11With(
  key: string,
  edit: (value: Record<string, unknown>) => void,
): Map<string, string> {
  const values = valid11MetadataValues();
  edit(values[key] as Record<string, unknown>);
  return toProps(values, '1.1');
}

/**
 * A graph signature matching valid11MetadataValues (2 layers × 2 heads, one 32 × 32 frame, 6
 * labels): variable S, P and N are named, `head_gate` and `layer_logits` declared.
 */
export function valid11GraphValues(): ReturnType<typeof validGraphValues> {
  const t = (name: string, type: string, shape: (number | string)[]) => ({ name, type, shape });
  return {
    inputs: [
      t('frames', 'float32', [1, 1, 3, 32, 32]),
      t('audio', 'float32', [1, 'audio_samples']),
      t('prompt_ids', 'int64', [1, 'prompt_tokens']),
      t('ar_mode', 'int64', []),
      t('ar_tau', 'float32', [2]),
      t('ar_ratio_kind', 'int64', []),
      t('ar_head_margin', 'float32', []),
      t('ar_alpha', 'float32', []),
      t('pai_alpha', 'float32', []),
      t('ar_layers', 'float32', [2]),
      t('ar_head_override', 'float32', [2, 2]),
      t('head_gate', 'float32', [2, 2]),
    ],
    outputs: [
      t('logits', 'float32', [1, 6]),
      t('modality_mass', 'float32', [2, 2, 3]),
      t('modality_mass_after', 'float32', [2, 2, 3]),
      t('ar_flags', 'float32', [2, 2]),
      t('token_attention_before', 'float32', [2, 2, 'tokens']),
      t('token_attention', 'float32', [2, 2, 'tokens']),
      t('layer_logits', 'float32', [2, 6]),
    ],
  };
}

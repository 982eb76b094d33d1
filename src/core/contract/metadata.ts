// Parses a model's `metadata_props` against contract 1 or 1.1 (the version it declares): each
// key's JSON value by its schema (protocol/modelMetadata.ts), then the checks that need numbers
// from several fields, then the camelCase ContractMetadata. Errors name the key and the member
// inside its value. A contract-1 model is read exactly as before 1.1; 1.1 is metadata11.ts.
import type {
  ContractMetadata,
  Modality,
  TokenLayout,
  TokenSegment,
} from '../../protocol/contract';
import {
  AnswerPositionsJsonSchema,
  ArDefaultsJsonSchema,
  ArchitectureJsonSchema,
  AudioJsonSchema,
  CheckpointJsonSchema,
  DecodeJsonSchema,
  FramesJsonSchema,
  LabelsJsonSchema,
  PromptJsonSchema,
  TauSweepJsonSchema,
  TokenLayoutJsonSchema,
  type TokenSegmentJson,
} from '../../protocol/modelMetadata';
import { ContractError } from './contractError';
import { parseContract11Metadata } from './metadata11';
import {
  arDefaultsOf,
  architectureOf,
  audioOf,
  decodeOf,
  checkDefaults,
  checkPrompt,
  checkpointOf,
  checkTauRange,
  fail,
  framesOf,
  metadataReader,
  requireUnique,
} from './metadataParts';
import { CONTRACT_VERSION, KNOWN_CONTRACT_VERSIONS } from './names';

/**
 * Parses and validates a model's `metadata_props` against contract 1 or 1.1. Errors name the key
 * (and the member inside its JSON value) and say what is wrong.
 */
export function parseContractMetadata(props: ReadonlyMap<string, string>): ContractMetadata {
  const version = props.get('mosear.contract');
  if (version === undefined) {
    throw new ContractError(
      'metadata key "mosear.contract" is missing: this is not a MoSEAR contract model',
    );
  }
  if (!KNOWN_CONTRACT_VERSIONS.includes(version)) {
    throw new ContractError(
      `mosear.contract: unsupported contract version "${version}" (this engine knows ${KNOWN_CONTRACT_VERSIONS.map(
        (k) => `"${k}"`,
      )
        .join(', ')
        .replace(/, ([^,]*)$/, ' and $1')})`,
    );
  }
  const read = metadataReader(props);
  if (version !== CONTRACT_VERSION) return parseContract11Metadata(read, version === '1.2');
  const architecture = read('mosear.architecture', ArchitectureJsonSchema);
  const labels = read('mosear.labels', LabelsJsonSchema);
  requireUnique(labels, 'mosear.labels');
  const tokenLayout = tokenLayoutOf(read('mosear.token_layout', TokenLayoutJsonSchema));
  const answerPositions = read('mosear.answer_positions', AnswerPositionsJsonSchema);
  answerPositions.forEach((position, i) => {
    if (position >= tokenLayout.total) {
      fail(`mosear.answer_positions[${i}]`, `a position < ${tokenLayout.total}`, position);
    }
  });
  const audio = read('mosear.audio', AudioJsonSchema);
  if (Math.abs(audio.sample_rate_hz * audio.window_seconds - audio.samples) >= 0.5) {
    fail('mosear.audio.samples', 'sample_rate_hz · window_seconds', audio.samples);
  }
  const audioTokens = countTokens(tokenLayout, 'audio');
  if (audio.tokens !== audioTokens) {
    fail(
      'mosear.audio.tokens',
      `${audioTokens} (the audio positions in the token layout)`,
      audio.tokens,
    );
  }
  const checkpoint = read('mosear.checkpoint', CheckpointJsonSchema);
  const frames = read('mosear.frames', FramesJsonSchema);
  // Contract v1 maps grid frame f to decoded frame f; it defines no pooling of frames.
  tokenLayout.segments.forEach((segment, i) => {
    if (segment.grid !== undefined && segment.grid.frames !== frames.count) {
      fail(
        `mosear.token_layout.segments[${i}].grid.frames`,
        `${frames.count} (mosear.frames.count: contract v1 maps grid frame f to decoded frame f)`,
        segment.grid.frames,
      );
    }
  });
  const prompt = read('mosear.prompt', PromptJsonSchema);
  checkPrompt(prompt.vocab, prompt.default, prompt.default_ids);
  const decode = read('mosear.decode', DecodeJsonSchema);
  const defaults = read('mosear.ar_defaults', ArDefaultsJsonSchema);
  checkDefaults(defaults, architecture.layers);
  const sweep = read('mosear.tau_sweep', TauSweepJsonSchema);
  for (const [kind, range] of Object.entries(sweep))
    checkTauRange(range, `mosear.tau_sweep.${kind}`);
  return {
    contract: CONTRACT_VERSION,
    checkpoint: checkpointOf(checkpoint),
    labels,
    architecture: architectureOf(architecture),
    tokenLayout,
    answerPositions,
    frames: framesOf(frames),
    audio: audioOf(audio),
    prompt: { vocab: prompt.vocab, default: prompt.default, defaultIds: prompt.default_ids },
    decode: decodeOf(decode),
    arDefaults: arDefaultsOf(defaults),
    tauSweep: sweep,
  };
}

/** The layout with its cross-field rules: contiguous from 0, grids on visual segments only. */
function tokenLayoutOf(layout: { total: number; segments: TokenSegmentJson[] }): TokenLayout {
  const path = 'mosear.token_layout';
  const segments = layout.segments.map((s, i) => segmentOf(s, `${path}.segments[${i}]`));
  let next = 0;
  segments.forEach((segment, i) => {
    if (segment.start !== next) {
      fail(
        `${path}.segments[${i}].start`,
        `${next} (segments must be contiguous from 0)`,
        segment.start,
      );
    }
    next = segment.start + segment.count;
  });
  if (next !== layout.total) {
    fail(`${path}.total`, `${next} (the end of the last segment)`, layout.total);
  }
  for (const modality of ['visual', 'audio'] as const) {
    if (!segments.some((s) => s.modality === modality)) {
      throw new ContractError(`${path}.segments: no ${modality} segment`);
    }
  }
  return { segments, total: layout.total };
}

function segmentOf(json: TokenSegmentJson, path: string): TokenSegment {
  const segment: TokenSegment = { modality: json.modality, start: json.start, count: json.count };
  const grid = json.grid ?? null;
  if (segment.modality !== 'visual') {
    if (grid !== null) fail(`${path}.grid`, 'no grid on a non-visual segment', grid);
    return segment;
  }
  if (grid === null) throw new ContractError(`${path}.grid: missing`);
  segment.grid = grid;
  const cells = grid.frames * grid.rows * grid.cols;
  if (cells !== segment.count) {
    fail(`${path}.grid`, `frames·rows·cols = count (${segment.count})`, `${cells} cells`);
  }
  return segment;
}

/** Number of key positions of one modality in a layout (|V|, |A|, |T|). */
export function countTokens(layout: TokenLayout, modality: Modality): number {
  return layout.segments.filter((s) => s.modality === modality).reduce((n, s) => n + s.count, 0);
}

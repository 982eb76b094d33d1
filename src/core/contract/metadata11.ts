// Contract 1.1's metadata (CONTRACT.md §3.1–§3.3): named segments, grids with frame indices and
// cell sizes, one variable text segment filled from a prompt template, variable audio, negative
// answer positions and the decode variants. The layout is stored resolved at the slots' defaults,
// with `variableSegment` naming the segment that varies (see TokenLayout). A `sentencepiece`
// model's layout at the defaults comes from the declared counts and `default_ids` (its variable
// segment has the ids the fixed ones leave); that the template gives those ids is checked when
// the engine loads the tokenizer (runLayout.checkTemplateDefaults), so parsing stays synchronous.
import type * as v from 'valibot';
import type {
  ContractMetadata,
  PromptSlot,
  RunLayout,
  RunSegment,
  TemplatePiece,
  TokenizerSpec,
  TokenLayout,
  TokenSegment,
  VisualGrid,
} from '../../protocol/contract';
import {
  ArDefaultsJsonSchema,
  Architecture11JsonSchema,
  Audio11JsonSchema,
  CheckpointJsonSchema,
  AnswerPositions11JsonSchema,
  Decode11JsonSchema,
  FramesJsonSchema,
  LabelsJsonSchema,
  Prompt11JsonSchema,
  TauSweepJsonSchema,
  TokenLayout11JsonSchema,
  type Grid11JsonSchema,
  type Prompt11Json,
  type TokenLayout11Json,
} from '../../protocol/modelMetadata';
import { ContractError } from './contractError';
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
  requireUnique,
  type MetadataReader,
} from './metadataParts';
import { resolveAnswerPositions, resolveLayoutTemplate, type LayoutTemplate } from './runLayout';
import { splitWords } from './tokenizer';

const LAYOUT = 'mosear.token_layout';

/** Parses a model that declares contract 1.1, or 1.2 (`v12`: 1.1 and §1c's `repeat_max`). */
export function parseContract11Metadata(read: MetadataReader, v12 = false): ContractMetadata {
  const architecture = read('mosear.architecture', Architecture11JsonSchema);
  const labels = read('mosear.labels', LabelsJsonSchema);
  requireUnique(labels, 'mosear.labels');
  const frames = framesOf(read('mosear.frames', FramesJsonSchema));
  const declared = read('mosear.token_layout', TokenLayout11JsonSchema);
  const segments = declaredSegments(declared, frames);
  const prompt = read('mosear.prompt', Prompt11JsonSchema);
  checkPrompt(prompt.vocab, prompt.default, prompt.default_ids);
  const slots: Record<string, PromptSlot> = {};
  for (const [name, slot] of Object.entries(prompt.slots)) {
    slots[name] = {
      default: slot.default,
      maxTokens: slot.max_tokens,
      ...(slot.description === undefined ? {} : { description: slot.description }),
    };
  }
  const template = prompt.template as Record<string, TemplatePiece[]>;
  checkTemplate(segments, template, slots, prompt.tokenizer.unk, prompt.vocab);
  const tokenizer = tokenizerOf(prompt.tokenizer);
  if (tokenizer.kind === 'sentencepiece') checkSpecialPieces(template, prompt.vocab);
  const layoutTemplate: LayoutTemplate = {
    segments,
    prompt: { vocab: prompt.vocab, tokenizer, template, slots },
  };
  // The layout at the slots' defaults: fixed segments must give their counts (and starts).
  const { layout, promptIds } =
    tokenizer.kind === 'sentencepiece'
      ? defaultsFromIds(layoutTemplate, prompt.default_ids)
      : resolveLayoutTemplate(layoutTemplate);
  layout.segments.forEach((s, i) => {
    const start = declared.segments[i]?.start ?? null;
    if (start !== null && start !== s.start) {
      fail(`${LAYOUT}.segments[${i}].start`, `${s.start} (segments are contiguous from 0)`, start);
    }
  });
  if (declared.total !== null && declared.total !== layout.total) {
    fail(`${LAYOUT}.total`, `${layout.total} (the end of the last segment)`, declared.total);
  }
  if (
    promptIds.length !== prompt.default_ids.length ||
    promptIds.some((id, i) => id !== prompt.default_ids[i])
  ) {
    fail(
      'mosear.prompt.default_ids',
      `the template's ids with every slot at its default (${promptIds.length} ids)`,
      `${prompt.default_ids.length} ids`,
    );
  }
  const variable = segments.find((s) => s.count === null)?.name;
  const answerPositions = read('mosear.answer_positions', AnswerPositions11JsonSchema);
  checkAnswerPositions(answerPositions, layoutTemplate, layout, variable);
  const audioTokens = segments
    .filter((s) => s.modality === 'audio')
    .reduce((n, s) => n + (s.count ?? 0), 0);
  const audio = read('mosear.audio', Audio11JsonSchema);
  if (Math.abs(audio.sample_rate_hz * audio.window_seconds - audio.samples) >= 0.5) {
    fail('mosear.audio.samples', 'sample_rate_hz · window_seconds', audio.samples);
  }
  if (audio.tokens !== audioTokens) {
    fail(
      'mosear.audio.tokens',
      `${audioTokens} (the audio positions in the token layout)`,
      audio.tokens,
    );
  }
  if (audio.repeat_max !== undefined && !v12) {
    throw new ContractError(
      'mosear.audio.repeat_max: only contract 1.2 declares it (CONTRACT.md §1c)',
    );
  }
  if (audio.repeat_max !== undefined && audioTokens !== 1) {
    fail(
      'mosear.audio.repeat_max',
      'absent (audio_repeat needs exactly one audio token)',
      audio.repeat_max,
    );
  }
  const decode = read('mosear.decode', Decode11JsonSchema);
  if (audio.length === 'variable') {
    if (audio.min_samples === undefined) {
      throw new ContractError('mosear.audio.min_samples: required when length is "variable"');
    }
    if (audio.min_samples > audio.samples) {
      fail('mosear.audio.min_samples', `at most samples (${audio.samples})`, audio.min_samples);
    }
    if (decode.audio_window !== 'from-start') {
      fail(
        'mosear.decode.audio_window',
        '"from-start" (mosear.audio.length is "variable")',
        decode.audio_window,
      );
    }
  }
  if (decode.frame_times === 'first' && frames.count !== 1) {
    fail('mosear.frames.count', '1 (mosear.decode.frame_times is "first")', frames.count);
  }
  const checkpoint = checkpointOf(read('mosear.checkpoint', CheckpointJsonSchema));
  const defaults = read('mosear.ar_defaults', ArDefaultsJsonSchema);
  checkDefaults(defaults, architecture.layers);
  const sweep = read('mosear.tau_sweep', TauSweepJsonSchema);
  for (const [kind, range] of Object.entries(sweep))
    checkTauRange(range, `mosear.tau_sweep.${kind}`);
  const tokenLayout: TokenLayout = {
    segments: layout.segments.map((s): TokenSegment => {
      const declaredLabel = declared.segments.find((d) => d.name === s.name)?.label;
      return {
        name: s.name,
        ...(declaredLabel === undefined ? {} : { label: declaredLabel }),
        modality: s.modality,
        start: s.start,
        count: s.count,
        ...(s.grid === undefined ? {} : { grid: s.grid }),
      };
    }),
    total: layout.total,
    ...(variable === undefined ? {} : { variableSegment: variable }),
  };
  return {
    contract: v12 ? '1.2' : '1.1',
    checkpoint,
    labels,
    architecture: architectureOf(architecture),
    tokenLayout,
    answerPositions,
    frames,
    audio: audioOf(audio),
    prompt: {
      vocab: prompt.vocab,
      default: prompt.default,
      defaultIds: prompt.default_ids,
      tokenizer,
      template,
      slots,
    },
    decode: decodeOf(decode),
    arDefaults: arDefaultsOf(defaults),
    tauSweep: sweep,
  };
}

/** Every special piece is a vocabulary entry (word-level checks this while resolving). */
function checkSpecialPieces(template: Record<string, TemplatePiece[]>, vocab: string[]): void {
  const known = new Set(vocab);
  for (const [name, pieces] of Object.entries(template)) {
    pieces.forEach((p, i) => {
      if (p.kind === 'special' && !known.has(p.token)) {
        throw new ContractError(
          `mosear.prompt.template.${name}[${i}].token: "${p.token}" is not in mosear.prompt.vocab`,
        );
      }
    });
  }
}

/** The tokenizer spec in ContractMetadata's camelCase. */
function tokenizerOf(json: Prompt11Json['tokenizer']): TokenizerSpec {
  if (json.kind === 'word-level') return json;
  const { kind, unk, ref, file, sha256, segment_encoding: segmentEncoding } = json;
  return { kind, unk, ref, file, sha256, segmentEncoding };
}

/**
 * A `sentencepiece` model's layout at the slots' defaults without its tokenizer: the declared
 * counts, and the variable text segment gets the default ids the fixed text segments leave. The
 * text positions are not known yet (each run resolves them with the tokenizer).
 */
function defaultsFromIds(
  template: LayoutTemplate,
  defaultIds: readonly number[],
): { layout: RunLayout; promptIds: number[] } {
  const fixedText = template.segments
    .filter((s) => s.modality === 'text' && s.count !== null)
    .reduce((n, s) => n + (s.count ?? 0), 0);
  const variableCount = defaultIds.length - fixedText;
  const variable = template.segments.find((s) => s.count === null);
  if (variable === undefined ? variableCount !== 0 : variableCount < 1) {
    fail(
      'mosear.prompt.default_ids',
      variable === undefined
        ? `${fixedText} ids (the text segments' counts)`
        : `more than ${fixedText} ids (the fixed text segments' counts, then at least one for "${variable.name}")`,
      `${defaultIds.length} ids`,
    );
  }
  const segments: RunSegment[] = [];
  let start = 0;
  for (const s of template.segments) {
    const count = s.count ?? variableCount;
    segments.push({
      name: s.name,
      label: s.label,
      modality: s.modality,
      start,
      count,
      ...(s.grid === undefined ? {} : { grid: s.grid }),
    });
    start += count;
  }
  return { layout: { segments, total: start, text: [] }, promptIds: [...defaultIds] };
}

/** §3.1's segment rules: names, the one variable segment, start/total nulls, grids. */
function declaredSegments(
  layout: TokenLayout11Json,
  frames: ContractMetadata['frames'],
): LayoutTemplate['segments'] {
  requireUnique(
    layout.segments.map((s) => s.name),
    `${LAYOUT}.segments[].name`,
  );
  const variableAt = layout.segments.findIndex((s) => s.count === null);
  if (layout.segments.filter((s) => s.count === null).length > 1) {
    throw new ContractError(`${LAYOUT}.segments: more than one segment has count null`);
  }
  layout.segments.forEach((s, i) => {
    const path = `${LAYOUT}.segments[${i}]`;
    const after = variableAt >= 0 && i > variableAt;
    if (after && s.start !== null)
      fail(`${path}.start`, 'null (after the variable segment)', s.start);
    if (!after && s.start === null) fail(`${path}.start`, 'an integer ≥ 0', null);
  });
  if (variableAt >= 0 && layout.total !== null) {
    fail(`${LAYOUT}.total`, 'null (a segment has a variable count)', layout.total);
  }
  if (variableAt < 0 && layout.total === null) {
    fail(`${LAYOUT}.total`, 'an integer ≥ 1 (no segment has a variable count)', null);
  }
  for (const modality of ['visual', 'audio', 'text'] as const) {
    if (!layout.segments.some((s) => s.modality === modality)) {
      throw new ContractError(`${LAYOUT}.segments: no ${modality} segment`);
    }
  }
  return layout.segments.map((s, i) => {
    const path = `${LAYOUT}.segments[${i}]`;
    if (s.count === null && s.modality !== 'text') {
      fail(`${path}.count`, 'an integer ≥ 1 (only a text segment may vary)', null);
    }
    const grid = s.grid ?? null;
    const segment: LayoutTemplate['segments'][number] = {
      name: s.name,
      label: s.label ?? s.name,
      modality: s.modality,
      count: s.count,
    };
    if (grid === null) return segment;
    if (s.modality !== 'visual') fail(`${path}.grid`, 'no grid on a non-visual segment', grid);
    segment.grid = gridOf(grid, s.count ?? 0, frames, `${path}.grid`);
    return segment;
  });
}

function gridOf(
  json: v.InferOutput<typeof Grid11JsonSchema>,
  count: number,
  frames: ContractMetadata['frames'],
  path: string,
): VisualGrid {
  const cells = json.frames * json.rows * json.cols;
  if (cells !== count) fail(path, `frames·rows·cols = count (${count})`, `${cells} cells`);
  const frameIndex = json.frame_index ?? Array.from({ length: json.frames }, (_, f) => f);
  if (frameIndex.length !== json.frames) {
    fail(`${path}.frame_index`, `${json.frames} entries (grid.frames)`, `${frameIndex.length}`);
  }
  frameIndex.forEach((t, f) => {
    if (!frames.dynamicCount && t >= frames.count) {
      fail(`${path}.frame_index[${f}]`, `an input frame < T = ${frames.count}`, t);
    }
  });
  const { width: W, height: H } = frames;
  let cell = json.cell_px;
  if (cell === undefined) {
    if (W % json.cols !== 0 || H % json.rows !== 0) {
      throw new ContractError(
        `${path}.cell_px: required (${W} × ${H} does not divide into ${json.cols} × ${json.rows} cells)`,
      );
    }
  } else {
    if (json.cols * cell.width > W)
      fail(`${path}.cell_px.width`, `cols · width ≤ W = ${W}`, cell.width);
    if (json.rows * cell.height > H)
      fail(`${path}.cell_px.height`, `rows · height ≤ H = ${H}`, cell.height);
  }
  cell ??= { width: W / json.cols, height: H / json.rows };
  const grid: VisualGrid = {
    frames: json.frames,
    rows: json.rows,
    cols: json.cols,
    order: json.order,
    ...(json.frame_index === undefined ? {} : { frameIndex: json.frame_index }),
    ...(json.cell_px === undefined ? {} : { cellPx: json.cell_px }),
  };
  const p = json.patches;
  if (p !== undefined) {
    const ok =
      p.per_cell.cols * p.size_px.width === cell.width &&
      p.per_cell.rows * p.size_px.height === cell.height &&
      p.rows === json.rows * p.per_cell.rows &&
      p.cols === json.cols * p.per_cell.cols;
    if (!ok) {
      fail(
        `${path}.patches`,
        'per_cell × size_px = cell_px and rows, cols = the grid × per_cell',
        `${p.rows} × ${p.cols} patches of ${p.size_px.width} × ${p.size_px.height}, ${p.per_cell.rows} × ${p.per_cell.cols} per cell`,
      );
    }
    grid.patches = {
      rows: p.rows,
      cols: p.cols,
      sizePx: p.size_px,
      perCell: p.per_cell,
    };
  }
  return grid;
}

/** §3.1's template rules: one entry per text segment, slots declared, unk for slots. */
function checkTemplate(
  segments: LayoutTemplate['segments'],
  template: Record<string, TemplatePiece[]>,
  slots: Record<string, PromptSlot>,
  unk: string | null,
  vocab: string[],
): void {
  const path = 'mosear.prompt';
  const textNames = segments.filter((s) => s.modality === 'text').map((s) => s.name);
  for (const name of textNames) {
    if (template[name] === undefined) {
      throw new ContractError(`${path}.template: no entry for text segment "${name}"`);
    }
  }
  const used = new Set<string>();
  for (const [name, pieces] of Object.entries(template)) {
    if (!textNames.includes(name)) {
      throw new ContractError(`${path}.template.${name}: no text segment has this name`);
    }
    const hasSlot = pieces.some((p) => p.kind === 'slot');
    const variable = segments.find((s) => s.name === name)?.count === null;
    if (hasSlot !== variable) {
      throw new ContractError(
        variable
          ? `${path}.template.${name}: the variable segment's template has no slot`
          : `${path}.template.${name}: a slot is allowed only in the variable segment (count null)`,
      );
    }
    for (const p of pieces) if (p.kind === 'slot') used.add(p.slot);
  }
  for (const name of used) {
    if (slots[name] === undefined) {
      throw new ContractError(`${path}.slots: the template's slot "${name}" is not declared`);
    }
  }
  for (const name of Object.keys(slots)) {
    if (!used.has(name)) {
      throw new ContractError(`${path}.slots.${name}: no template piece uses this slot`);
    }
  }
  if (used.size > 0 && unk === null) {
    throw new ContractError(
      `${path}.tokenizer.unk: null, but the template has slots (a slot needs an unk entry)`,
    );
  }
  if (unk !== null && !vocab.includes(unk)) {
    fail(`${path}.tokenizer.unk`, 'a vocabulary entry', unk);
  }
}

/**
 * Each answer position must lie in [0, N) for every N the template allows. For a `sentencepiece`
 * template the shortest variable segment is bounded below (its special pieces, and one position
 * if it has text), so a position near that bound may be refused although no run reaches it.
 */
function checkAnswerPositions(
  positions: number[],
  template: LayoutTemplate,
  defaults: RunLayout,
  variable: string | undefined,
): void {
  const defaultTotal = defaults.total;
  resolveAnswerPositions(positions, defaultTotal);
  if (variable === undefined) return;
  // The shortest run: the variable segment with empty slots (its template words alone).
  const pieces = template.prompt.template[variable] ?? [];
  const wordLevel = template.prompt.tokenizer.kind === 'word-level';
  const fixedWords = pieces.reduce((n, p) => {
    if (p.kind === 'special') return n + 1;
    if (p.kind !== 'text') return n;
    return n + (wordLevel ? splitWords(p.text).length : 0);
  }, 0);
  const hasText = pieces.some((p) => p.kind === 'text' && p.text.trim().length > 0);
  const variableCount = defaults.segments.find((s) => s.name === variable)!.count;
  const shortest =
    defaultTotal - variableCount + Math.max(1, fixedWords + (!wordLevel && hasText ? 1 : 0));
  positions.forEach((p, i) => {
    if (p >= 0 ? p >= shortest : -p > shortest) {
      fail(
        `mosear.answer_positions[${i}]`,
        `a position within the shortest layout (${shortest} positions)`,
        p,
      );
    }
  });
}

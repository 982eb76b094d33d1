// One run's layout (CONTRACT.md §3.3): the metadata's template resolved with the run's slot values
// into named segments with starts and counts, N, the prompt ids and a label for every text
// position; plus the accessors that give contract-1 models 1.1's defaults. Pure.
import type {
  ContractMetadata,
  Modality,
  PromptSlot,
  RunLayout,
  RunSegment,
  TemplatePiece,
  TextPosition,
  TokenizerSpec,
  VisualGrid,
} from '../../protocol/contract';
import { ContractError } from './contractError';
import { sentencePiecePositions, type PieceEncoder } from './sentencePieceTemplate';
import { tokenizeSlotText, tokenizeTemplateText, vocabularyOf, type Vocabulary } from './tokenizer';

/** A layout before a run fixes its slot values: the variable text segment's count is null. */
export interface LayoutTemplate {
  segments: {
    name: string;
    label: string;
    modality: Modality;
    count: number | null;
    grid?: VisualGrid;
  }[];
  prompt: {
    vocab: readonly string[];
    tokenizer: TokenizerSpec;
    template: Readonly<Record<string, readonly TemplatePiece[]>>;
    slots: Readonly<Record<string, PromptSlot>>;
  };
}

/** A run's layout with what the graph is fed and where its probes look. */
export interface ResolvedRun {
  layout: RunLayout;
  /** The ids of every text position, in layout order (P = their number). */
  promptIds: number[];
  /** `mosear.answer_positions` with each negative p resolved to N + p. */
  answerPositions: number[];
}

const vocabularies = new WeakMap<readonly string[], Vocabulary>();

/** The vocabulary's id lookup, built once per vocabulary array. */
function vocabularyFor(words: readonly string[]): Vocabulary {
  let vocab = vocabularies.get(words);
  if (vocab === undefined) {
    vocab = vocabularyOf(words);
    vocabularies.set(words, vocab);
  }
  return vocab;
}

/** A text segment's positions (without their layout positions) from its template pieces. */
function templatePositions(
  name: string,
  template: LayoutTemplate['prompt'],
  slotValues: Readonly<Record<string, string>>,
  encoder: PieceEncoder | undefined,
): Omit<TextPosition, 'position'>[] {
  const pieces = template.template[name];
  if (pieces === undefined) {
    throw new ContractError(`mosear.prompt.template: no template for text segment "${name}"`);
  }
  const vocab = vocabularyFor(template.vocab);
  const path = `mosear.prompt.template.${name}`;
  if (template.tokenizer.kind === 'sentencepiece') {
    if (encoder === undefined) {
      throw new ContractError(
        `the model's prompt needs its SentencePiece tokenizer (${template.tokenizer.file}), which is not loaded`,
      );
    }
    return sentencePiecePositions(pieces, vocab.ids, template.slots, slotValues, encoder, path);
  }
  return pieces.flatMap((piece, i): Omit<TextPosition, 'position'>[] => {
    if (piece.kind === 'special') {
      const id = vocab.ids.get(piece.token);
      if (id === undefined) {
        throw new ContractError(
          `${path}[${i}].token: "${piece.token}" is not in mosear.prompt.vocab`,
        );
      }
      return [{ id, token: piece.token, text: piece.token, kind: 'special' }];
    }
    if (piece.kind === 'text') {
      return tokenizeTemplateText(piece.text, vocab, `${path}[${i}].text`).map((w) => ({
        ...w,
        kind: 'template',
      }));
    }
    const slot = template.slots[piece.slot];
    if (slot === undefined) {
      throw new ContractError(`${path}[${i}].slot: "${piece.slot}" is not in mosear.prompt.slots`);
    }
    const value = slotValues[piece.slot] ?? slot.default;
    const words = tokenizeSlotText(
      value,
      vocab,
      template.tokenizer.unk,
      slot.maxTokens,
      piece.slot,
    );
    return words.map((w) => ({ ...w, kind: 'slot', slot: piece.slot }));
  });
}

/**
 * §3.3: tokenizes every text segment with the slot values (unset slots take their defaults),
 * places the segments back to back and numbers the text positions. A fixed text segment must
 * tokenize to its count; the variable one may not be empty. Slot names the template does not
 * declare are refused. A `sentencepiece` template needs the model's loaded tokenizer (`encoder`).
 */
export function resolveLayoutTemplate(
  template: LayoutTemplate,
  slotValues: Readonly<Record<string, string>> = {},
  encoder?: PieceEncoder,
): { layout: RunLayout; promptIds: number[] } {
  for (const name of Object.keys(slotValues)) {
    if (template.prompt.slots[name] === undefined) {
      const known = Object.keys(template.prompt.slots);
      throw new ContractError(
        `the model has no prompt slot "${name}" (its slots: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }
  }
  const segments: RunSegment[] = [];
  const text: TextPosition[] = [];
  let start = 0;
  for (const s of template.segments) {
    let count = s.count;
    if (s.modality === 'text') {
      const positions = templatePositions(s.name, template.prompt, slotValues, encoder);
      if (count !== null && positions.length !== count) {
        throw new ContractError(
          `mosear.prompt.template.${s.name}: gives ${positions.length} positions, the segment's count is ${count}`,
        );
      }
      if (positions.length === 0) {
        throw new ContractError(`text segment "${s.name}" has no position for this prompt`);
      }
      count = positions.length;
      positions.forEach((p, i) => text.push({ position: start + i, ...p }));
    }
    if (count === null) {
      throw new ContractError(`segment "${s.name}": only a text segment may vary in length`);
    }
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
  return { layout: { segments, total: start, text }, promptIds: text.map((t) => t.id) };
}

/** Resolves answer positions against N: a negative p becomes N + p; each must be in [0, N). */
export function resolveAnswerPositions(declared: readonly number[], total: number): number[] {
  return declared.map((p, i) => {
    const at = p < 0 ? total + p : p;
    if (!(at >= 0 && at < total)) {
      throw new ContractError(
        `mosear.answer_positions[${i}]: ${p} is outside a layout of ${total} positions`,
      );
    }
    return at;
  });
}

/** Contract-1 segment names: `visual`, `audio`, `prompt` (`_2`, `_3` … for further ones). */
function contract1Name(modality: Modality, seen: Map<Modality, number>): string {
  const n = (seen.get(modality) ?? 0) + 1;
  seen.set(modality, n);
  const base = modality === 'text' ? 'prompt' : modality;
  return n === 1 ? base : `${base}_${n}`;
}

/** The metadata as a layout template (1.1 models only: they have a template). */
export function layoutTemplateOf(meta: ContractMetadata): LayoutTemplate | undefined {
  const { tokenizer, template, slots } = meta.prompt;
  if (tokenizer === undefined || template === undefined || slots === undefined) return undefined;
  const variable = meta.tokenLayout.variableSegment;
  return {
    segments: meta.tokenLayout.segments.map((s) => {
      const name = s.name ?? '';
      return {
        name,
        label: s.label ?? name,
        modality: s.modality,
        count: name === variable ? null : s.count,
        ...(s.grid === undefined ? {} : { grid: s.grid }),
      };
    }),
    prompt: { vocab: meta.prompt.vocab, tokenizer, template, slots },
  };
}

/**
 * One run's layout, prompt ids and answer positions. A 1.1 model resolves its template with the
 * slot values (a `sentencepiece` one with its loaded `tokenizer`); a contract-1 model keeps its metadata's layout, its one text segment is `prompt`
 * and its text positions are the prompt ids fed (`promptIds`, default the metadata's), each a
 * template position (`special` for a vocabulary entry in angle brackets). A contract-1 model has
 * no slots.
 */
export function resolveRunLayout(
  meta: ContractMetadata,
  options: {
    slots?: Readonly<Record<string, string>>;
    promptIds?: readonly number[];
    tokenizer?: PieceEncoder;
  } = {},
): ResolvedRun {
  const template = layoutTemplateOf(meta);
  if (template !== undefined) {
    const { layout, promptIds } = resolveLayoutTemplate(template, options.slots, options.tokenizer);
    if (options.promptIds !== undefined && !sameIds(options.promptIds, promptIds)) {
      throw new ContractError(
        'prompt ids cannot be chosen for a contract-1.1 model: set its slots instead',
      );
    }
    return {
      layout,
      promptIds,
      answerPositions: resolveAnswerPositions(meta.answerPositions, layout.total),
    };
  }
  const slotNames = Object.keys(options.slots ?? {});
  if (slotNames.length > 0) {
    throw new ContractError(`the model has no prompt slot "${slotNames[0]}" (its slots: none)`);
  }
  const promptIds = [...(options.promptIds ?? meta.prompt.defaultIds)];
  const seen = new Map<Modality, number>();
  const segments: RunSegment[] = meta.tokenLayout.segments.map((s) => {
    const name = contract1Name(s.modality, seen);
    return {
      name,
      label: name,
      modality: s.modality,
      start: s.start,
      count: s.count,
      ...(s.grid === undefined ? {} : { grid: s.grid }),
    };
  });
  const text: TextPosition[] = [];
  let next = 0;
  for (const s of segments) {
    if (s.modality !== 'text') continue;
    for (let i = 0; i < s.count && next < promptIds.length; i++, next++) {
      const id = promptIds[next]!;
      const token = meta.prompt.vocab[id] ?? '?';
      const special = token.length > 2 && token.startsWith('<') && token.endsWith('>');
      text.push({
        position: s.start + i,
        id,
        token,
        text: token,
        kind: special ? 'special' : 'template',
      });
    }
  }
  return {
    layout: { segments, total: meta.tokenLayout.total, text },
    promptIds,
    answerPositions: resolveAnswerPositions(meta.answerPositions, meta.tokenLayout.total),
  };
}

/**
 * A `sentencepiece` model's check once its tokenizer is loaded (§3.1): the template with every
 * slot at its default must give `mosear.prompt.default_ids`, and its fixed text segments their
 * counts (parsing could check neither without the tokenizer).
 */
export function checkTemplateDefaults(meta: ContractMetadata, tokenizer: PieceEncoder): void {
  const template = layoutTemplateOf(meta);
  if (template === undefined) return;
  const { promptIds } = resolveLayoutTemplate(template, {}, tokenizer);
  if (!sameIds(promptIds, meta.prompt.defaultIds)) {
    const at = promptIds.findIndex((id, i) => id !== meta.prompt.defaultIds[i]);
    throw new ContractError(
      `mosear.prompt.default_ids: the template with every slot at its default gives ${promptIds.length} ids, the metadata has ${meta.prompt.defaultIds.length}${at >= 0 ? ` (first difference at ${at}: ${promptIds[at]} vs ${meta.prompt.defaultIds[at]})` : ''}; is the tokenizer file the one the model was exported with?`,
    );
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** S's range: [samples, samples] for a fixed length, [minSamples, samples] for a variable one. */
export function audioSampleRange(meta: ContractMetadata): { min: number; max: number } {
  const { samples, length, minSamples } = meta.audio;
  return length === 'variable'
    ? { min: minSamples ?? samples, max: samples }
    : { min: samples, max: samples };
}

/** The grid's cell size in input-frame pixels (§3.1: `cell_px`, default W / cols × H / rows). */
export function gridCellPx(
  grid: VisualGrid,
  frame: { width: number; height: number },
): { width: number; height: number } {
  return grid.cellPx ?? { width: frame.width / grid.cols, height: frame.height / grid.rows };
}

/** The input frame of grid frame f (§3.1: `frame_index`, default f). */
export function gridFrameIndex(grid: VisualGrid, f: number): number {
  return grid.frameIndex?.[f] ?? f;
}

/**
 * The metadata as a run with `audio_repeat` k sees it (CONTRACT.md §1c): the one audio position
 * becomes k consecutive ones, every later segment start and non-negative answer position moves
 * by k − 1, N grows by k − 1 and `audio.tokens` is k, so |A| of the statistics, UAP and the
 * token map count all k copies. k = 1 returns `meta` itself. Throws a ContractError for a k the
 * model does not accept (not an integer from 1 to `mosear.audio.repeat_max`, or no input).
 */
export function repeatAudio(meta: ContractMetadata, k: number): ContractMetadata {
  checkAudioRepeat(meta, k);
  if (k === 1) return meta;
  const extra = k - 1;
  const audio = meta.tokenLayout.segments.find((s) => s.modality === 'audio');
  if (audio === undefined) throw new ContractError('audio_repeat: the layout has no audio segment');
  const after = audio.start + audio.count;
  const segments = meta.tokenLayout.segments.map((s) =>
    s === audio ? { ...s, count: k } : s.start >= after ? { ...s, start: s.start + extra } : s,
  );
  return {
    ...meta,
    tokenLayout: { ...meta.tokenLayout, segments, total: meta.tokenLayout.total + extra },
    answerPositions: meta.answerPositions.map((p) => (p >= after ? p + extra : p)),
    audio: { ...meta.audio, tokens: k },
  };
}

/** Refuses a k the model cannot run (see repeatAudio); 1 is always accepted. */
export function checkAudioRepeat(meta: ContractMetadata, k: number): void {
  const max = meta.audio.repeatMax;
  if (!Number.isInteger(k) || k < 1) {
    throw new ContractError(`audio_repeat: expected an integer ≥ 1, got ${k}`);
  }
  if (k === 1) return;
  if (max === undefined) {
    throw new ContractError(
      `audio_repeat: the model has no "audio_repeat" input (contract 1.2, CONTRACT.md §1c), so its audio token cannot be repeated`,
    );
  }
  if (k > max) {
    throw new ContractError(
      `audio_repeat: ${k} is above the model's cap (mosear.audio.repeat_max ${max})`,
    );
  }
}

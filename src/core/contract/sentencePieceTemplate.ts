// Contract 1.1's `sentencepiece` tokenizer kind (CONTRACT.md §3.1): a text segment's template
// resolved with the real model's SentencePiece tokenizer, as the exporter (models/realexport)
// computes `default_ids`. Consecutive non-special pieces, slot values put in, are joined into one
// string, split at the literal special tokens, and each run is encoded with SentencePiece's dummy
// prefix; each position is labelled by the piece its first byte came from. A character the
// vocabulary lacks is written as byte-fallback pieces (`<0xC3>` `<0xA9>`): its first position
// shows the decoded character, the others the continuation mark (the raw piece stays in
// `token`). Pure: the encoder is
// passed in (core/tokenizer's SentencePieceTokenizer), so parsing metadata never loads it.
import type { PromptSlot, TemplatePiece, TextPosition } from '../../protocol/contract';
import { ContractError } from './contractError';

/** One encoded token with the tag of the text part it came from. */
export interface EncodedPiece<T> {
  id: number;
  piece: string;
  special: boolean;
  tag: T;
}

/** What a `sentencepiece` template needs of its tokenizer (SentencePieceTokenizer has it). */
export interface PieceEncoder {
  encodeParts<T>(
    parts: readonly { text: string; tag: T }[],
    options: { addBos: boolean },
  ): EncodedPiece<T>[];
}

type Position = Omit<TextPosition, 'position'>;
/** A part's tag: the slot whose value it is, or null for template text. */
type Tag = string | null;

/** The text a position shows: its piece with SentencePiece's `▁` written as a space. */
function shownText(piece: string): string {
  return piece.replaceAll('▁', ' ');
}

/** What a byte-fallback piece after the first of its character shows (the character is on the first). */
export const BYTE_CONTINUATION = '↳';

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** The byte of a byte-fallback piece `<0xNN>`, else undefined. */
function pieceByte(piece: string): number | undefined {
  const m = BYTE_PIECE.exec(piece);
  return m === null ? undefined : parseInt(m[1]!, 16);
}

/** A UTF-8 lead byte's sequence length (1–4); 0 for a continuation or invalid byte. */
function utf8Length(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The labels of pieces: each piece with `▁` as a space, except runs of byte-fallback pieces,
 * which are decoded to UTF-8 characters — a character's first piece shows it, the pieces after
 * it BYTE_CONTINUATION; a byte that starts no valid character shows U+FFFD.
 */
export function pieceLabels(pieces: readonly string[]): string[] {
  const labels = pieces.map(shownText);
  for (let i = 0; i < pieces.length;) {
    const lead = pieceByte(pieces[i]!);
    if (lead === undefined) {
      i++;
      continue;
    }
    const n = utf8Length(lead);
    const bytes = [lead];
    for (let k = 1; k < n && i + k < pieces.length; k++) {
      const b = pieceByte(pieces[i + k]!);
      if (b === undefined || (b & 0xc0) !== 0x80) break;
      bytes.push(b);
    }
    let char = '\uFFFD';
    if (n > 0 && bytes.length === n) {
      try {
        char = strictUtf8.decode(Uint8Array.from(bytes));
      } catch {
        // an overlong or surrogate sequence: shown as U+FFFD like SentencePiece's decoder
      }
    }
    const used = char === '\uFFFD' ? 1 : n;
    labels[i] = char;
    for (let k = 1; k < used; k++) labels[i + k] = BYTE_CONTINUATION;
    i += used;
  }
  return labels;
}

function positionsOf(tokens: readonly EncodedPiece<Tag>[]): Position[] {
  const labels = pieceLabels(tokens.map((t) => t.piece));
  return tokens.map(({ id, piece, special, tag }, i): Position => {
    const text = labels[i]!;
    if (tag !== null) return { id, token: piece, text, kind: 'slot', slot: tag };
    return { id, token: piece, text, kind: special ? 'special' : 'template' };
  });
}

/**
 * §3.1 `max_tokens` for this kind: when a slot's value gives more positions than its
 * `max_tokens`, the value is cut to its longest prefix of whole whitespace-separated words whose
 * positions fit (possibly empty). Binary search: with LLaMA's whitespace pre-splitting, adding a
 * word never removes a position.
 */
function cutSlotValue(
  parts: { text: string; tag: Tag }[],
  at: number,
  maxTokens: number,
  encoder: PieceEncoder,
): void {
  const slot = parts[at]!.tag;
  const count = (): number =>
    encoder.encodeParts(parts, { addBos: false }).filter((t) => t.tag === slot).length;
  if (count() <= maxTokens) return;
  const value = parts[at]!.text;
  const ends = [...value.matchAll(/\S+/gu)].map((m) => m.index + m[0].length);
  let lo = 0;
  let hi = ends.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    parts[at]!.text = value.slice(0, ends[mid - 1]);
    if (count() <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  parts[at]!.text = lo === 0 ? '' : value.slice(0, ends[lo - 1]);
}

/**
 * The positions of one text segment's pieces: a special piece is its vocabulary id; each run of
 * consecutive text and slot pieces is encoded as one string (slots at `slotValues`, else their
 * defaults, cut to `max_tokens`).
 */
export function sentencePiecePositions(
  pieces: readonly TemplatePiece[],
  vocabIds: ReadonlyMap<string, number>,
  slots: Readonly<Record<string, PromptSlot>>,
  slotValues: Readonly<Record<string, string>>,
  encoder: PieceEncoder,
  path: string,
): Position[] {
  const out: Position[] = [];
  let run: { text: string; tag: Tag }[] = [];
  const flush = (): void => {
    run.forEach((part, i) => {
      if (part.tag !== null) cutSlotValue(run, i, slots[part.tag]!.maxTokens, encoder);
    });
    if (run.length > 0) out.push(...positionsOf(encoder.encodeParts(run, { addBos: false })));
    run = [];
  };
  pieces.forEach((piece, i) => {
    if (piece.kind === 'special') {
      flush();
      const id = vocabIds.get(piece.token);
      if (id === undefined) {
        throw new ContractError(
          `${path}[${i}].token: "${piece.token}" is not in mosear.prompt.vocab`,
        );
      }
      out.push({ id, token: piece.token, text: piece.token, kind: 'special' });
    } else if (piece.kind === 'text') {
      run.push({ text: piece.text, tag: null });
    } else {
      const slot = slots[piece.slot];
      if (slot === undefined) {
        throw new ContractError(
          `${path}[${i}].slot: "${piece.slot}" is not in mosear.prompt.slots`,
        );
      }
      run.push({ text: slotValues[piece.slot] ?? slot.default, tag: piece.slot });
    }
  });
  flush();
  return out;
}

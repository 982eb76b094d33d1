// The real models' tokenizer: a SentencePiece `tokenizer.model` (LLaMA's, as MiniGPT-v2 and
// Emotion-LLaMA load it) run through `@agnai/sentencepiece-js`, SentencePiece's own C++ compiled
// to wasm, so ids equal python3-sentencepiece's (test/golden/sentencePieceIds.test.ts). The
// wasm is inlined in the package's one JS file and needs only `fs`, so it bundles into
// dist/extension.js and dist/cli/main.js and runs offline.
//
// How MiniGPT-v2 tokenizes (Emotion-LLaMA pins transformers 4.30.0, whose slow LlamaTokenizer has
// no `legacy` flag: its behaviour is what later versions call `legacy=True`, their default):
// - `tokenize` first splits the text on the special tokens (`sanitize_special_tokens` adds
//   `<unk>`, `<s>`, `</s>` to `unique_no_split_tokens` although they are in the vocabulary), so a
//   literal `<s>` in the text IS the BOS id, not the pieces `<`, `s`, `>`. Whitespace next to a
//   special token is stripped only as its AddedToken says; Llama-2's tokenizer_config declares
//   all three with lstrip and rstrip false, so none is (a plain-string special token would strip
//   both sides: not reproduced here).
// - Every other chunk is `sp_model.encode(chunk)` on its own: each chunk gets SentencePiece's
//   dummy prefix `▁` (LLaMA's normalizer: identity, add_dummy_prefix, whitespace kept), also the
//   chunk right after a special token (transformers' docstring: "Hello <s>." → 1, 15043, 29871,
//   1, 869 — 869 is `▁.`).
// - `add_special_tokens=True` prepends BOS (add_bos_token true, add_eos_token false).
// MiniGPT-v2's `get_context_emb` splits the prompt at `<VideoHere>` and tokenizes the first part,
// which starts with the conversation role `<s>[INST] `, with add_special_tokens — hence two BOS
// ids (the tokenizer's and the template's literal `<s>`); later parts get none.
// The package ships no types; a reference (not an include) brings ours wherever this compiles.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./sentencepieceJs.d.ts" />
import { SentencePieceProcessor } from '@agnai/sentencepiece-js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ContractError } from '../contract/contractError';

/** A model's tokenizer file as its metadata names it: a path relative to the .onnx, its hash. */
export interface SentencePieceRef {
  path: string;
  /** Lower-case hex SHA-256 of the file; checked on load. */
  sha256: string;
}

/** One token: its id, its piece, and whether it is a special token parsed from the text. */
export interface SentencePieceToken {
  id: number;
  piece: string;
  special: boolean;
}

/** A token with the tag of the text part its first byte came from (see `encodeParts`). */
export type TaggedToken<T> = SentencePieceToken & { tag: T };

/** The special tokens the slow LlamaTokenizer never splits (its unk, bos and eos). */
const SPECIALS = ['<unk>', '<s>', '</s>'] as const;
const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;
const utf8 = new TextEncoder();

/** A loaded SentencePiece model that encodes as MiniGPT-v2's slow LlamaTokenizer does. */
export class SentencePieceTokenizer {
  readonly bosId: number;
  private readonly specialIds: ReadonlyMap<string, number>;

  private constructor(private readonly sp: SentencePieceProcessor) {
    const ids = new Map<string, number>();
    for (const token of SPECIALS) ids.set(token, this.pieceToId(token));
    this.specialIds = ids;
    this.bosId = ids.get('<s>') ?? 1;
  }

  /**
   * Loads `ref.path` (relative to the .onnx) and checks its SHA-256: a missing file, a wrong
   * hash or a file SentencePiece cannot read is a ContractError naming the path.
   */
  static async forModel(onnxPath: string, ref: SentencePieceRef): Promise<SentencePieceTokenizer> {
    const path = isAbsolute(ref.path) ? ref.path : resolve(dirname(onnxPath), ref.path);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ContractError(
        `the tokenizer model ${path} (mosear.prompt.tokenizer, next to the .onnx) cannot be read: ${code}`,
      );
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256.toLowerCase()) {
      throw new ContractError(
        `the tokenizer model ${path} has sha256 ${actual}, the model's metadata expects ${ref.sha256}: it is not the tokenizer this model was exported with`,
      );
    }
    return SentencePieceTokenizer.fromFile(path);
  }

  /** Loads a `.model` file without a hash check (tests, tools). */
  static async fromFile(path: string): Promise<SentencePieceTokenizer> {
    const sp = new SentencePieceProcessor();
    await sp.load(path);
    const status = sp.processor.status();
    const text = status.ToString();
    status.delete();
    if (text !== 'OK') {
      throw new ContractError(`the tokenizer model ${path} is not a SentencePiece model: ${text}`);
    }
    return new SentencePieceTokenizer(sp);
  }

  /** The ids of `text` (see the file's opening comment); `addBos` prepends BOS. */
  encode(text: string, options: { addBos: boolean }): number[] {
    return this.encodeTokens(text, options).map((t) => t.id);
  }

  /** The tokens of `text` with their pieces. */
  encodeTokens(text: string, options: { addBos: boolean }): SentencePieceToken[] {
    return this.encodeParts([{ text, tag: null }], options).map(({ id, piece, special }) => ({
      id,
      piece,
      special,
    }));
  }

  /**
   * Encodes the parts' concatenation as one text (SentencePiece merges across part boundaries,
   * as it does on the whole prompt string) and tags each token with the part its first
   * non-space byte came from, so `▁word` belongs to the word (a BOS from `addBos` gets the first
   * part's tag).
   */
  encodeParts<T>(
    parts: readonly { text: string; tag: T }[],
    options: { addBos: boolean },
  ): TaggedToken<T>[] {
    if (parts.length === 0) return [];
    const text = parts.map((p) => p.text).join('');
    const ends: number[] = [];
    let end = 0;
    for (const p of parts) ends.push((end += utf8.encode(p.text).length));
    const tagAt = (byte: number): T => {
      const i = ends.findIndex((e) => byte < e);
      return parts[i === -1 ? parts.length - 1 : i]!.tag;
    };
    const out: TaggedToken<T>[] = [];
    if (options.addBos)
      out.push({ id: this.bosId, piece: '<s>', special: true, tag: parts[0]!.tag });
    let at = 0;
    for (const chunk of splitOnSpecials(text)) {
      const bytes = utf8.encode(chunk).length;
      const special = this.specialIds.get(chunk);
      if (special !== undefined) {
        out.push({ id: special, piece: chunk, special: true, tag: tagAt(at) });
      } else if (chunk.length > 0) {
        out.push(...this.encodeChunk(chunk, bytes).map((t) => ({ ...t, tag: tagAt(at + t.at) })));
      }
      at += bytes;
    }
    return out;
  }

  /** One chunk through SentencePiece, each piece with its byte offset in the chunk. */
  private encodeChunk(chunk: string, chunkBytes: number): (SentencePieceToken & { at: number })[] {
    const ids = this.sp.encodeIds(chunk);
    const pieces = this.sp.encodePieces(chunk);
    const lengths = pieces.map((p) =>
      BYTE_PIECE.test(p) ? 1 : utf8.encode(p.replaceAll('▁', ' ')).length,
    );
    const total = lengths.reduce((a, b) => a + b, 0);
    // The pieces spell the normalized chunk: with LLaMA's identity normalizer that is the chunk
    // after a one-byte dummy prefix. Another normalizer may change lengths: offsets then scale.
    const prefix = Math.max(0, total - chunkBytes);
    const scale = total - prefix === chunkBytes ? 1 : chunkBytes / Math.max(1, total);
    let offset = 0;
    return ids.map((id, i) => {
      const piece = pieces[i] ?? '';
      const lead = piece.length - piece.replace(/^▁+/u, '').length;
      const first = offset + (lead < piece.length ? lead : 0);
      const at = Math.min(chunkBytes - 1, Math.max(0, Math.floor((first - prefix) * scale)));
      offset += lengths[i] ?? 0;
      return { id, piece, special: false, at };
    });
  }

  private pieceToId(piece: string): number {
    const view = new this.sp.sentencepiece.StringView(piece);
    const absl = view.getView();
    try {
      return this.sp.processor.PieceToId(absl);
    } finally {
      absl.delete();
      view.delete();
    }
  }
}

/**
 * Splits text on the special tokens as transformers' Trie.split does: the earliest match wins,
 * the longest at that position; the special tokens are kept as chunks of their own.
 */
export function splitOnSpecials(text: string): string[] {
  const chunks: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const match = SPECIALS.filter((s) => text.startsWith(s, i)).sort(
      (a, b) => b.length - a.length,
    )[0];
    if (match === undefined) {
      i++;
      continue;
    }
    if (i > start) chunks.push(text.slice(start, i));
    chunks.push(match);
    i += match.length;
    start = i;
  }
  if (start < text.length) chunks.push(text.slice(start));
  return chunks;
}

// SentencePiece pieces back to text, as SentencePiece's own decoder does for LLaMA's model:
// `▁` is a space, a byte-fallback piece `<0xNN>` is one UTF-8 byte (consecutive ones are decoded
// together, an invalid sequence as U+FFFD), the control pieces `<s>`, `</s>`, `<unk>` write
// nothing, `<unk>` writes ` ⁇ `, and a first piece's dummy-prefix space is dropped. Pure:
// the engine decodes a generated answer with the metadata's piece list (id = index).

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const CONTROL = new Set(['<s>', '</s>']);

/** The text of consecutive pieces (SentencePiece's DecodePieces for LLaMA's tokenizer). */
export function decodePieces(pieces: readonly string[]): string {
  let text = '';
  let bytes: number[] = [];
  let first = true;
  const flush = () => {
    if (bytes.length === 0) return;
    text += new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
    bytes = [];
  };
  for (const piece of pieces) {
    const byte = BYTE_PIECE.exec(piece);
    if (byte !== null) {
      first = false;
      bytes.push(parseInt(byte[1]!, 16));
      continue;
    }
    flush();
    if (CONTROL.has(piece)) continue;
    const dropPrefix = first && piece.startsWith('▁');
    first = false;
    // Only the first piece's dummy prefix is dropped (` ⁇ ` keeps its spaces).
    const shown = piece === '<unk>' ? ' ⁇ ' : piece.replaceAll('▁', ' ');
    text += dropPrefix ? shown.slice(1) : shown;
  }
  flush();
  return text;
}

/** The text of token ids through a piece list (id = index; an id outside it is `<unk>`). */
export function decodeIds(vocab: readonly string[], ids: readonly number[]): string {
  return decodePieces(ids.map((id) => vocab[id] ?? '<unk>'));
}

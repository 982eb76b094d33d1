// The N key positions read through the metadata's token layout: which frame, row and column a
// visual token covers, which stretch of the clip's audio an audio token stands for, which prompt
// word a text token is. Panels use it to draw per-token attention on frames, waveform and text.
import type { TokenInfo } from '../../protocol/analysisResult';
import type { TokenLayout } from '../../protocol/contract';

/** What the token map needs besides the layout. */
export interface TokenMapContext {
  /** D: the clip's duration (visual grid frames sit at the midpoints of D split evenly). */
  durationSeconds: number;
  /** Where the audio window starts in the clip, and its length. */
  audioStartSeconds: number;
  audioWindowSeconds: number;
  /** The prompt ids fed to the model, and the vocabulary that names them. */
  promptIds: readonly number[];
  vocab: readonly string[];
}

/**
 * One `TokenInfo` per key position, in order. Visual token `start + (f·rows + r)·cols + c` is
 * frame f, row r, column c of its segment's grid, shown at t = (f + ½)·D / frames (the decode
 * spec's frame times when the grid has one frame per decoded frame). The audio window is split
 * evenly over the audio tokens; text tokens take the prompt ids in order.
 */
export function mapTokens(layout: TokenLayout, context: TokenMapContext): TokenInfo[] {
  const audioTotal = layout.segments
    .filter((s) => s.modality === 'audio')
    .reduce((n, s) => n + s.count, 0);
  const audioStep = audioTotal > 0 ? context.audioWindowSeconds / audioTotal : 0;
  let audioToken = 0;
  let textToken = 0;
  const tokens: TokenInfo[] = [];
  for (const segment of layout.segments) {
    for (let offset = 0; offset < segment.count; offset++) {
      const index = segment.start + offset;
      if (segment.modality === 'visual') {
        const grid = segment.grid ?? { frames: 1, rows: 1, cols: segment.count };
        const col = offset % grid.cols;
        const row = Math.floor(offset / grid.cols) % grid.rows;
        const frame = Math.floor(offset / (grid.cols * grid.rows));
        const frameTimeSeconds = ((frame + 0.5) * context.durationSeconds) / grid.frames;
        tokens.push({ index, modality: 'visual', frame, row, col, frameTimeSeconds });
      } else if (segment.modality === 'audio') {
        const startSeconds = context.audioStartSeconds + audioToken * audioStep;
        tokens.push({
          index,
          modality: 'audio',
          audioToken,
          startSeconds,
          endSeconds: startSeconds + audioStep,
        });
        audioToken++;
      } else {
        const id = context.promptIds[textToken] ?? null;
        const text = id === null ? '?' : (context.vocab[id] ?? '?');
        tokens.push({ index, modality: 'text', textToken, id, text });
        textToken++;
      }
    }
  }
  return tokens;
}

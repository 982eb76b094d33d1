// The N key positions read through the metadata's token layout: which frame, row and column a
// visual token covers, which stretch of the clip's audio an audio token stands for, which prompt
// word a text token is. Panels use it to draw per-token attention on frames, waveform and text.
import type { TokenInfo } from '../../protocol/analysisResult';
import type { RunLayout, TokenLayout } from '../../protocol/contract';
import { gridCellPx, gridFrameIndex } from '../contract/runLayout';

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

/** What the token map of a contract-1.1 run needs besides its layout. */
export interface RunTokenMapContext {
  /** The model's input frame W × H (cell rectangles are in its pixels). */
  frame: { width: number; height: number };
  /** Each input frame's clip time (CONTRACT.md §6; 0 for a `first` frame). */
  frameTimesSeconds: readonly number[];
  /** Where the audio fed starts in the clip, and its length (S / sample rate). */
  audioStartSeconds: number;
  audioWindowSeconds: number;
}

/**
 * One `TokenInfo` per key position of a contract-1.1 run, from its layout (CONTRACT.md §3.3):
 * every token names its segment; a grid token carries its cell's rectangle in input-frame
 * pixels (`cell_px`) and the time of its input frame (`frame_index`); a visual segment without
 * a grid gives global tokens; the audio fed is split evenly over the audio tokens; a text token
 * carries its kind, slot and written word.
 */
export function mapRunTokens(layout: RunLayout, context: RunTokenMapContext): TokenInfo[] {
  const audioTotal = layout.segments
    .filter((s) => s.modality === 'audio')
    .reduce((n, s) => n + s.count, 0);
  const audioStep = audioTotal > 0 ? context.audioWindowSeconds / audioTotal : 0;
  const text = new Map(layout.text.map((t, i) => [t.position, { ...t, textToken: i }]));
  let audioToken = 0;
  const tokens: TokenInfo[] = [];
  for (const segment of layout.segments) {
    const name = segment.name;
    for (let offset = 0; offset < segment.count; offset++) {
      const index = segment.start + offset;
      if (segment.modality === 'visual') {
        const grid = segment.grid;
        if (grid === undefined) {
          const frameTimeSeconds = context.frameTimesSeconds[0] ?? 0;
          tokens.push({
            index,
            modality: 'visual',
            frame: 0,
            row: 0,
            col: offset,
            frameTimeSeconds,
            segment: name,
            global: true,
          });
          continue;
        }
        const col = offset % grid.cols;
        const row = Math.floor(offset / grid.cols) % grid.rows;
        const frame = Math.floor(offset / (grid.cols * grid.rows));
        const cell = gridCellPx(grid, context.frame);
        tokens.push({
          index,
          modality: 'visual',
          frame,
          row,
          col,
          frameTimeSeconds: context.frameTimesSeconds[gridFrameIndex(grid, frame)] ?? 0,
          segment: name,
          cell: { x: col * cell.width, y: row * cell.height, ...cell },
        });
      } else if (segment.modality === 'audio') {
        const startSeconds = context.audioStartSeconds + audioToken * audioStep;
        tokens.push({
          index,
          modality: 'audio',
          audioToken,
          startSeconds,
          endSeconds: startSeconds + audioStep,
          segment: name,
        });
        audioToken++;
      } else {
        const t = text.get(index);
        tokens.push({
          index,
          modality: 'text',
          textToken: t?.textToken ?? -1,
          id: t?.id ?? null,
          text: t?.token ?? '?',
          segment: name,
          ...(t === undefined
            ? {}
            : { kind: t.kind, word: t.text, ...(t.slot === undefined ? {} : { slot: t.slot }) }),
        });
      }
    }
  }
  return tokens;
}

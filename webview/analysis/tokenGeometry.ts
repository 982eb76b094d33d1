// Where the per-token view puts a contract-1.1 run's tokens: each grid frame's box at the input
// frame's aspect, each grid cell's rectangle scaled from input-frame pixels into that box, and
// each named segment's share of the answer row (the per-segment UAP). Pure: no DOM.
import type { AnalysisResult, TokenInfo } from '../../src/protocol/analysisResult';
import type { Modality, PixelSize, VisualGrid } from '../../src/protocol/contract';

/** A rectangle in CSS pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One grid frame drawn: its segment, the input frame it covers, and its box's size. */
export interface GridFramePlacement {
  /** The grid's segment name (absent for a contract-1 result). */
  segment: string | undefined;
  label: string;
  gridFrame: number;
  /** The input frame (the thumbnail's `frame`) this grid frame covers. */
  inputFrame: number;
  grid: VisualGrid | undefined;
}

/** A visual token of a grid (not a global token). */
export type GridToken = Extract<TokenInfo, { modality: 'visual' }>;

/**
 * The grid frames to draw, in order. A contract-1 result: its first grid's frames, frame f being
 * input frame f (as the view always drew them). A 1.1 result: every grid segment of the run's
 * layout, each grid frame mapped to its input frame by `frame_index`.
 */
export function gridFramePlacements(r: AnalysisResult): GridFramePlacement[] {
  if (r.layout === undefined) {
    const grid = r.model.metadata.tokenLayout.segments.find((s) => s.grid !== undefined)?.grid;
    const frames = grid?.frames ?? r.clip.frameTimesSeconds.length;
    return Array.from({ length: frames }, (_, f) => ({
      segment: undefined,
      label: 'frame',
      gridFrame: f,
      inputFrame: f,
      grid,
    }));
  }
  return r.layout.segments.flatMap((s) =>
    s.grid === undefined
      ? []
      : Array.from({ length: s.grid.frames }, (_, f) => ({
          segment: s.name,
          label: s.label,
          gridFrame: f,
          inputFrame: s.grid?.frameIndex?.[f] ?? f,
          grid: s.grid,
        })),
  );
}

/** The tokens a placement draws: its segment's (or, for contract 1, every) grid token of its frame. */
export function placementTokens(r: AnalysisResult, placement: GridFramePlacement): GridToken[] {
  return r.tokens.filter(
    (t): t is GridToken =>
      t.modality === 'visual' &&
      t.global !== true &&
      t.frame === placement.gridFrame &&
      (placement.segment === undefined || t.segment === placement.segment),
  );
}

/** The model's input frame W × H (cell rectangles are in its pixels). */
export function inputFrameSize(r: AnalysisResult): PixelSize {
  const f = r.model.metadata.frames;
  return { width: f.width, height: f.height };
}

/**
 * A grid token's rectangle inside a frame box: its cell (input-frame pixels) scaled by the box's
 * size over W × H when the token has one (contract 1.1), else the box split evenly into the
 * grid's rows and columns (contract 1).
 */
export function cellRect(
  t: GridToken,
  box: Rect,
  frame: PixelSize,
  grid: VisualGrid | undefined,
): Rect {
  if (t.cell !== undefined) {
    const sx = box.width / frame.width;
    const sy = box.height / frame.height;
    return {
      x: box.x + t.cell.x * sx,
      y: box.y + t.cell.y * sy,
      width: t.cell.width * sx,
      height: t.cell.height * sy,
    };
  }
  const cw = box.width / (grid?.cols ?? 1);
  const ch = box.height / (grid?.rows ?? 1);
  return { x: box.x + t.col * cw, y: box.y + t.row * ch, width: cw, height: ch };
}

/** One named segment's share of an answer row. */
export interface SegmentShare {
  name: string;
  label: string;
  modality: Modality;
  start: number;
  count: number;
  /** Σ of the row over the segment's positions ÷ Σ of the row over the positions kept. */
  before: number;
  after: number;
}

/**
 * Each named segment's share of the answer row, before and after the intervention: Σ_{k ∈ seg} aₖ
 * ÷ Σ_k aₖ over the kept positions (all, or all but position 0 when `skipFirst`: the attention
 * sink of LLaMA-family models). The shares of one row sum to 1. `before`/`after` are the rows of
 * the chosen layer and head (or head mean); an empty list without a run layout.
 */
export function segmentShares(
  r: AnalysisResult,
  before: readonly number[],
  after: readonly number[],
  skipFirst: boolean,
): SegmentShare[] {
  if (r.layout === undefined) return [];
  const first = skipFirst ? 1 : 0;
  const total = (row: readonly number[]): number => {
    let s = 0;
    for (let k = first; k < row.length; k++) s += row[k] ?? 0;
    return Math.max(s, 1e-12);
  };
  const sumOf = (row: readonly number[], start: number, count: number): number => {
    let s = 0;
    for (let k = Math.max(start, first); k < start + count; k++) s += row[k] ?? 0;
    return s;
  };
  const totalBefore = total(before);
  const totalAfter = total(after);
  return r.layout.segments.map((s) => ({
    name: s.name,
    label: s.label,
    modality: s.modality,
    start: s.start,
    count: s.count,
    before: sumOf(before, s.start, s.count) / totalBefore,
    after: sumOf(after, s.start, s.count) / totalAfter,
  }));
}

/** What put a text position there, in words (CONTRACT.md §3.3 kinds). */
export function textKindName(kind: 'template' | 'special' | 'slot', slot?: string): string {
  if (kind === 'slot') return `${slot ?? 'slot'} (slot)`;
  return kind === 'special' ? 'special token' : 'template word';
}

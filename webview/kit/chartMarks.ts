// Marks chart.js does not draw itself, as small inline plugins: zero lines across a chart (the
// "no change" reference of a Δ chart) and interval whiskers around points (chart.js has no error
// bars). Each plugin reads its figures through a function, so a view updates them with its data.
import type { Chart, ChartType, Plugin } from 'chart.js';

/** A point's intervals on either axis, in the axis's units (absent or NaN: none drawn). */
export interface PointInterval {
  xLow?: number;
  xHigh?: number;
  yLow?: number;
  yHigh?: number;
}

/** Solid lines at x = 0 and/or y = 0 when 0 is on the axis, in `colour()`. */
export function zeroLinesPlugin<T extends ChartType>(
  axes: { x: boolean; y: boolean },
  colour: () => string,
): Plugin<T> {
  return {
    id: 'zeroLines',
    beforeDatasetsDraw(chart: Chart<T>) {
      const { ctx, chartArea: area, scales } = chart;
      ctx.save();
      ctx.strokeStyle = colour();
      ctx.lineWidth = 1.5;
      ctx.setLineDash([]);
      const x = scales['x'];
      if (axes.x && x !== undefined && x.min <= 0 && x.max >= 0) {
        const px = x.getPixelForValue(0);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
      }
      const y = scales['y'];
      if (axes.y && y !== undefined && y.min <= 0 && y.max >= 0) {
        const py = y.getPixelForValue(0);
        ctx.beginPath();
        ctx.moveTo(area.left, py);
        ctx.lineTo(area.right, py);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

/**
 * Whiskers (with end caps) around each point of the datasets `intervals()` names, by dataset
 * index then point index, in the dataset's border colour.
 */
export function whiskersPlugin<T extends ChartType>(
  intervals: () => ReadonlyMap<number, readonly PointInterval[]>,
): Plugin<T> {
  return {
    id: 'whiskers',
    afterDatasetsDraw(chart: Chart<T>) {
      const { ctx, scales } = chart;
      const x = scales['x'];
      const y = scales['y'];
      if (x === undefined || y === undefined) return;
      const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
      ctx.save();
      ctx.setLineDash([]);
      ctx.lineWidth = 1;
      for (const [index, points] of intervals()) {
        const meta = chart.getDatasetMeta(index);
        if (meta.hidden === true || !chart.isDatasetVisible(index)) continue;
        const colour = chart.data.datasets[index]?.borderColor;
        ctx.strokeStyle = typeof colour === 'string' ? colour : 'gray';
        points.forEach((p, i) => {
          const element = meta.data[i];
          if (element === undefined) return;
          const { x: px, y: py } = element.getProps(['x', 'y'], true) as { x: number; y: number };
          const cap = 3;
          ctx.beginPath();
          if (finite(p.xLow) && finite(p.xHigh)) {
            const a = x.getPixelForValue(p.xLow);
            const b = x.getPixelForValue(p.xHigh);
            ctx.moveTo(a, py);
            ctx.lineTo(b, py);
            ctx.moveTo(a, py - cap);
            ctx.lineTo(a, py + cap);
            ctx.moveTo(b, py - cap);
            ctx.lineTo(b, py + cap);
          }
          if (finite(p.yLow) && finite(p.yHigh)) {
            const a = y.getPixelForValue(p.yLow);
            const b = y.getPixelForValue(p.yHigh);
            ctx.moveTo(px, a);
            ctx.lineTo(px, b);
            ctx.moveTo(px - cap, a);
            ctx.lineTo(px + cap, a);
            ctx.moveTo(px - cap, b);
            ctx.lineTo(px + cap, b);
          }
          ctx.stroke();
        });
      }
      ctx.restore();
    },
  };
}

/** Dash patterns and point styles that tell overlapping lines apart without colour. */
export const LINE_DASHES: readonly number[][] = [[], [6, 3], [2, 3], [10, 3, 2, 3], [4, 6]];
export const POINT_STYLES = ['circle', 'rectRot', 'triangle', 'rect', 'star'] as const;

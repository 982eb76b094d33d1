// chart.js set up once (only the pieces the panel uses, no animation so redraws are immediate),
// and a holder that creates a chart on first use and updates it in place afterwards.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
} from 'chart.js';
import { el, formatPercent } from './domBuilder';
import type { Palette } from './theme';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
);

/** Theme colours for chart.js's defaults (fonts, ticks, legend) from the palette. */
export function applyChartDefaults(palette: Palette): void {
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.gridLines;
  Chart.defaults.font.family = palette.fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}

/** A canvas with its chart; `set` replaces data and options and redraws. */
export class ChartCanvas<T extends ChartType> {
  readonly element: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  private chart: Chart<T> | null = null;

  constructor(label: string, heightPx: number, testId?: string) {
    this.canvas = el('canvas', { role: 'img', 'aria-label': label });
    this.canvas.textContent = label;
    this.element = el('div', { class: 'chart', 'data-testid': testId }, this.canvas);
    this.element.style.height = `${heightPx}px`;
  }

  /** Draws the configuration (creating the chart the first time). */
  set(config: ChartConfiguration<T>): void {
    if (this.chart === null) {
      this.chart = new Chart(this.canvas, config);
      return;
    }
    this.chart.data = config.data;
    if (config.options !== undefined) this.chart.options = config.options;
    this.chart.update('none');
  }

  /** The chart as a PNG (base64, no data: prefix) on an opaque background of the theme. */
  pngBase64(palette: Palette): string {
    return canvasPngBase64(this.canvas, palette);
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}

/** A canvas as PNG base64, composited over the theme's background so it is not transparent. */
export function canvasPngBase64(source: HTMLCanvasElement, palette: Palette): string {
  const out = document.createElement('canvas');
  out.width = source.width;
  out.height = source.height;
  const ctx = out.getContext('2d');
  if (ctx === null) throw new Error('no 2D canvas context for the export');
  ctx.fillStyle = palette.background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(source, 0, 0);
  return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

/** Options of a line chart of shares (0–1) per layer: a percent y axis titled `yTitle`. */
export function shareLineOptions(yTitle: string): ChartConfiguration<'line'>['options'] {
  return {
    scales: {
      y: {
        min: 0,
        max: 1,
        title: { display: true, text: yTitle },
        ticks: { callback: (v) => formatPercent(Number(v)) },
      },
    },
    plugins: {
      legend: { position: 'bottom', labels: { usePointStyle: true } },
      tooltip: {
        callbacks: {
          label: (item) => `${item.dataset.label ?? ''}: ${formatPercent(Number(item.raw))}`,
        },
      },
    },
  };
}

// Colours for canvases and charts, read from VS Code's --vscode-* CSS variables (the body's
// vscode-light / vscode-dark / vscode-high-contrast class picks their values), and a watcher that
// re-themes when VS Code (or the report's colour scheme) changes them.

/** An RGBA colour with 0–255 channels and 0–1 alpha. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** The colours the panel draws with. */
export interface Palette {
  foreground: string;
  mutedForeground: string;
  background: string;
  gridLines: string;
  /** Modalities: visual, audio, text. */
  visual: string;
  audio: string;
  text: string;
  /** Flagged heads and crossed thresholds. */
  flagged: string;
  /** Thresholds (τ, (1 + margin) × mean). */
  threshold: string;
  /** The heatmap's ends: background → accent. */
  heatLow: Rgba;
  heatHigh: Rgba;
  focus: string;
  highContrast: boolean;
  fontFamily: string;
}

let probe: CanvasRenderingContext2D | null = null;

/** Resolves any CSS colour to RGBA by painting one pixel (the browser's own parser). */
export function parseColour(css: string): Rgba {
  probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  if (probe === null) return { r: 128, g: 128, b: 128, a: 1 };
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000';
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const [r = 0, g = 0, b = 0, a = 255] = probe.getImageData(0, 0, 1, 1).data;
  return { r, g, b, a: a / 255 };
}

/** An RGBA colour as a CSS string. */
export function cssOf(c: Rgba): string {
  return `rgba(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)}, ${c.a.toFixed(3)})`;
}

/** Linear blend of two colours, t ∈ [0, 1]. */
export function mix(a: Rgba, b: Rgba, t: number): Rgba {
  const u = Math.min(1, Math.max(0, t));
  return {
    r: a.r + (b.r - a.r) * u,
    g: a.g + (b.g - a.g) * u,
    b: a.b + (b.b - a.b) * u,
    a: a.a + (b.a - a.a) * u,
  };
}

/** The colour with another alpha. */
export function withAlpha(css: string, alpha: number): string {
  return cssOf({ ...parseColour(css), a: alpha });
}

function variable(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

/** Reads the palette from the body's computed --vscode-* variables. */
export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  const v = (name: string, fallback: string): string => variable(style, name, fallback);
  const foreground = v('--vscode-editor-foreground', v('--vscode-foreground', 'CanvasText'));
  const background = v('--vscode-editor-background', 'Canvas');
  const highContrast = document.body.classList.contains('vscode-high-contrast');
  return {
    foreground,
    mutedForeground: v('--vscode-descriptionForeground', foreground),
    background,
    gridLines: v('--vscode-charts-lines', withAlpha(foreground, 0.2)),
    visual: v('--vscode-charts-blue', foreground),
    audio: v('--vscode-charts-orange', foreground),
    text: v('--vscode-charts-green', foreground),
    flagged: v('--vscode-charts-red', foreground),
    threshold: v('--vscode-charts-purple', foreground),
    heatLow: parseColour(background),
    heatHigh: parseColour(v('--vscode-charts-orange', foreground)),
    focus: v('--vscode-focusBorder', foreground),
    highContrast,
    fontFamily: v('--vscode-font-family', 'sans-serif'),
  };
}

/**
 * Calls `onChange` when the body's theme class or the variables VS Code writes on <html> change.
 * Returns a function that stops watching.
 */
export function watchTheme(onChange: () => void): () => void {
  const observer = new MutationObserver(() => onChange());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => observer.disconnect();
}

/** The heat colour of a value in [0, 1] (0 = background, 1 = the accent). */
export function heatColour(palette: Palette, t: number): string {
  return cssOf(mix(palette.heatLow, palette.heatHigh, 0.08 + 0.92 * t));
}

let current: Palette | null = null;

/** The palette of the current theme (read once per theme change). */
export function currentPalette(): Palette {
  current ??= readPalette();
  return current;
}

/** Re-reads the palette after a theme change. */
export function refreshPalette(): Palette {
  current = readPalette();
  return current;
}

const THEME_CLASSES = ['vscode-light', 'vscode-dark', 'vscode-high-contrast'];

/**
 * Outside VS Code (a report) the body has no theme class: follow the browser's colour scheme and
 * forced colours instead. Does nothing when VS Code (or the page) already set a theme class.
 */
export function followBrowserSchemeWhenUnthemed(): void {
  if (THEME_CLASSES.some((c) => document.body.classList.contains(c))) return;
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  const contrast = window.matchMedia('(forced-colors: active)');
  const apply = (): void => {
    document.body.classList.remove(...THEME_CLASSES);
    document.body.classList.add(
      contrast.matches ? 'vscode-high-contrast' : dark.matches ? 'vscode-dark' : 'vscode-light',
    );
  };
  apply();
  dark.addEventListener('change', apply);
  contrast.addEventListener('change', apply);
}

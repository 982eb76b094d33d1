// The Analysis panel's messages between the extension host and its webview, split by direction.
// Every panel starts with `ready` from the webview; the host answers with `init` carrying the
// panel's whole state. The host validates every incoming message with `parseWebviewMessage`
// before acting on it (a webview is untrusted input). The same bundle also runs inside a
// self-contained HTML report, where no host exists: `init` then comes from the embedded JSON.
import type { AnalysisResult } from './analysisResult';
import type { ArControls } from './contract';

/** Where a panel's result comes from; saved in the webview's state so a reload can revive it. */
export type PanelOrigin =
  /** A clip analysed with a checkpoint (re-runs are possible while both exist). */
  | { kind: 'clip'; clipPath: string; modelPath: string }
  /** A saved `*.mosear.json` result (read-only: no model run). */
  | { kind: 'saved'; resultPath: string }
  /** A self-contained HTML report (read-only, no host). */
  | { kind: 'report' };

/** The panel's full state, sent in reply to `ready`. */
export interface PanelInit {
  origin: PanelOrigin;
  /** The result to draw; null while the first analysis is still running. */
  result: AnalysisResult | null;
  /** Whether `run` requests are served (false for saved results, reports, Restricted Mode). */
  canRun: boolean;
  /** Why runs are not possible, shown in the panel when `canRun` is false. */
  readOnlyReason: string | null;
  /** Controls the user saved as workspace defaults (null: the checkpoint's defaults apply). */
  workspaceDefaults: Partial<ArControls> | null;
  /** Re-run debounce in ms for slider moves. */
  debounceMs: number;
}

/** Columns the biased-heads table can be sorted by. */
export type BiasedHeadSortKey =
  'layer' | 'head' | 'statistic' | 'layerMean' | 'aboveThreshold' | 'audioMoved' | 'visualBefore';

/**
 * What the Analysis webview keeps with `vscode.setState`: the host's serializer reads `origin`
 * and `result` to revive the panel after a reload; the rest is UI state the webview restores.
 */
export interface AnalysisViewState {
  origin: PanelOrigin;
  /** The latest result drawn (null before the first one arrives). */
  result: AnalysisResult | null;
  /** The controls being edited (null: those the result ran with). */
  controls: ArControls | null;
  /** One τ slider for every layer (true) or one per layer. */
  tauForAllLayers: boolean;
  /** The head selected in the grid and the biased-heads table. */
  selectedHead: { layer: number; head: number } | null;
  /** UAP shares of visual + audio only, or of the whole row (text included). */
  uapNormalisation: 'av' | 'row';
  /** Head grid colour scale on log10 of the statistic. */
  gridLogScale: boolean;
  biasedHeadSort: { key: BiasedHeadSortKey; descending: boolean };
  /** Per-token attention: the layer, a head or the head average, and which run's attention. */
  tokenLayer: number;
  tokenHead: number | 'mean';
  tokenRun: 'before' | 'after';
}

/** A file the webview wants saved (charts as PNG, tables as CSV/JSON). */
export interface ExportFile {
  /** Suggested base name, e.g. "sample.uap.png" (a bare name: no path separators). */
  fileName: string;
  format: 'png' | 'csv' | 'json';
  /** base64 for png, utf8 text otherwise. */
  encoding: 'base64' | 'utf8';
  data: string;
}

/** Messages the webview sends to the host. */
export type WebviewToHost =
  /** The webview has loaded and wants its state. */
  | { type: 'ready' }
  /** Re-run the model with these controls; only the latest `requestId` is answered with a result. */
  | { type: 'run'; requestId: number; controls: ArControls }
  /** Save these controls as the workspace's AR defaults for this checkpoint family. */
  | { type: 'saveDefaults'; controls: ArControls }
  /** Save a chart or table the webview produced (the host asks where). */
  | { type: 'exportFile'; requestId: number; file: ExportFile }
  /** Save the panel's current result as `<clip>.mosear.json` (the host asks where). */
  | { type: 'saveResult'; requestId: number }
  /** Save a self-contained HTML report of the current result (the host asks where). */
  | { type: 'exportReport'; requestId: number }
  /** Something failed inside the webview; the host logs it. */
  | { type: 'webviewError'; message: string };

/** Messages the host sends to the webview. */
export type HostToWebview =
  /** The panel's full state (reply to `ready`, and after the host replaces the result). */
  | { type: 'init'; init: PanelInit }
  /** The run for `requestId` started (earlier runs are being dropped). */
  | { type: 'runStarted'; requestId: number }
  /** The latest run finished. */
  | { type: 'runResult'; requestId: number; result: AnalysisResult }
  /** The latest run failed or was cancelled. */
  | { type: 'runFailed'; requestId: number; message: string; cancelled: boolean }
  /** An export or save finished: the path written, or null when the user cancelled. */
  | { type: 'saved'; requestId: number; path: string | null; error: string | null };

/** Largest export the host accepts from a webview (base64 or text characters). */
export const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

/** Why a webview message was rejected. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A message's `requestId`, checked. */
export function requestIdOf(m: Record<string, unknown>): number {
  const id = m['requestId'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    throw new InvalidMessageError('requestId must be a non-negative integer');
  }
  return id;
}

function finiteArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new InvalidMessageError(`${what} must be an array of finite numbers`);
  }
  return v as number[];
}

function finiteNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidMessageError(`${what} must be a finite number`);
  }
  return v;
}

/**
 * Checks the shape of controls from a webview (types only; the host then validates them against
 * the checkpoint's metadata: lengths, ranges). Returns a fresh object without extra keys.
 */
export function parseControlsShape(v: unknown): ArControls {
  if (!isRecord(v)) throw new InvalidMessageError('controls must be an object');
  const mode = v['mode'];
  if (mode !== 0 && mode !== 1 && mode !== 2)
    throw new InvalidMessageError('mode must be 0, 1 or 2');
  const ratioKind = v['ratioKind'];
  if (ratioKind !== 0 && ratioKind !== 1 && ratioKind !== 2) {
    throw new InvalidMessageError('ratioKind must be 0, 1 or 2');
  }
  const overrides = v['headOverride'];
  if (!Array.isArray(overrides)) throw new InvalidMessageError('headOverride must be an array');
  const headOverride = overrides.map((row, l) => {
    const values = finiteArray(row, `headOverride[${l}]`);
    if (!values.every((x) => x === -1 || x === 0 || x === 1)) {
      throw new InvalidMessageError(`headOverride[${l}] values must be -1, 0 or 1`);
    }
    return [...values];
  });
  return {
    mode,
    ratioKind,
    tau: [...finiteArray(v['tau'], 'tau')],
    headMargin: finiteNumber(v['headMargin'], 'headMargin'),
    alpha: finiteNumber(v['alpha'], 'alpha'),
    paiAlpha: finiteNumber(v['paiAlpha'], 'paiAlpha'),
    layers: [...finiteArray(v['layers'], 'layers')],
    headOverride,
  };
}

/** Checks a file a webview asks to save (bare name, known format, size limit). */
export function parseExportFile(v: unknown): ExportFile {
  if (!isRecord(v)) throw new InvalidMessageError('file must be an object');
  const { fileName, format, encoding, data } = v;
  if (
    typeof fileName !== 'string' ||
    fileName.length === 0 ||
    fileName.length > 200 ||
    /[/\\\0]/.test(fileName) ||
    fileName === '.' ||
    fileName === '..'
  ) {
    throw new InvalidMessageError('fileName must be a bare file name');
  }
  if (format !== 'png' && format !== 'csv' && format !== 'json') {
    throw new InvalidMessageError('format must be png, csv or json');
  }
  const expected = format === 'png' ? 'base64' : 'utf8';
  if (encoding !== expected) throw new InvalidMessageError(`${format} exports must be ${expected}`);
  if (typeof data !== 'string' || data.length > MAX_EXPORT_CHARS) {
    throw new InvalidMessageError('data must be a string within the export size limit');
  }
  if (expected === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw new InvalidMessageError('data is not base64');
  }
  return { fileName, format, encoding: expected, data };
}

/** The messages every MoSEAR webview sends (the handshake, exports, its own errors). */
export type SharedWebviewMessage = Extract<
  WebviewToHost,
  { type: 'ready' | 'exportFile' | 'exportReport' | 'webviewError' }
>;

/** Validates a shared message; undefined when `raw` is of another type (throws when malformed). */
export function parseSharedMessage(raw: Record<string, unknown>): SharedWebviewMessage | undefined {
  switch (raw['type']) {
    case 'ready':
      return { type: 'ready' };
    case 'exportFile':
      return {
        type: 'exportFile',
        requestId: requestIdOf(raw),
        file: parseExportFile(raw['file']),
      };
    case 'exportReport':
      return { type: 'exportReport', requestId: requestIdOf(raw) };
    case 'webviewError': {
      const message = raw['message'];
      if (typeof message !== 'string') throw new InvalidMessageError('message must be a string');
      return { type: 'webviewError', message: message.slice(0, 4000) };
    }
    default:
      return undefined;
  }
}

/** Validates a message from a webview; throws InvalidMessageError on anything unexpected. */
export function parseWebviewMessage(raw: unknown): WebviewToHost {
  if (!isRecord(raw)) throw new InvalidMessageError('message must be an object');
  const shared = parseSharedMessage(raw);
  if (shared !== undefined) return shared;
  switch (raw['type']) {
    case 'run':
      return {
        type: 'run',
        requestId: requestIdOf(raw),
        controls: parseControlsShape(raw['controls']),
      };
    case 'saveDefaults':
      return { type: 'saveDefaults', controls: parseControlsShape(raw['controls']) };
    case 'saveResult':
      return { type: 'saveResult', requestId: requestIdOf(raw) };
    default:
      throw new InvalidMessageError(`unknown message type ${JSON.stringify(raw['type'])}`);
  }
}

/**
 * Id of the `<script type="application/json">` element in which a self-contained HTML report
 * embeds its `PanelInit` (with `<` escaped as `\u003c`); the webview bundle reads it when no
 * VS Code API exists.
 */
export const REPORT_DATA_ELEMENT_ID = 'mosear-report-data';

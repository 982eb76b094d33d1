// The Analysis panel's messages between the extension host and its webview, split by direction.
// Every panel starts with `ready` from the webview; the host answers with `init` carrying the
// panel's whole state. The host validates every incoming message with `parseWebviewMessage`
// before acting on it (a webview is untrusted input): a parse by the messages' schema. The same
// bundle also runs inside a
// self-contained HTML report, where no host exists: `init` then comes from the embedded JSON.
import * as v from 'valibot';
import { AnalysisResultSchema, type AnalysisResult } from './analysisResult';
import { ArControlsSchema, UserControlsSchema, type ArControls } from './contract';
import { CounterfactualResultSchema, type CounterfactualResult } from './counterfactualResult';
import {
  ImbalanceProgressSchema,
  ImbalanceResultSchema,
  MAX_AUDIO_REPEATS,
  type ImbalanceResult,
} from './imbalance';
import { describeValue, isMissing, issuePath, parseOrThrow, type Issue } from './issues';
import {
  HeadRankingSchema,
  HeadRefSchema,
  KnockoutResultSchema,
  KnockoutUnderSchema,
  RankProgressSchema,
} from './knockout';
import {
  TokenRowFailedSchema,
  TokenRowReplySchema,
  TokenRowRequestSchema,
  TokenRowsIndexSchema,
  type TokenRowsIndex,
} from './rowRequests';

/** Where a panel's result comes from; saved in the webview's state so a reload can revive it. */
export const PanelOriginSchema = v.variant('kind', [
  /** A clip analysed with a checkpoint (re-runs are possible while both exist). */
  v.object({ kind: v.literal('clip'), clipPath: v.string(), modelPath: v.string() }),
  /** A saved `*.mosear.json` result (read-only: no model run). */
  v.object({ kind: v.literal('saved'), resultPath: v.string() }),
  /** A self-contained HTML report (read-only, no host). */
  v.object({ kind: v.literal('report') }),
]);
export type PanelOrigin = v.InferOutput<typeof PanelOriginSchema>;

/** Where an analysis opened from the Evaluate panel's flips list comes from. */
export const EvaluationSourceSchema = v.object({
  /** The evaluation's name (its manifest's) and run folder. */
  evaluation: v.string(),
  runDir: v.string(),
  /** The checkpoint's name and the setting's id and title ("AR τ 0.5"). */
  checkpoint: v.string(),
  settingId: v.string(),
  setting: v.string(),
  /** The clip's ground-truth label from the manifest. */
  groundTruth: v.string(),
});
export type EvaluationSource = v.InferOutput<typeof EvaluationSourceSchema>;

/** A panel that new analyses replace (`preview`), or one kept for its clip (`pinned`). */
export const PreviewStateSchema = v.picklist(['preview', 'pinned']);
export type PreviewState = v.InferOutput<typeof PreviewStateSchema>;

/** Whether the panel's head knockout can run (contract 1.1's `head_gate`), and why not. */
export const KnockoutAvailabilitySchema = v.object({
  available: v.boolean(),
  reason: v.nullable(v.string()),
});
export type KnockoutAvailability = v.InferOutput<typeof KnockoutAvailabilitySchema>;

/** The panel's full state, sent in reply to `ready`. */
export const PanelInitSchema = v.object({
  origin: PanelOriginSchema,
  /**
   * The result to draw; null while the first analysis is still running. From the host its token
   * rows are null and `rows` says which exist (fetched with `tokenRow`); a report embeds them.
   */
  result: v.nullable(AnalysisResultSchema),
  /** The result's token rows as the host holds them (absent: the rows are in `result`). */
  rows: v.exactOptional(TokenRowsIndexSchema),
  /** Whether `run` requests are served (false for saved results, reports, Restricted Mode). */
  canRun: v.boolean(),
  /** Why runs are not possible, shown in the panel when `canRun` is false. */
  readOnlyReason: v.nullable(v.string()),
  /** Controls the user saved as workspace defaults (null: the checkpoint's defaults apply). */
  workspaceDefaults: v.nullable(v.partial(ArControlsSchema)),
  /** Re-run debounce in ms for slider moves. */
  debounceMs: v.number(),
  /** The evaluation, setting and ground truth this analysis was opened from (flips list). */
  fromEvaluation: v.optional(v.nullable(EvaluationSourceSchema)),
  /** Preview or pinned (absent: neither, as in a custom editor or a report). */
  previewState: v.optional(PreviewStateSchema),
  /** Head knockout (issue 18); absent: unavailable for the read-only reason. */
  knockout: v.exactOptional(KnockoutAvailabilitySchema),
});
export type PanelInit = v.InferOutput<typeof PanelInitSchema>;

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
  /** Which token rows the host holds for `result` (absent or null: the rows are in `result`). */
  rows?: TokenRowsIndex | null;
  /** The evaluation the analysis was opened from, kept across a reload. */
  fromEvaluation?: EvaluationSource | null;
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
  /** Threshold charts on a log axis (null: log when the ratio kind's τ sweep is). */
  thresholdLogScale: boolean | null;
  biasedHeadSort: { key: BiasedHeadSortKey; descending: boolean };
  /** Per-token attention: the layer, a head or the head average, and which run's attention. */
  tokenLayer: number;
  tokenHead: number | 'mean';
  tokenRun: 'before' | 'after' | 'difference';
  /** Before and after heatmaps on one scale (the larger of their largest visual weights). */
  tokenSharedScale: boolean;
  /** The head grid's shown layers, first and last inclusive (null: every layer). */
  gridLayers: [number, number] | null;
  /** UAP without the first key position (LLaMA-family models park attention there). */
  uapSkipFirst: boolean;
  /** Which heads the biased-heads list shows. */
  biasedHeadFilter: BiasedHeadFilter;
  /** The label lens's run (issue 18; absent in states saved before it: with). */
  labelLensRun?: 'with' | 'without';
  /**
   * The Counterfactuals section's latest result, so it comes back with the panel (issue 18;
   * absent in states saved before it, or null: none run). Parsed on the way back in.
   */
  counterfactuals?: CounterfactualResult | null;
  /**
   * The Token imbalance section's latest probe (issue 18 item 5; absent in states saved before
   * it, or null: none run). Parsed on the way back in.
   */
  imbalance?: ImbalanceResult | null;
}

/** The biased-heads list's filter: a layer range (null: open), a least statistic, flags only. */
export interface BiasedHeadFilter {
  fromLayer: number | null;
  toLayer: number | null;
  minStatistic: number | null;
  flaggedOnly: boolean;
}

/** Largest export the host accepts from a webview (base64 or text characters). */
export const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

/** A request id: a non-negative integer. */
export const RequestIdSchema = v.pipe(
  v.number('must be a non-negative integer'),
  v.safeInteger('must be a non-negative integer'),
  v.minValue(0, 'must be a non-negative integer'),
);

/** A file the webview wants saved (charts as PNG, tables as CSV/JSON). */
export const ExportFileSchema = v.pipe(
  v.object({
    /** Suggested base name, e.g. "sample.uap.png" (a bare name: no path separators). */
    fileName: v.pipe(
      v.string('must be a bare file name'),
      v.check(
        (name) =>
          name.length > 0 &&
          name.length <= 200 &&
          !/[/\\\0]/.test(name) &&
          name !== '.' &&
          name !== '..',
        'must be a bare file name',
      ),
    ),
    format: v.picklist(['png', 'csv', 'json'], 'must be png, csv or json'),
    /** base64 for png, utf8 text otherwise. */
    encoding: v.picklist(['base64', 'utf8'], 'must be base64 or utf8'),
    data: v.pipe(
      v.string('must be a string within the export size limit'),
      v.maxLength(MAX_EXPORT_CHARS, 'must be a string within the export size limit'),
    ),
  }),
  v.check(
    (file) => file.encoding === (file.format === 'png' ? 'base64' : 'utf8'),
    'png exports must be base64, csv and json exports utf8',
  ),
  v.check(
    (file) => file.encoding !== 'base64' || /^[A-Za-z0-9+/]*={0,2}$/.test(file.data),
    'data is not base64',
  ),
);
export type ExportFile = v.InferOutput<typeof ExportFileSchema>;

/** A message the webview's code failed with, cut to 4000 characters for the log. */
const webviewErrorText = v.pipe(
  v.string(),
  v.transform((text) => text.slice(0, 4000)),
);

/** Messages every MoSEAR webview sends (the handshake, exports, its own errors). */
export const SHARED_WEBVIEW_MESSAGES = [
  /** The webview has loaded and wants its state. */
  v.object({ type: v.literal('ready') }),
  /** Save a chart or table the webview produced (the host asks where). */
  v.object({ type: v.literal('exportFile'), requestId: RequestIdSchema, file: ExportFileSchema }),
  /** Save a self-contained HTML report of the current result (the host asks where). */
  v.object({ type: v.literal('exportReport'), requestId: RequestIdSchema }),
  /** Something failed inside the webview; the host logs it. */
  v.object({ type: v.literal('webviewError'), message: webviewErrorText }),
] as const;

/** The type names of `sharedWebviewMessages`. */
const SHARED_TYPES: readonly unknown[] = ['ready', 'exportFile', 'exportReport', 'webviewError'];

/** The message every webview sends; an unknown `type` is named in the error. */
export function messageSchema<const O extends v.VariantOptions<'type'>>(options: O) {
  return v.variant('type', options, (issue) =>
    isMissing(issue) || issue.path === undefined
      ? 'must be an object with a type'
      : `unknown message type ${describeValue(issue.input)}`,
  );
}

/** Messages the webview sends to the host. */
export const WebviewToHostSchema = messageSchema([
  ...SHARED_WEBVIEW_MESSAGES,
  /**
   * Re-run the model with these controls (and the transcript typed in the header, for a model with
   * a transcript slot); only the latest `requestId` is answered with a result.
   */
  v.object({
    type: v.literal('run'),
    requestId: RequestIdSchema,
    controls: UserControlsSchema,
    transcript: v.exactOptional(v.string()),
  }),
  /** Save these controls as the workspace's AR defaults for this checkpoint family. */
  v.object({ type: v.literal('saveDefaults'), controls: UserControlsSchema }),
  /** Save the panel's current result as `<clip>.mosear.json` (the host asks where). */
  v.object({ type: v.literal('saveResult'), requestId: RequestIdSchema }),
  /** Keep this preview panel's clip: later analyses open a new preview panel. */
  v.object({ type: v.literal('pin') }),
  /** Knock out these heads (gate 0) under off and under these controls (contract 1.1). */
  v.object({
    type: v.literal('knockout'),
    requestId: RequestIdSchema,
    controls: UserControlsSchema,
    heads: v.pipe(v.array(HeadRefSchema), v.maxLength(1 << 16)),
  }),
  /** Rank the top K flagged heads by their knockout effect (progress, then `rankResult`). */
  v.object({
    type: v.literal('rankHeads'),
    requestId: RequestIdSchema,
    controls: UserControlsSchema,
    k: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1 << 16)),
    under: KnockoutUnderSchema,
  }),
  /** Stop the ranking in flight. */
  v.object({ type: v.literal('cancelRank') }),
  /**
   * Run the clip's modality counterfactuals under off and these controls; partners chosen
   * automatically, or picked on the host (`pick`: a file dialog for that modality's partner).
   */
  v.object({
    type: v.literal('runCounterfactuals'),
    requestId: RequestIdSchema,
    controls: UserControlsSchema,
    pick: v.exactOptional(v.picklist(['audio', 'frames'])),
  }),
  /** Stop the counterfactual run whose request id is `run`. */
  v.object({ type: v.literal('cancelCounterfactuals'), run: RequestIdSchema }),
  /**
   * Run the token-imbalance probe (contract 1.2's `audio_repeat`) at these k under off and these
   * controls (progress, then `imbalanceResult`); the host checks k against the model's cap.
   */
  v.object({
    type: v.literal('runImbalance'),
    requestId: RequestIdSchema,
    controls: UserControlsSchema,
    repeats: v.pipe(
      v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
      v.minLength(1),
      v.maxLength(MAX_AUDIO_REPEATS),
    ),
  }),
  /** Stop the probe whose request id is `run`. */
  v.object({ type: v.literal('cancelImbalance'), run: RequestIdSchema }),
  /** Send one token row of the shown result (latest wins per run and stage). */
  TokenRowRequestSchema,
]);
export type WebviewToHost = v.InferOutput<typeof WebviewToHostSchema>;

/** An export or save finished: the path written, or null when the user cancelled. */
export const SavedMessageSchema = v.object({
  type: v.literal('saved'),
  requestId: v.number(),
  path: v.nullable(v.string()),
  error: v.nullable(v.string()),
});

/** Messages the host sends to the webview. */
export const HostToWebviewSchema = v.variant('type', [
  /** The panel's full state (reply to `ready`, and after the host replaces the result). */
  v.object({ type: v.literal('init'), init: PanelInitSchema }),
  /** The run for `requestId` started (earlier runs are being dropped). */
  v.object({ type: v.literal('runStarted'), requestId: v.number() }),
  /** The latest run finished (its token rows null, `rows` saying which the host holds). */
  v.object({
    type: v.literal('runResult'),
    requestId: v.number(),
    result: AnalysisResultSchema,
    rows: v.exactOptional(TokenRowsIndexSchema),
  }),
  /** A token row the webview asked for. */
  TokenRowReplySchema,
  /** A token row request that could not be answered, and why. */
  TokenRowFailedSchema,
  /** The latest run failed or was cancelled. */
  v.object({
    type: v.literal('runFailed'),
    requestId: v.number(),
    message: v.string(),
    cancelled: v.boolean(),
  }),
  SavedMessageSchema,
  /** A knockout finished. */
  v.object({
    type: v.literal('knockoutResult'),
    requestId: v.number(),
    result: KnockoutResultSchema,
  }),
  /** A ranking's progress: session runs done of all. */
  v.object({
    type: v.literal('rankProgress'),
    requestId: v.number(),
    progress: RankProgressSchema,
  }),
  /** A ranking finished. */
  v.object({ type: v.literal('rankResult'), requestId: v.number(), ranking: HeadRankingSchema }),
  /** A knockout or a ranking failed or was cancelled. */
  v.object({
    type: v.literal('knockoutFailed'),
    requestId: v.number(),
    message: v.string(),
    cancelled: v.boolean(),
  }),
  /** The counterfactual run `requestId` started (its partners are being decoded and run). */
  v.object({ type: v.literal('counterfactualsStarted'), requestId: v.number() }),
  /** The counterfactual run finished. */
  v.object({
    type: v.literal('counterfactualsResult'),
    requestId: v.number(),
    result: CounterfactualResultSchema,
  }),
  /** The counterfactual run failed (bad partner, one label only, decode failure) or was cancelled. */
  v.object({
    type: v.literal('counterfactualsFailed'),
    requestId: v.number(),
    message: v.string(),
    cancelled: v.boolean(),
  }),
  /** The probe's progress: k values done of all. */
  v.object({
    type: v.literal('imbalanceProgress'),
    requestId: v.number(),
    progress: ImbalanceProgressSchema,
  }),
  /** The probe finished. */
  v.object({
    type: v.literal('imbalanceResult'),
    requestId: v.number(),
    result: ImbalanceResultSchema,
  }),
  /** The probe failed (no audio_repeat, k above the cap, decode failure) or was cancelled. */
  v.object({
    type: v.literal('imbalanceFailed'),
    requestId: v.number(),
    message: v.string(),
    cancelled: v.boolean(),
  }),
]);
export type HostToWebview = v.InferOutput<typeof HostToWebviewSchema>;

/** Why a webview message was rejected. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

/** An InvalidMessageError naming the bad field ("file.fileName: must be a bare file name"). */
export function invalidMessage(issue: Issue): InvalidMessageError {
  const path = issuePath(issue);
  return new InvalidMessageError(path === '' ? issue.message : `${path}: ${issue.message}`);
}

/**
 * Checks the shape of controls from a webview (types only; the host then validates them against
 * the checkpoint's metadata: lengths, ranges). Returns a fresh object without extra keys.
 */
export function parseControlsShape(value: unknown): ArControls {
  return parseOrThrow(UserControlsSchema, value, invalidMessage);
}

/** Checks a file a webview asks to save (bare name, known format, size limit). */
export function parseExportFile(value: unknown): ExportFile {
  return parseOrThrow(ExportFileSchema, value, invalidMessage);
}

/** The messages every MoSEAR webview sends (the handshake, exports, its own errors). */
export type SharedWebviewMessage = Extract<
  WebviewToHost,
  { type: 'ready' | 'exportFile' | 'exportReport' | 'webviewError' }
>;

const SharedWebviewMessageSchema = messageSchema([...SHARED_WEBVIEW_MESSAGES]);

/** Parses a shared message; undefined when `raw` is of another type (throws when malformed). */
export function parseSharedMessage(raw: Record<string, unknown>): SharedWebviewMessage | undefined {
  if (!SHARED_TYPES.includes(raw['type'])) return undefined;
  return parseOrThrow(SharedWebviewMessageSchema, raw, invalidMessage);
}

/** Parses a message from a webview; throws InvalidMessageError on anything unexpected. */
export function parseWebviewMessage(raw: unknown): WebviewToHost {
  return parseOrThrow(WebviewToHostSchema, raw, invalidMessage);
}

/** Parses the origin a webview saved in its state (untrusted input); a report cannot revive. */
export function parsePanelOrigin(value: unknown): PanelOrigin {
  const parsed = v.safeParse(PanelOriginSchema, value);
  if (!parsed.success || parsed.output.kind === 'report') {
    throw new Error('the saved panel state has no clip or result file to restore');
  }
  return parsed.output;
}

/** The evaluation source a webview saved in its state; null when there is none or it is bad. */
export function parseEvaluationSource(value: unknown): EvaluationSource | null {
  const parsed = v.safeParse(EvaluationSourceSchema, value);
  return parsed.success ? parsed.output : null;
}

/**
 * Id of the `<script type="application/json">` element in which a self-contained HTML report
 * embeds its `PanelInit` (with `<` escaped as `\u003c`); the webview bundle reads it when no
 * VS Code API exists.
 */
export const REPORT_DATA_ELEMENT_ID = 'mosear-report-data';

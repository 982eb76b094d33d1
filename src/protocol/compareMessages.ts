// The Compare panel's messages between the extension host and its webview. The same handshake as
// the Analysis panel (`ready` → `init` with the whole state); runs, results and failures name
// their subject. Exports, saves and errors are the Analysis panel's messages with the same
// schemas, so both panels accept exactly the same files.
import * as v from 'valibot';
import { AnalysisResultSchema } from './analysisResult';
import { ComparisonResultSchema, SubjectKeySchema, type SubjectKey } from './comparisonResult';
import { UserControlsSchema } from './contract';
import { float32Array, parseOrThrow } from './issues';
import { TokenRowQuerySchema, TokenRowsIndexSchema } from './rowRequests';
import {
  RequestIdSchema,
  SHARED_WEBVIEW_MESSAGES,
  SavedMessageSchema,
  invalidMessage,
  messageSchema,
  type AnalysisViewState,
} from './panelMessages';

/** Where a Compare panel's comparison comes from; saved in the webview state for revival. */
export const CompareOriginSchema = v.variant('kind', [
  /** A clip run by two subjects (re-runs are possible while the clip and the models exist). */
  v.object({
    kind: v.literal('clip'),
    clipPath: v.string(),
    models: v.object({ a: v.string(), b: v.string() }),
  }),
  /** A self-contained HTML report (read-only, no host). */
  v.object({ kind: v.literal('report') }),
]);
export type CompareOrigin = v.InferOutput<typeof CompareOriginSchema>;

/** The Compare panel's full state, sent in reply to `ready`. */
export const CompareInitSchema = v.object({
  origin: CompareOriginSchema,
  /** Null while the first comparison is still running. */
  comparison: v.nullable(ComparisonResultSchema),
  canRun: v.boolean(),
  readOnlyReason: v.nullable(v.string()),
  debounceMs: v.number(),
  /**
   * Each subject's token rows as the host holds them (the comparison's rows are then null and
   * fetched with `tokenRow`); absent: the rows are in `comparison` (a report).
   */
  rows: v.exactOptional(v.object({ a: TokenRowsIndexSchema, b: TokenRowsIndexSchema })),
});
export type CompareInit = v.InferOutput<typeof CompareInitSchema>;

/** What the Compare webview keeps with `vscode.setState`. */
export interface CompareViewState {
  origin: CompareOrigin;
  /** The comparison with the latest result of each subject. */
  comparison: CompareInit['comparison'];
  /** Which token rows the host holds for each subject (absent or null: in `comparison`). */
  rows?: CompareInit['rows'] | null;
  /** One set of controls drives both subjects. */
  linked: boolean;
  /** Each subject's Analysis view state (controls being edited, pickers). */
  subjects: Partial<Record<SubjectKey, Partial<AnalysisViewState>>>;
}

/** Messages the Compare webview sends to the host. */
export const CompareToHostSchema = messageSchema([
  /** The Analysis panel's messages of the same type. */
  ...SHARED_WEBVIEW_MESSAGES,
  /** Save the comparison as a file (the host asks where). */
  v.object({ type: v.literal('saveResult'), requestId: RequestIdSchema }),
  /** Re-run one subject with these controls; only its latest `requestId` is answered. */
  v.object({
    type: v.literal('run'),
    subject: SubjectKeySchema,
    requestId: RequestIdSchema,
    controls: UserControlsSchema,
  }),
  /** Send one token row of a subject's shown result (latest wins per subject, run and stage). */
  v.object({
    type: v.literal('tokenRow'),
    subject: SubjectKeySchema,
    requestId: RequestIdSchema,
    query: TokenRowQuerySchema,
  }),
]);
export type CompareToHost = v.InferOutput<typeof CompareToHostSchema>;

/** Messages the host sends to the Compare webview. */
export const HostToCompareSchema = v.variant('type', [
  /** The full state (reply to `ready`, and when the host replaces the comparison). */
  v.object({ type: v.literal('init'), init: CompareInitSchema }),
  /** The run for a subject's `requestId` started. */
  v.object({ type: v.literal('runStarted'), subject: SubjectKeySchema, requestId: v.number() }),
  /** A subject's latest run finished. */
  v.object({
    type: v.literal('runResult'),
    subject: SubjectKeySchema,
    requestId: v.number(),
    result: AnalysisResultSchema,
    rows: v.exactOptional(TokenRowsIndexSchema),
  }),
  /** A token row of a subject's result the webview asked for. */
  v.object({
    type: v.literal('tokenRow'),
    subject: SubjectKeySchema,
    requestId: v.number(),
    row: float32Array,
  }),
  /** A subject's token row request that could not be answered, and why. */
  v.object({
    type: v.literal('tokenRowFailed'),
    subject: SubjectKeySchema,
    requestId: v.number(),
    message: v.string(),
  }),
  /** A subject's latest run failed or was cancelled. */
  v.object({
    type: v.literal('runFailed'),
    subject: SubjectKeySchema,
    requestId: v.number(),
    message: v.string(),
    cancelled: v.boolean(),
  }),
  /** An export or save finished: the path written, or null when the user cancelled. */
  SavedMessageSchema,
]);
export type HostToCompare = v.InferOutput<typeof HostToCompareSchema>;

/** Parses a message from the Compare webview; throws InvalidMessageError otherwise. */
export function parseCompareMessage(raw: unknown): CompareToHost {
  return parseOrThrow(CompareToHostSchema, raw, invalidMessage);
}

/** Parses the origin a Compare webview saved in its state (untrusted input). */
export function parseCompareOrigin(value: unknown): CompareOrigin {
  const parsed = v.safeParse(CompareOriginSchema, value);
  if (parsed.success && parsed.output.kind === 'clip') return parsed.output;
  throw new Error('the saved panel state has no clip and checkpoints to restore');
}

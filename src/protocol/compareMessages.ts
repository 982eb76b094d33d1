// The Compare panel's messages between the extension host and its webview. The same handshake as
// the Analysis panel (`ready` → `init` with the whole state); runs, results and failures name
// their subject. Exports, saves and errors are the Analysis panel's messages, validated by the
// same parser (`parseWebviewMessage`), so both panels accept exactly the same files.
import type { AnalysisResult } from './analysisResult';
import { SUBJECT_KEYS, type ComparisonResult, type SubjectKey } from './comparisonResult';
import type { ArControls } from './contract';
import {
  InvalidMessageError,
  parseWebviewMessage,
  type AnalysisViewState,
  type WebviewToHost,
} from './panelMessages';

/** Where a Compare panel's comparison comes from; saved in the webview state for revival. */
export type CompareOrigin =
  /** A clip run by two subjects (re-runs are possible while the clip and the models exist). */
  | { kind: 'clip'; clipPath: string; models: Record<SubjectKey, string> }
  /** A self-contained HTML report (read-only, no host). */
  | { kind: 'report' };

/** The Compare panel's full state, sent in reply to `ready`. */
export interface CompareInit {
  origin: CompareOrigin;
  /** Null while the first comparison is still running. */
  comparison: ComparisonResult | null;
  canRun: boolean;
  readOnlyReason: string | null;
  debounceMs: number;
}

/** What the Compare webview keeps with `vscode.setState`. */
export interface CompareViewState {
  origin: CompareOrigin;
  /** The comparison with the latest result of each subject. */
  comparison: ComparisonResult | null;
  /** One set of controls drives both subjects. */
  linked: boolean;
  /** Each subject's Analysis view state (controls being edited, pickers). */
  subjects: Partial<Record<SubjectKey, Partial<AnalysisViewState>>>;
}

/** Messages the Compare webview sends to the host. */
export type CompareToHost =
  /** Re-run one subject with these controls; only its latest `requestId` is answered. */
  | { type: 'run'; subject: SubjectKey; requestId: number; controls: ArControls }
  /** Everything else is the Analysis panel's message of the same type. */
  | Extract<
      WebviewToHost,
      { type: 'ready' | 'exportFile' | 'saveResult' | 'exportReport' | 'webviewError' }
    >;

/** Messages the host sends to the Compare webview. */
export type HostToCompare =
  /** The full state (reply to `ready`, and when the host replaces the comparison). */
  | { type: 'init'; init: CompareInit }
  /** The run for a subject's `requestId` started. */
  | { type: 'runStarted'; subject: SubjectKey; requestId: number }
  /** A subject's latest run finished. */
  | { type: 'runResult'; subject: SubjectKey; requestId: number; result: AnalysisResult }
  /** A subject's latest run failed or was cancelled. */
  | {
      type: 'runFailed';
      subject: SubjectKey;
      requestId: number;
      message: string;
      cancelled: boolean;
    }
  /** An export or save finished: the path written, or null when the user cancelled. */
  | { type: 'saved'; requestId: number; path: string | null; error: string | null };

/** Validates a message from the Compare webview; throws InvalidMessageError otherwise. */
export function parseCompareMessage(raw: unknown): CompareToHost {
  const subject = (raw as { subject?: unknown } | null)?.subject;
  const message = parseWebviewMessage(raw);
  switch (message.type) {
    case 'run':
      if (!(SUBJECT_KEYS as readonly unknown[]).includes(subject)) {
        throw new InvalidMessageError('subject must be "a" or "b"');
      }
      return { ...message, subject: subject as SubjectKey };
    case 'saveDefaults':
      throw new InvalidMessageError('the Compare panel does not save workspace defaults');
    default:
      return message;
  }
}

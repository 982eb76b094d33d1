// A panel's link to its host: the VS Code webview API when it exists, otherwise the HTML report's
// embedded start data (read-only; exports become browser downloads). Shared by every panel.
import type {
  AnalysisViewState,
  ExportFile,
  HostToWebview,
  PanelInit,
  WebviewToHost,
} from '../../src/protocol/panelMessages';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What a panel needs from wherever it runs (`Out`: its messages, `In`: the host's). */
export interface WebviewHost<Out, In, State> {
  /** True inside VS Code (a host answers messages); false in a report. */
  readonly hasHost: boolean;
  post(message: Out): void;
  loadState(): Partial<State> | undefined;
  saveState(state: State): void;
  /** Starts the handshake; `onMessage` receives `init` and everything after it. */
  start(onMessage: (message: In) => void): void;
  /** Saves a file the browser way (report mode only). */
  download(file: ExportFile): void;
}

/** The Analysis panel's host. */
export type PanelHost = WebviewHost<WebviewToHost, HostToWebview, AnalysisViewState>;

const ANALYSIS_HOST_TYPES = ['init', 'runStarted', 'runResult', 'runFailed', 'saved'];

function stateOf<State>(raw: unknown): Partial<State> | undefined {
  return typeof raw === 'object' && raw !== null ? raw : undefined;
}

/** Triggers a browser download of a file (blob URL, revoked after the click). */
export function browserDownload(file: ExportFile): void {
  const bytes =
    file.encoding === 'base64'
      ? Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0))
      : new TextEncoder().encode(file.data);
  const type =
    file.format === 'png' ? 'image/png' : file.format === 'csv' ? 'text/csv' : 'application/json';
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.fileName;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Connects a panel: VS Code's API when it exists (messages of `hostTypes` are handed on, and
 * `ready` starts the handshake), otherwise a report, whose embedded JSON `reportInit` turns into
 * the first message (read-only: nothing is posted, exports become downloads).
 */
export function connectWebviewHost<Out, In, State>(
  hostTypes: readonly string[],
  reportInit: (embedded: unknown) => In,
): WebviewHost<Out, In, State> {
  const acquire = (globalThis as { acquireVsCodeApi?: () => VsCodeApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') {
    const api = acquire();
    return {
      hasHost: true,
      post: (message) => api.postMessage(message),
      loadState: () => stateOf(api.getState()),
      saveState: (state) => api.setState(state),
      start(onMessage) {
        window.addEventListener('message', (event: MessageEvent<unknown>) => {
          const type: unknown = (event.data as { type?: unknown } | null)?.type;
          if (typeof type === 'string' && hostTypes.includes(type)) onMessage(event.data as In);
        });
        api.postMessage({ type: 'ready' });
      },
      download: browserDownload,
    };
  }
  return {
    hasHost: false,
    post: () => undefined,
    loadState: () => undefined,
    saveState: () => undefined,
    start(onMessage) {
      const data = document.getElementById(REPORT_DATA_ELEMENT_ID)?.textContent ?? 'null';
      const embedded = JSON.parse(data) as unknown;
      if (embedded === null) throw new Error(`no embedded #${REPORT_DATA_ELEMENT_ID} data`);
      onMessage(reportInit(embedded));
    },
    download: browserDownload,
  };
}

/** The Analysis panel's host: VS Code, or report mode with `canRun` off. */
export function connectHost(): PanelHost {
  return connectWebviewHost(ANALYSIS_HOST_TYPES, (init) => ({
    type: 'init',
    init: { ...(init as PanelInit), canRun: false },
  }));
}

// The panel's link to its host: the VS Code webview API when it exists, otherwise the HTML
// report's embedded PanelInit (read-only; exports become browser downloads).
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

/** What the panel needs from wherever it runs. */
export interface PanelHost {
  /** True inside VS Code (a host answers messages); false in a report. */
  readonly hasHost: boolean;
  post(message: WebviewToHost): void;
  loadState(): Partial<AnalysisViewState> | undefined;
  saveState(state: AnalysisViewState): void;
  /** Starts the handshake; `onMessage` receives `init` and everything after it. */
  start(onMessage: (message: HostToWebview) => void): void;
  /** Saves a file the browser way (report mode only). */
  download(file: ExportFile): void;
}

function isHostMessage(data: unknown): data is HostToWebview {
  if (typeof data !== 'object' || data === null) return false;
  const type = (data as { type?: unknown }).type;
  return (
    type === 'init' ||
    type === 'runStarted' ||
    type === 'runResult' ||
    type === 'runFailed' ||
    type === 'saved'
  );
}

function stateOf(raw: unknown): Partial<AnalysisViewState> | undefined {
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

/** The VS Code host: messages through `acquireVsCodeApi`. */
function vscodeHost(api: VsCodeApi): PanelHost {
  return {
    hasHost: true,
    post: (message) => api.postMessage(message),
    loadState: () => stateOf(api.getState()),
    saveState: (state) => api.setState(state),
    start(onMessage) {
      window.addEventListener('message', (event: MessageEvent<unknown>) => {
        if (isHostMessage(event.data)) onMessage(event.data);
      });
      api.postMessage({ type: 'ready' } satisfies WebviewToHost);
    },
    download: browserDownload,
  };
}

/** A report: the PanelInit embedded in the page; errors only surface in the page itself. */
function reportHost(): PanelHost {
  return {
    hasHost: false,
    post: () => undefined,
    loadState: () => undefined,
    saveState: () => undefined,
    start(onMessage) {
      const data = document.getElementById(REPORT_DATA_ELEMENT_ID)?.textContent ?? 'null';
      const init = JSON.parse(data) as PanelInit | null;
      if (init === null) throw new Error(`no embedded #${REPORT_DATA_ELEMENT_ID} data`);
      onMessage({ type: 'init', init: { ...init, canRun: false } });
    },
    download: browserDownload,
  };
}

/** Picks the host: VS Code when its API exists, otherwise report mode. */
export function connectHost(): PanelHost {
  const acquire = (globalThis as { acquireVsCodeApi?: () => VsCodeApi }).acquireVsCodeApi;
  return typeof acquire === 'function' ? vscodeHost(acquire()) : reportHost();
}

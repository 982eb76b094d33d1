// The Compare panel's link to its host: the VS Code webview API, or in an HTML report the
// embedded CompareInit (read-only; exports become browser downloads).
import type {
  CompareInit,
  CompareToHost,
  CompareViewState,
  HostToCompare,
} from '../../src/protocol/compareMessages';
import type { ExportFile } from '../../src/protocol/panelMessages';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';
import { browserDownload } from '../analysis/hostChannel';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What the Compare panel needs from wherever it runs. */
export interface CompareChannel {
  readonly hasHost: boolean;
  post(message: CompareToHost): void;
  loadState(): Partial<CompareViewState> | undefined;
  saveState(state: CompareViewState): void;
  start(onMessage: (message: HostToCompare) => void): void;
  download(file: ExportFile): void;
}

const HOST_TYPES = new Set(['init', 'runStarted', 'runResult', 'runFailed', 'saved']);

/** Picks the host: VS Code when its API exists, otherwise report mode. */
export function connectCompareHost(): CompareChannel {
  const acquire = (globalThis as { acquireVsCodeApi?: () => VsCodeApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') {
    const api = acquire();
    return {
      hasHost: true,
      post: (message) => api.postMessage(message),
      loadState: () => {
        const raw = api.getState();
        return typeof raw === 'object' && raw !== null ? raw : undefined;
      },
      saveState: (state) => api.setState(state),
      start(onMessage) {
        window.addEventListener('message', (event: MessageEvent<unknown>) => {
          const type = (event.data as { type?: unknown } | null)?.type;
          if (typeof type === 'string' && HOST_TYPES.has(type)) {
            onMessage(event.data as HostToCompare);
          }
        });
        api.postMessage({ type: 'ready' } satisfies CompareToHost);
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
      const init = JSON.parse(data) as CompareInit | null;
      if (init === null) throw new Error(`no embedded #${REPORT_DATA_ELEMENT_ID} data`);
      onMessage({ type: 'init', init: { ...init, canRun: false } });
    },
    download: browserDownload,
  };
}

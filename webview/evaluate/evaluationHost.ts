// The Evaluate panel's link to its host: the VS Code webview API when it exists, otherwise the
// HTML report's embedded EvaluationInit (read-only; exports become browser downloads).
import type {
  EvaluationInit,
  EvaluationToHost,
  EvaluationViewState,
  HostToEvaluation,
} from '../../src/protocol/evaluationMessages';
import type { ExportFile } from '../../src/protocol/panelMessages';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';
import { browserDownload } from '../analysis/hostChannel';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What the Evaluate panel needs from wherever it runs. */
export interface EvaluationHost {
  /** True inside VS Code (a host answers messages); false in a report. */
  readonly hasHost: boolean;
  post(message: EvaluationToHost): void;
  loadState(): Partial<EvaluationViewState> | undefined;
  saveState(state: EvaluationViewState): void;
  /** Starts the handshake; `onMessage` receives `init` and everything after it. */
  start(onMessage: (message: HostToEvaluation) => void): void;
  download(file: ExportFile): void;
}

const HOST_TYPES: readonly string[] = ['init', 'progress', 'finished', 'saved'];

function isHostMessage(data: unknown): data is HostToEvaluation {
  return (
    typeof data === 'object' &&
    data !== null &&
    HOST_TYPES.includes(String((data as { type?: unknown }).type))
  );
}

/** Picks the host: VS Code when its API exists, otherwise the report's embedded data. */
export function connectEvaluationHost(): EvaluationHost {
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
          if (isHostMessage(event.data)) onMessage(event.data);
        });
        api.postMessage({ type: 'ready' } satisfies EvaluationToHost);
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
      const init = JSON.parse(data) as EvaluationInit | null;
      if (init === null) throw new Error(`no embedded #${REPORT_DATA_ELEMENT_ID} data`);
      onMessage({ type: 'init', init: { ...init, canOpenClips: false } });
    },
    download: browserDownload,
  };
}

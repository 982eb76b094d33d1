// The Analysis panel's end of its channel: VS Code, or a report's embedded PanelInit with runs off.
import { INIT } from '../../src/protocol/channel';
import type {
  AnalysisViewState,
  HostToWebview,
  PanelInit,
  WebviewToHost,
} from '../../src/protocol/panelMessages';
import { connectWebviewHost, type WebviewHost } from '../kit/hostChannel';

/** What the Analysis panel needs from wherever it runs. */
export type PanelHost = WebviewHost<WebviewToHost, HostToWebview, AnalysisViewState>;

/** Picks the host: VS Code when its API exists, otherwise report mode with runs off. */
export function connectAnalysisHost(): PanelHost {
  return connectWebviewHost<WebviewToHost, HostToWebview, AnalysisViewState>({
    hostTypes: ['init', 'runStarted', 'runResult', 'runFailed', 'saved'],
    reportInit: (init) => ({ type: INIT, init: { ...(init as PanelInit), canRun: false } }),
  });
}

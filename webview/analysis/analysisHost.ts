// The Analysis panel's end of its channel: VS Code, or a report's embedded PanelInit with runs off.
import { INIT } from '../../src/protocol/channel';
import {
  HostToWebviewSchema,
  type AnalysisViewState,
  type HostToWebview,
  type WebviewToHost,
} from '../../src/protocol/panelMessages';
import { connectWebviewHost, type WebviewHost } from '../kit/hostChannel';

/** What the Analysis panel needs from wherever it runs. */
export type PanelHost = WebviewHost<WebviewToHost, HostToWebview, AnalysisViewState>;

/** Picks the host: VS Code when its API exists, otherwise report mode with runs off. */
export function connectAnalysisHost(): PanelHost {
  return connectWebviewHost<WebviewToHost, HostToWebview, AnalysisViewState>({
    hostSchema: HostToWebviewSchema,
    reportInit: (init) => ({ type: INIT, init: { ...(init as object), canRun: false } }),
  });
}

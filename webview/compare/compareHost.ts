// The Compare panel's end of its channel: VS Code, or a report's embedded CompareInit, where
// nothing re-runs.
import { INIT } from '../../src/protocol/channel';
import {
  HostToCompareSchema,
  type CompareToHost,
  type CompareViewState,
  type HostToCompare,
} from '../../src/protocol/compareMessages';
import { connectWebviewHost, type WebviewHost } from '../kit/hostChannel';

/** What the Compare panel needs from wherever it runs. */
export type CompareHost = WebviewHost<CompareToHost, HostToCompare, CompareViewState>;

/** Picks the host: VS Code when its API exists, otherwise report mode with runs off. */
export function connectCompareHost(): CompareHost {
  return connectWebviewHost<CompareToHost, HostToCompare, CompareViewState>({
    hostSchema: HostToCompareSchema,
    reportInit: (init) => ({ type: INIT, init: { ...(init as object), canRun: false } }),
  });
}

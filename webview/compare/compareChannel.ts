// The Compare panel's link to its host (see analysis/hostChannel.ts): VS Code, or a report's
// embedded CompareInit, where nothing re-runs.
import type {
  CompareInit,
  CompareToHost,
  CompareViewState,
  HostToCompare,
} from '../../src/protocol/compareMessages';
import { connectWebviewHost, type WebviewHost } from '../kit/hostChannel';

/** What the Compare panel needs from wherever it runs. */
export type CompareChannel = WebviewHost<CompareToHost, HostToCompare, CompareViewState>;

const HOST_TYPES: readonly HostToCompare['type'][] = [
  'init',
  'runStarted',
  'runResult',
  'runFailed',
  'saved',
];

/** Picks the host: VS Code when its API exists, otherwise report mode with runs off. */
export function connectCompareHost(): CompareChannel {
  return connectWebviewHost(HOST_TYPES, (init) => ({
    type: 'init',
    init: { ...(init as CompareInit), canRun: false },
  }));
}

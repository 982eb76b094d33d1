// The Evaluate panel's link to its host (see analysis/hostChannel.ts): VS Code, or a report's
// embedded EvaluationInit, where clips cannot be opened.
import type {
  EvaluationInit,
  EvaluationToHost,
  EvaluationViewState,
  HostToEvaluation,
} from '../../src/protocol/evaluationMessages';
import { connectWebviewHost, type WebviewHost } from '../kit/hostChannel';

/** What the Evaluate panel needs from wherever it runs. */
export type EvaluationHost = WebviewHost<EvaluationToHost, HostToEvaluation, EvaluationViewState>;

const HOST_TYPES: readonly HostToEvaluation['type'][] = ['init', 'progress', 'finished', 'saved'];

/** Picks the host: VS Code when its API exists, otherwise the report's embedded data. */
export function connectEvaluationHost(): EvaluationHost {
  return connectWebviewHost(HOST_TYPES, (init) => ({
    type: 'init',
    init: { ...(init as EvaluationInit), canOpenClips: false },
  }));
}

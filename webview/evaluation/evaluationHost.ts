// The Evaluate panel's end of its channel: VS Code, or a report's embedded EvaluationInit, where
// clips cannot be opened.
import { INIT } from '../../src/protocol/channel';
import {
  HostToEvaluationSchema,
  type EvaluationToHost,
  type EvaluationViewState,
  type HostToEvaluation,
} from '../../src/protocol/evaluationMessages';
import { connectWebviewHost, type WebviewHost } from '../kit/hostChannel';

/** What the Evaluate panel needs from wherever it runs. */
export type EvaluationHost = WebviewHost<EvaluationToHost, HostToEvaluation, EvaluationViewState>;

/** Picks the host: VS Code when its API exists, otherwise the report's embedded data. */
export function connectEvaluationHost(): EvaluationHost {
  return connectWebviewHost<EvaluationToHost, HostToEvaluation, EvaluationViewState>({
    hostSchema: HostToEvaluationSchema,
    reportInit: (init) => ({
      type: INIT,
      init: { ...(init as object), canOpenClips: false },
    }),
  });
}

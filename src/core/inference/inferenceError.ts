// InferenceError and its codes: why an inference request failed (no provider, crashed worker,
// time-out, cancel), with a message a user can read.
import type { ProviderAttempt } from '../../protocol/executionProviders';

/** Why an inference request failed; stable across messages so callers can branch. */
export type InferenceErrorCode =
  /** No execution provider in the chain could open a session (see `attempts`). */
  | 'PROVIDER_UNAVAILABLE'
  /** The worker process died (native crash, killed, out of memory) while handling the request. */
  | 'WORKER_CRASHED'
  /** The request waited or ran longer than its time limit; the worker was replaced. */
  | 'TIMEOUT'
  /** Too many requests were already waiting for this checkpoint's worker. */
  | 'QUEUE_FULL'
  /** The caller cancelled the request (a running one kills and replaces the worker). */
  | 'CANCELLED'
  /** The worker was disposed before the request finished. */
  | 'DISPOSED'
  /** The worker reported an unexpected error (onnxruntime's message is kept). */
  | 'WORKER_FAILED';

/** An inference failure with a message a user can read. */
export class InferenceError extends Error {
  override name = 'InferenceError';

  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    /** For PROVIDER_UNAVAILABLE: every provider tried and why it failed. */
    readonly attempts: ProviderAttempt[] = [],
    /** The last lines the worker wrote to stderr, when they may explain the failure. */
    readonly stderrTail?: string,
  ) {
    super(message);
  }
}

/** Whether a value is an InferenceError, optionally of one code. */
export function isInferenceError(
  value: unknown,
  code?: InferenceErrorCode,
): value is InferenceError {
  return value instanceof InferenceError && (code === undefined || value.code === code);
}

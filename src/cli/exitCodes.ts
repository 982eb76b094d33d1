// The `mosear-lens` exit codes and the mapping from the engine's errors to them. A user error is
// printed as one message without a stack trace; only an unexpected failure (a bug) shows one.
import { AnalysisResultError } from '../protocol/analysisResultReader';
import { ContractError } from '../core/contract/contractError';
import { DecodeError } from '../core/decode/decodeError';
import { EngineError } from '../core/engine/engineError';
import { InferenceError } from '../core/inference/inferenceError';
import { OnnxModelError } from '../core/onnx/modelProto';
import { BenchmarkError } from '../core/evaluation/benchmarkRecords';
import { ManifestError } from '../core/evaluation/manifest';
import { PartnerError } from '../core/engine/counterfactualPartners';
import { SweepError } from '../core/evaluation/evaluationSettings';
import { ConflictError } from '../core/conflicts/conflictPairs';

/** Exit codes, documented in README.md (CLI section) and `mosear-lens --help`. */
export const EXIT = {
  ok: 0,
  /** An unexpected failure (a bug): the message and stack trace are printed. */
  internal: 1,
  /** Bad command line: unknown option, missing or malformed value. */
  usage: 2,
  /** The clip: missing, unreadable, no video stream, no frame, no audio where audio is required. */
  clip: 3,
  /** The model: missing, not ONNX, not following the contract. */
  model: 4,
  /** The machine: no decoder (ffmpeg or the wasm core), execution provider unavailable, inference worker crashed or timed out. */
  runtime: 5,
  /** The output file could not be written. */
  output: 6,
  /** Interrupted (Ctrl+C); SIGTERM and SIGHUP end the same way with 128 + their number. */
  interrupted: 130,
} as const;

const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** The shell's code for a run ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: keyof typeof SIGNAL_NUMBERS): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** A command-line mistake the user can fix. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The output file could not be written. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** The exit code for an error, and whether it is a user error (no stack trace). */
export function exitCodeFor(error: unknown): { code: number; userError: boolean } {
  const user = (code: number) => ({ code, userError: true });
  if (error instanceof UsageError) return user(EXIT.usage);
  if (error instanceof OutputError) return user(EXIT.output);
  if (error instanceof DecodeError) {
    switch (error.code) {
      case 'FFMPEG_NOT_FOUND':
      case 'DECODER_MISSING':
      case 'TIMEOUT':
        return user(EXIT.runtime);
      case 'CANCELLED':
        return user(EXIT.interrupted);
      case 'BAD_SPEC':
        return user(EXIT.model);
      default:
        return user(EXIT.clip);
    }
  }
  if (error instanceof EngineError) {
    switch (error.code) {
      case 'NO_AUDIO':
        return user(EXIT.clip);
      case 'MODEL_NOT_FOUND':
        return user(EXIT.model);
      case 'BAD_SETTINGS':
        return user(EXIT.usage);
    }
  }
  if (error instanceof ContractError || error instanceof OnnxModelError) return user(EXIT.model);
  if (error instanceof BenchmarkError) {
    return (error as { code?: unknown }).code === 'CANCELLED'
      ? user(EXIT.interrupted)
      : user(EXIT.usage);
  }
  if (
    error instanceof ManifestError ||
    error instanceof SweepError ||
    error instanceof PartnerError
  )
    return user(EXIT.usage);
  if (error instanceof AnalysisResultError) return user(EXIT.clip);
  if (error instanceof ConflictError) {
    // One label or no usable clip: the source cannot make a conflict set (like a bad manifest).
    if (error.code === 'OUTPUT_EXISTS') return user(EXIT.output);
    return error.code === 'CANCELLED' ? user(EXIT.interrupted) : user(EXIT.usage);
  }
  if (error instanceof InferenceError) {
    return error.code === 'CANCELLED' ? user(EXIT.interrupted) : user(EXIT.runtime);
  }
  return { code: EXIT.internal, userError: false };
}

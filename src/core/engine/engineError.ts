// EngineError and its codes: an analysis the engine refused before or around the model run.
/** Why the engine refused an analysis before or around the model run. */
export type EngineErrorCode =
  /** The model file does not exist or is not a file. */
  | 'MODEL_NOT_FOUND'
  /** The clip has no audio stream and the model's metadata does not allow silence. */
  | 'NO_AUDIO'
  /** The intervention settings cannot be fed to the graph (the message names the input). */
  | 'BAD_SETTINGS';

/** An analysis the engine refused, with a message a user can act on. */
export class EngineError extends Error {
  override name = 'EngineError';

  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

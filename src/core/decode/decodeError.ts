// DecodeError and its codes: why a clip could not be probed or decoded, in words a user can act on.
/** Why a clip could not be probed or decoded; stable across messages so callers can branch. */
export type DecodeErrorCode =
  /** ffmpeg or ffprobe is not at the configured path or on PATH. */
  | 'FFMPEG_NOT_FOUND'
  /** The clip file does not exist. */
  | 'FILE_NOT_FOUND'
  /** The file has no (non-cover-art) video stream. */
  | 'NO_VIDEO'
  /** ffprobe/ffmpeg could not read the file (not a media file, corrupt, no duration, directory). */
  | 'UNREADABLE'
  /**
   * The file is a playlist or a script naming other files (an HLS .m3u8, an ffconcat script, a
   * DASH manifest), whatever its extension; neither decoder follows one.
   */
  | 'PLAYLIST'
  /** A frame time yielded no frame, even with the spec's tail fallback (e.g. a truncated file). */
  | 'NO_FRAME'
  /** A process ran past its time limit and was killed. */
  | 'TIMEOUT'
  /** A process wrote far more than the spec's byte count and was killed. */
  | 'OUTPUT_LIMIT'
  /** The caller's AbortSignal fired; every process was killed. */
  | 'CANCELLED'
  /** The decode spec itself is invalid (a programming error in the caller). */
  | 'BAD_SPEC'
  /** The file is larger than the bundled WebAssembly decoder accepts (it holds clips in memory). */
  | 'TOO_LARGE'
  /** The bundled ffmpeg.wasm core or its worker script is not where the decoder looks (packaging). */
  | 'DECODER_MISSING';

/** A decode failure with a user-readable message: the file name, what went wrong, ffmpeg's own words. */
export class DecodeError extends Error {
  override name = 'DecodeError';

  constructor(
    readonly code: DecodeErrorCode,
    message: string,
    /** The clip's path (absolute), when the error concerns one clip. */
    readonly path?: string,
    /** The last lines ffmpeg/ffprobe wrote to stderr, when a process was involved. */
    readonly stderrTail?: string,
  ) {
    super(message);
  }
}

/** Whether a value is a DecodeError, optionally of one code. */
export function isDecodeError(value: unknown, code?: DecodeErrorCode): value is DecodeError {
  return value instanceof DecodeError && (code === undefined || value.code === code);
}

// Which decoder analyses a clip: the `decoder` setting / `--decoder` flag, Restricted Mode, and
// whether ffmpeg is installed. Hosts (CLI, extension) call `selectClipDecoder` and log its reason.
import type { ClipDecoder } from './clipDecoder';
import { DecodeError, isDecodeError } from './decodeError';
import {
  processLookupEnvironment,
  resolveFfmpegExecutables,
  type LookupEnvironment,
} from './executableLookup';
import { SystemFfmpegDecoder, type SystemFfmpegDecoderOptions } from './systemFfmpegDecoder';
import { WasmFfmpegDecoder, type WasmFfmpegDecoderOptions } from './wasmFfmpegDecoder';

/** The user's choice: `auto` = the system ffmpeg when it is found, else the bundled wasm decoder. */
export type DecoderChoice = 'auto' | 'system' | 'wasm';

/** The accepted values of the setting and the flag, in display order. */
export const DECODER_CHOICES: readonly DecoderChoice[] = ['auto', 'system', 'wasm'];

/** What the selection looks at. */
export interface DecoderSelectionOptions {
  choice: DecoderChoice;
  /**
   * Restricted Mode (an untrusted workspace): always the bundled wasm decoder, and no ffmpeg path
   * from settings is looked at or run.
   */
  restricted?: boolean | undefined;
  /** Options of the system backend (explicit ffmpeg/ffprobe paths, process limits). */
  system?: Omit<SystemFfmpegDecoderOptions, 'lookup'> | undefined;
  /** Options of the wasm backend; `workerScript` is required. */
  wasm: WasmFfmpegDecoderOptions;
  /** PATH and platform to search for ffmpeg (default: this process's, read at call time). */
  lookup?: LookupEnvironment | undefined;
}

/** The chosen decoder and why, for logs and the result's header. */
export interface DecoderSelection {
  decoder: ClipDecoder;
  backend: ClipDecoder['backend'];
  reason: string;
}

/** Parses a `--decoder` value; throws an Error listing the accepted values. */
export function parseDecoderChoice(value: string): DecoderChoice {
  const choice = DECODER_CHOICES.find((c) => c === value.trim().toLowerCase());
  if (choice === undefined) {
    throw new Error(`--decoder must be one of ${DECODER_CHOICES.join(', ')}; got "${value}"`);
  }
  return choice;
}

/**
 * Picks the backend. `system` requires ffmpeg and ffprobe (FFMPEG_NOT_FOUND otherwise, never a
 * silent switch); `wasm` requires the bundled core (DECODER_MISSING otherwise); `auto` uses the
 * system ffmpeg when both executables are on PATH, else wasm — except that an explicitly
 * configured ffmpeg/ffprobe path that does not exist is an error, not a reason to switch.
 */
export function selectClipDecoder(options: DecoderSelectionOptions): DecoderSelection {
  const wasm = (reason: string): DecoderSelection => {
    const decoder = new WasmFfmpegDecoder(options.wasm);
    decoder.files(); // DECODER_MISSING now rather than at the first clip
    return { decoder, backend: 'wasm', reason };
  };
  if (options.restricted === true) {
    return wasm(
      options.choice === 'wasm'
        ? 'Restricted Mode: the bundled ffmpeg.wasm decoder'
        : `Restricted Mode: the bundled ffmpeg.wasm decoder (the "${options.choice}" choice applies in trusted workspaces only)`,
    );
  }
  if (options.choice === 'wasm') return wasm('decoder "wasm": the bundled ffmpeg.wasm decoder');

  const lookup = options.lookup ?? processLookupEnvironment();
  const system = options.system ?? {};
  const configured = [system.ffmpegPath, system.ffprobePath].some(
    (p) => p !== undefined && p !== '',
  );
  try {
    const found = resolveFfmpegExecutables(system, lookup);
    return {
      decoder: new SystemFfmpegDecoder({ ...system, lookup }),
      backend: 'system',
      reason: `${options.choice}: system ffmpeg at ${found.ffmpeg}`,
    };
  } catch (error) {
    if (!isDecodeError(error, 'FFMPEG_NOT_FOUND')) throw error;
    if (options.choice === 'system' || configured) {
      throw new DecodeError(
        'FFMPEG_NOT_FOUND',
        `${error.message} Or choose the bundled ffmpeg.wasm decoder (--decoder wasm, or the "mosear.decode.decoder" setting).`,
      );
    }
    return wasm(
      'decoder "auto": no ffmpeg/ffprobe on PATH, so the bundled ffmpeg.wasm decoder ' +
        '(install ffmpeg for faster decoding and clips over the size cap)',
    );
  }
}

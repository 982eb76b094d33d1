// Clip decoding: the decoder interface, the system-ffmpeg backend and the spec's pure helpers.
export * from './clipDecoder';
export * from './decodeError';
export { SystemFfmpegDecoder } from './systemFfmpegDecoder';
export type { DecodeProcessEvent, SystemFfmpegDecoderOptions } from './systemFfmpegDecoder';
export { findOnPath, processLookupEnvironment, resolveFfmpegExecutables } from './executableLookup';
export type { FfmpegExecutables, LookupEnvironment } from './executableLookup';
export {
  TAIL_RESEEK_SECONDS,
  audioArgs,
  audioWindowStartSeconds,
  formatSeconds,
  frameArgs,
  frameTimesSeconds,
  parseProbe,
  probeArgs,
  videoFilter,
} from './mosearDecode1';

// Clip decoding: the decoder interface, the system-ffmpeg and ffmpeg.wasm backends, the choice
// between them and the spec's pure helpers.
export * from './clipDecoder';
export * from './decodeError';
export { SystemFfmpegDecoder } from './systemFfmpegDecoder';
export type { DecodeProcessEvent, SystemFfmpegDecoderOptions } from './systemFfmpegDecoder';
export {
  WASM_DEFAULT_MAX_FILE_BYTES,
  WASM_DEFAULT_TIMEOUT_MS,
  WASM_WORKER_BUNDLE,
  WasmFfmpegDecoder,
  resolveWasmCoreFiles,
} from './wasmFfmpegDecoder';
export type { WasmCoreFiles, WasmFfmpegDecoderOptions } from './wasmFfmpegDecoder';
export { DECODER_CHOICES, parseDecoderChoice, selectClipDecoder } from './decoderSelection';
export type { DecoderChoice, DecoderSelection, DecoderSelectionOptions } from './decoderSelection';
export { findOnPath, processLookupEnvironment, resolveFfmpegExecutables } from './executableLookup';
export type { FfmpegExecutables, LookupEnvironment } from './executableLookup';
export * from './mosearDecode1';

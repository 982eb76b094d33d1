// An on-disk cache of decoded clip tensors, so repeated evaluations of a split skip ffmpeg.
// Entries are keyed by the clip's identity (absolute path, size, mtime), the decode spec and the
// decoder's identity (backend and its executables); a changed file or ffmpeg misses the cache.
// An entry also keeps the decode's facts (probe, frame times, audio window), so an analysis can
// take a cached clip instead of decoding it (`decoded`).
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  parseDecodeCacheHeader,
  type DecodeCacheHeader,
  type DecodedClipFacts,
} from '../../protocol/decodeCacheEntry';
import type { ClipDecodeSpec, DecodedClip } from '../decode/clipDecoder';
import type { SystemFfmpegDecoder } from '../decode/systemFfmpegDecoder';
import { writeFileAtomic } from '../io/atomicWrite';

/** Bump when the file layout or what a decoder produces for a spec changes. */
const CACHE_FORMAT = 'mosear-decode-cache-2';
const MAGIC = Buffer.from(`${CACHE_FORMAT}\n`, 'latin1');

/** The tensors a cached decode gives back. */
export interface CachedTensors {
  /** float32 [T, 3, H, W] in [0, 1]: stored as bytes (the decoder's values are bytes / 255). */
  frames: Float32Array;
  /** float32 [S], or null when the clip has no audio stream. */
  audio: Float32Array | null;
  /** The decode's facts besides the tensors. */
  clip: DecodedClipFacts;
}

/** A decoded clip's facts besides its tensors and timings, as an entry keeps them. */
export function decodedClipFacts(clip: DecodedClip): DecodedClipFacts {
  const { specName, backend, source, frameTimesSeconds, frameFromTail, audioStartSeconds } = clip;
  return { specName, backend, source, frameTimesSeconds, frameFromTail, audioStartSeconds };
}

/** Decoded clips on disk under `dir`, one file per (clip, spec, decoder). */
export class DecodeCache {
  /**
   * @param dir folder for the entries (created on first write)
   * @param decoderIdentity what makes two decoders produce the same tensors (backend, executables)
   */
  constructor(
    readonly dir: string,
    private readonly decoderIdentity: Record<string, unknown>,
  ) {}

  private async identity(path: string, spec: ClipDecodeSpec): Promise<Record<string, unknown>> {
    const absolute = resolve(path);
    const info = await stat(absolute);
    return {
      format: CACHE_FORMAT,
      path: absolute,
      size: info.size,
      mtimeMs: info.mtimeMs,
      spec,
      decoder: this.decoderIdentity,
    };
  }

  private static keyOf(identity: Record<string, unknown>): string {
    return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  }

  /** The cached tensors of a clip, or undefined on a miss (including any unreadable entry). */
  async get(path: string, spec: ClipDecodeSpec): Promise<CachedTensors | undefined> {
    let identity: Record<string, unknown>;
    try {
      identity = await this.identity(path, spec);
    } catch {
      return undefined; // the clip itself is unreadable: let the decoder report it
    }
    const key = DecodeCache.keyOf(identity);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, `${key}.bin`));
    } catch {
      return undefined;
    }
    return parseEntry(bytes, key, spec);
  }

  /**
   * A cached clip as the decoder would have given it (its timings: the read, no process), or
   * undefined on a miss: what an analysis takes instead of decoding the clip again.
   */
  async decoded(path: string, spec: ClipDecodeSpec): Promise<DecodedClip | undefined> {
    const started = performance.now();
    const hit = await this.get(path, spec);
    if (hit === undefined) return undefined;
    const totalMs = performance.now() - started;
    return {
      ...hit.clip,
      spec,
      frames: hit.frames,
      audio: hit.audio,
      timings: { probeMs: 0, framesMs: 0, audioMs: 0, totalMs, processes: 0 },
    };
  }

  /** Stores a clip's tensors (atomically: a partial write is never read back). */
  async put(path: string, spec: ClipDecodeSpec, tensors: CachedTensors): Promise<void> {
    const identity = await this.identity(path, spec);
    const key = DecodeCache.keyOf(identity);
    const header: DecodeCacheHeader = {
      key,
      identity,
      frameValues: tensors.frames.length,
      audioSamples: tensors.audio === null ? null : tensors.audio.length,
      clip: tensors.clip,
    };
    const frames = Buffer.alloc(tensors.frames.length);
    for (let i = 0; i < tensors.frames.length; i++) {
      frames[i] = Math.round((tensors.frames[i] as number) * 255);
    }
    const audio = Buffer.alloc(4 * (tensors.audio?.length ?? 0));
    tensors.audio?.forEach((v, i) => audio.writeFloatLE(v, 4 * i));
    const headerBytes = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(
      join(this.dir, `${key}.bin`),
      Buffer.concat([MAGIC, headerBytes, frames, audio]),
    );
  }
}

/** Decodes an entry's bytes; undefined when anything is off (wrong key, spec, size). */
function parseEntry(bytes: Buffer, key: string, spec: ClipDecodeSpec): CachedTensors | undefined {
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const newline = bytes.indexOf(0x0a, MAGIC.length);
  if (newline < 0) return undefined;
  let header: DecodeCacheHeader | undefined;
  try {
    header = parseDecodeCacheHeader(
      JSON.parse(bytes.subarray(MAGIC.length, newline).toString('utf8')),
    );
  } catch {
    return undefined;
  }
  if (header === undefined) return undefined;
  const frameValues = spec.frames * 3 * spec.height * spec.width;
  const samples = header.audioSamples;
  if (header.key !== key || header.frameValues !== frameValues) return undefined;
  if (samples !== null && !audioLengthFits(samples, spec)) return undefined;
  const body = newline + 1;
  if (bytes.length !== body + frameValues + 4 * (samples ?? 0)) return undefined;
  const frames = new Float32Array(frameValues);
  // The same expression as the decoder's (byte / 255 in float64, stored as float32): bit-exact.
  for (let i = 0; i < frameValues; i++) frames[i] = (bytes[body + i] as number) / 255;
  let audio: Float32Array | null = null;
  if (samples !== null) {
    audio = new Float32Array(samples);
    const start = body + frameValues;
    for (let i = 0; i < samples; i++) audio[i] = bytes.readFloatLE(start + 4 * i);
  }
  return { frames, audio, clip: header.clip };
}

/** Whether `samples` is an audio length the spec gives: S, or minSamples..S when variable. */
function audioLengthFits(samples: number, spec: ClipDecodeSpec): boolean {
  return spec.audioLength === 'variable'
    ? samples >= (spec.minSamples ?? 1) && samples <= spec.samples
    : samples === spec.samples;
}

/** Identifies the ffmpeg build a system decode came from (paths, sizes, mtimes), for cache keys. */
export async function systemDecoderIdentity(
  decoder: SystemFfmpegDecoder,
): Promise<Record<string, unknown>> {
  const { ffmpeg, ffprobe } = decoder.executables();
  const describe = async (path: string) => {
    const info = await stat(path);
    return { path, size: info.size, mtimeMs: info.mtimeMs };
  };
  return {
    backend: decoder.backend,
    ffmpeg: await describe(ffmpeg),
    ffprobe: await describe(ffprobe),
  };
}

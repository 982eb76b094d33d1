// Decoded clips kept in memory, so re-running a clip with new intervention settings (a slider
// move) skips ffmpeg. Keyed by the file's identity (absolute path, size, mtime), the decode spec
// and the decoder: an edited file or another spec decodes again. Concurrent requests for the same
// key share one decode (a comparison runs two subjects on one clip at the same time).
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ClipDecodeSpec, ClipDecoder, DecodedClip } from '../decode/clipDecoder';

/** A decoded clip and the file identity it was decoded from. */
export interface CachedClip {
  clip: DecodedClip;
  sizeBytes: number;
  modifiedMs: number;
  /** True when this call found it in the cache. */
  cached: boolean;
  /** Time this call spent: the decode, the lookup on a hit, or the wait for a shared decode. */
  ms: number;
}

/** The most recently used decoded clips, up to `maxEntries`. */
export class ClipCache {
  private readonly entries = new Map<string, Omit<CachedClip, 'cached' | 'ms'>>();
  /** Decodes under way, by key: a second caller waits for the first's instead of decoding. */
  private readonly pending = new Map<string, Promise<Omit<CachedClip, 'cached' | 'ms'>>>();
  private decodeCount = 0;

  constructor(
    private readonly decoder: ClipDecoder,
    /** What besides the backend makes this decoder's output differ (e.g. the ffmpeg path). */
    private readonly decoderIdentity: string,
    private readonly maxEntries = 8,
  ) {}

  /** The clip's tensors, decoded now or reused. Decode errors propagate (nothing is cached). */
  async get(path: string, spec: ClipDecodeSpec, signal?: AbortSignal): Promise<CachedClip> {
    const started = performance.now();
    const absolute = resolve(path);
    let info: { size: number; mtimeMs: number };
    try {
      info = await stat(absolute);
    } catch {
      // The decoder reports a missing or unreadable file in its own words (a DecodeError); if
      // the file appeared meanwhile, its decode is returned uncached.
      this.decodeCount += 1;
      const clip = await this.decoder.decode(absolute, spec, signal);
      return { clip, sizeBytes: 0, modifiedMs: 0, cached: false, ms: performance.now() - started };
    }
    const key = JSON.stringify([
      absolute,
      info.size,
      info.mtimeMs,
      spec,
      this.decoder.backend,
      this.decoderIdentity,
    ]);
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, hit);
      return { ...hit, cached: true, ms: performance.now() - started };
    }
    const shared = this.pending.get(key);
    if (shared !== undefined) {
      try {
        return { ...(await shared), cached: true, ms: performance.now() - started };
      } catch (error) {
        // The first caller's decode failed or was cancelled by its own signal: unless this
        // caller was cancelled too, it decodes for itself below.
        if (signal?.aborted === true) throw error;
      }
    }
    const decoding = this.decode(absolute, spec, info, key, signal);
    this.pending.set(key, decoding);
    try {
      return { ...(await decoding), cached: false, ms: performance.now() - started };
    } finally {
      if (this.pending.get(key) === decoding) this.pending.delete(key);
    }
  }

  private async decode(
    absolute: string,
    spec: ClipDecodeSpec,
    info: { size: number; mtimeMs: number },
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<Omit<CachedClip, 'cached' | 'ms'>> {
    this.decodeCount += 1;
    const clip = await this.decoder.decode(absolute, spec, signal);
    const entry = { clip, sizeBytes: info.size, modifiedMs: info.mtimeMs };
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry;
  }

  /** Decodes started since this cache was made (hits and shared decodes not counted). */
  get decodes(): number {
    return this.decodeCount;
  }

  /** Decoded clips held now. */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

// Decoded clips kept in memory, so re-running a clip with new intervention settings (a slider
// move) skips ffmpeg. Keyed by the file's identity (absolute path, size, mtime), the decode spec
// and the decoder: an edited file or another spec decodes again. Concurrent requests for the same
// key share one decode (a comparison runs two subjects on one clip at the same time). A caller
// may name a store of decoded clips (an evaluation's decode cache) to read before decoding.
import { statSync } from 'node:fs';
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

/** Decoded clips kept elsewhere (src/core/evaluation/decodeCache.ts), read before decoding. */
export interface StoredDecodes {
  /** The clip as the decoder would give it for this spec, or undefined when not stored. */
  decoded(path: string, spec: ClipDecodeSpec): Promise<DecodedClip | undefined>;
}

type Entry = Omit<CachedClip, 'cached' | 'ms'>;

/** The most recently used decoded clips, up to `maxEntries`. */
export class ClipCache {
  private readonly entries = new Map<string, Entry>();
  /** Decodes under way, by key: a second caller waits for the first's instead of decoding. */
  private readonly pending = new Map<string, Promise<Entry>>();
  private decodeCount = 0;

  constructor(
    private readonly decoder: ClipDecoder,
    /** What besides the backend makes this decoder's output differ (e.g. the ffmpeg path). */
    private readonly decoderIdentity: string,
    private readonly maxEntries = 8,
  ) {}

  /**
   * The clip's tensors, decoded now or reused (from memory, or from `stored` before decoding).
   * Decode errors propagate (nothing is cached).
   */
  async get(
    path: string,
    spec: ClipDecodeSpec,
    signal?: AbortSignal,
    stored?: StoredDecodes,
  ): Promise<CachedClip> {
    const started = performance.now();
    const absolute = resolve(path);
    let info: { size: number; mtimeMs: number };
    try {
      // Sync on purpose (as AnalysisEngine.model): a re-run's key check without thread hops.
      info = statSync(absolute);
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
        const { clip, sizeBytes, modifiedMs } = await shared;
        return { clip, sizeBytes, modifiedMs, cached: true, ms: performance.now() - started };
      } catch (error) {
        // The first caller's decode failed or was cancelled by its own signal: unless this
        // caller was cancelled too, it decodes for itself below.
        if (signal?.aborted === true) throw error;
      }
    }
    const decoding = this.decode(absolute, spec, info, key, signal, stored);
    this.pending.set(key, decoding);
    try {
      const { fromStore, ...entry } = await decoding;
      return { ...entry, cached: fromStore, ms: performance.now() - started };
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
    stored: StoredDecodes | undefined,
  ): Promise<Entry & { fromStore: boolean }> {
    let clip = await stored?.decoded(absolute, spec);
    const fromStore = clip !== undefined;
    if (clip === undefined) {
      this.decodeCount += 1;
      clip = await this.decoder.decode(absolute, spec, signal);
    }
    const entry = { clip, sizeBytes: info.size, modifiedMs: info.mtimeMs };
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return { ...entry, fromStore };
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

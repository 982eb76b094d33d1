// Builds a conflict set on disk: probes the source's consistent clips (those without a video or
// an audio stream are skipped with the reason), plans the pairs (conflictPairs.ts), and for each
// pair muxes the video of one clip with the audio of the other with the system ffmpeg — streams
// copied when the container takes them, else the audio re-encoded, else both — trimmed to the
// shorter of the two, then probes the new clip for both streams. Writes `clips/`, a
// `manifest.jsonl` in the project's format (the conflict clips under the chosen subset, then the
// consistent originals, by paths relative to the folder) and `skipped.csv`. Overwriting an earlier
// set removes the clips it wrote that the new set does not (those its manifest lists as conflict
// clips in `clips/`, by the builder's file names; nothing else in the folder is touched).
import { lstat, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import * as v from 'valibot';
import { ConflictManifestRowSchema } from '../../protocol/manifestRows';
import { HeadSink, runBounded, type BoundedRunResult } from '../decode/boundedProcess';
import { checkClipFile } from '../decode/clipFile';
import { DecodeError } from '../decode/decodeError';
import { processLookupEnvironment, resolveFfmpegExecutables } from '../decode/executableLookup';
import { restrictInput } from '../decode/inputRestriction';
import { writeFileAtomic } from '../io/atomicWrite';
import { toCsv } from '../../shared/csv';
import {
  CONFLICT_CLIP_NAME,
  ConflictError,
  conflictClipName,
  conflictSubset,
  planConflictPairs,
  type ConflictPair,
  type SourceClip,
  type TruthModality,
} from './conflictPairs';
import { readLabelledSource, type SkippedItem } from './labelledClips';

/** What to build. */
export interface ConflictBuildOptions {
  /** A manifest (JSONL or CSV), a folder with one, or a folder of label subfolders. */
  source: string;
  /** The folder to write; an existing non-empty one only with `overwrite`. */
  outDir: string;
  /** The model's labels (manifest labels and subfolder names resolve against them). */
  labels: readonly string[];
  truth: TruthModality;
  pairsPerLabel: number;
  seed: number;
  overwrite: boolean;
  /** An explicit ffmpeg (ffprobe next to it or on PATH); default PATH. */
  ffmpegPath?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: ConflictProgress) => void) | undefined;
  /** Bound of one ffmpeg or ffprobe process (default 5 minutes). */
  processTimeoutMs?: number;
}

/** Where a build is: `done` of `total` steps of the current stage. */
export interface ConflictProgress {
  stage: 'probe' | 'mux';
  done: number;
  total: number;
}

/** How a conflict clip's streams were written. */
export type ConflictEncoding = 'copy' | 'audio re-encoded' | 're-encoded';

/** One conflict clip written. */
export interface ConflictClip {
  /** Path relative to the output folder. */
  path: string;
  label: string;
  videoFrom: string;
  audioFrom: string;
  videoLabel: string;
  audioLabel: string;
  durationSeconds: number;
  encoding: ConflictEncoding;
}

/** What a build wrote and left out. */
export interface ConflictBuildSummary {
  outDir: string;
  manifestPath: string;
  skippedCsvPath: string;
  truth: TruthModality;
  subset: 'video-aligned' | 'audio-aligned';
  seed: number;
  pairsPerLabel: number;
  clips: ConflictClip[];
  /** Consistent originals listed in the manifest. */
  consistent: number;
  /** Source clips that are not consistent (not used as donors). */
  notConsistent: number;
  skipped: SkippedItem[];
  /** Labels with fewer conflict clips than asked for, and why. */
  notes: string[];
}

/** The streams a probe found: durations in seconds (null when ffprobe states none). */
interface StreamProbe {
  video: { durationSeconds: number | null } | null;
  audio: { durationSeconds: number | null } | null;
  formatDurationSeconds: number | null;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const PROBE_MAX_BYTES = 1 << 20;

/** Whether a folder is absent, empty, or holds something (which only `overwrite` replaces). */
export async function outputFolderState(dir: string): Promise<'absent' | 'empty' | 'non-empty'> {
  try {
    return (await readdir(dir)).length === 0 ? 'empty' : 'non-empty';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new ConflictError(
      'OUTPUT_EXISTS',
      `${dir} is not a folder that can be written: ${(error as Error).message}`,
    );
  }
}

const positive = (value: unknown): number | null => {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
};
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads ffprobe's JSON for the first video (cover art excluded) and audio streams. */
function parseStreams(json: string): StreamProbe {
  let root: unknown;
  try {
    root = JSON.parse(json === '' ? '{}' : json);
  } catch {
    root = {};
  }
  const info = isObject(root) ? root : {};
  const streams = (Array.isArray(info.streams) ? info.streams : []).filter(isObject);
  const cover = (s: Record<string, unknown>) =>
    isObject(s.disposition) && Number(s.disposition.attached_pic) === 1;
  const video = streams.find((s) => s.codec_type === 'video' && !cover(s));
  const audio = streams.find((s) => s.codec_type === 'audio');
  return {
    video: video === undefined ? null : { durationSeconds: positive(video.duration) },
    audio: audio === undefined ? null : { durationSeconds: positive(audio.duration) },
    formatDurationSeconds: positive(isObject(info.format) ? info.format.duration : undefined),
  };
}

/** Runs ffmpeg/ffprobe bounded; a cancel becomes CANCELLED, other outcomes are returned. */
class Tools {
  private readonly executables;

  constructor(private readonly options: ConflictBuildOptions) {
    this.executables = resolveFfmpegExecutables(
      { ffmpegPath: options.ffmpegPath },
      processLookupEnvironment(),
    );
  }

  private async run(
    executable: string,
    args: string[],
    sink = new HeadSink(PROBE_MAX_BYTES),
  ): Promise<BoundedRunResult> {
    const result = await runBounded({
      executable,
      args: restrictInput(args),
      sink,
      timeoutMs: this.options.processTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: this.options.signal,
    });
    if (result.outcome === 'cancelled') throw new ConflictError('CANCELLED', 'cancelled');
    return result;
  }

  /** The clip's streams, or the reason it cannot be read. */
  async probe(path: string): Promise<StreamProbe | string> {
    try {
      await checkClipFile(path);
    } catch (error) {
      if (error instanceof DecodeError) return error.message;
      throw error;
    }
    const sink = new HeadSink(PROBE_MAX_BYTES);
    const result = await this.run(
      this.executables.ffprobe,
      [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_type,duration:stream_disposition=attached_pic:format=duration',
        '-of',
        'json',
        path,
      ],
      sink,
    );
    if (result.outcome !== 'exited' || result.exitCode !== 0) {
      return `ffprobe cannot read it (${result.outcome}: ${result.stderrTail.trim().split('\n').pop() ?? ''})`;
    }
    return parseStreams(sink.bytes().toString('utf8'));
  }

  /** Muxes one pair into `out` (see muxAttempts); a cancel leaves no partial file behind. */
  async mux(
    video: string,
    audio: string,
    seconds: number | null,
    out: string,
  ): Promise<{ encoding: ConflictEncoding; durationSeconds: number } | string> {
    try {
      return await this.muxAttempts(video, audio, seconds, out);
    } catch (error) {
      await rm(`${out}.partial.mp4`, { force: true });
      throw error;
    }
  }

  /** Tries copy, then audio re-encoded, then both; the encoding used, or why none gave both streams. */
  private async muxAttempts(
    video: string,
    audio: string,
    seconds: number | null,
    out: string,
  ): Promise<{ encoding: ConflictEncoding; durationSeconds: number } | string> {
    const attempts: [ConflictEncoding, string[]][] = [
      ['copy', ['-c', 'copy']],
      ['audio re-encoded', ['-c:v', 'copy', '-c:a', 'aac', '-b:a', '192k']],
      [
        're-encoded',
        ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p'],
      ],
    ];
    let why = '';
    const partial = `${out}.partial.mp4`;
    for (const [encoding, codecs] of attempts) {
      const codecArgs = encoding === 're-encoded' ? [...codecs, '-c:a', 'aac'] : codecs;
      const result = await this.run(this.executables.ffmpeg, [
        '-v',
        'error',
        '-nostdin',
        '-i',
        video,
        '-i',
        audio,
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
        ...codecArgs,
        ...(seconds === null ? [] : ['-t', seconds.toFixed(3)]),
        '-shortest',
        '-f',
        'mp4',
        '-y',
        partial,
      ]);
      if (result.outcome === 'exited' && result.exitCode === 0) {
        const probe = await this.probe(partial);
        if (typeof probe !== 'string' && probe.video !== null && probe.audio !== null) {
          await rename(partial, out);
          const durationSeconds =
            probe.formatDurationSeconds ??
            Math.max(probe.video.durationSeconds ?? 0, probe.audio.durationSeconds ?? 0);
          return { encoding, durationSeconds };
        }
        why = typeof probe === 'string' ? probe : 'the output lacks a video or an audio stream';
      } else {
        why = `ffmpeg ${result.outcome}: ${result.stderrTail.trim().split('\n').pop() ?? ''}`;
      }
      await rm(partial, { force: true });
    }
    return `no clip with both streams could be written (last attempt: ${why})`;
  }
}

/**
 * The conflict clips an earlier build listed in `outDir/manifest.jsonl`: rows with `video_from`
 * and `audio_from` whose path is a file named as the builder names them, directly in
 * `outDir/clips/` (a hand-edited row pointing anywhere else is ignored). None without a manifest.
 */
async function previousConflictClips(outDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(outDir, 'manifest.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const clipsDir = join(outDir, 'clips');
  const owned = new Set<string>();
  for (const line of text.split('\n')) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const row = v.safeParse(ConflictManifestRowSchema, value);
    if (!row.success) continue;
    const path = resolve(outDir, row.output.path);
    if (dirname(path) === clipsDir && CONFLICT_CLIP_NAME.test(relative(clipsDir, path))) {
      owned.add(path);
    }
  }
  return [...owned];
}

/** Removes an earlier build's clips that the new set did not write again (plain files only). */
async function removeStaleClips(previous: readonly string[], written: ReadonlySet<string>) {
  for (const path of previous) {
    if (written.has(path)) continue;
    const stat = await lstat(path).catch(() => null);
    if (stat?.isFile() === true) await rm(path, { force: true });
  }
}

/** A clip's path as the manifest writes it: relative to the output folder, `/`-separated. */
function manifestPath(outDir: string, path: string): string {
  return relative(outDir, path).split('\\').join('/');
}

/** Builds the conflict set (see the file comment). */
export async function buildConflictSet(
  options: ConflictBuildOptions,
): Promise<ConflictBuildSummary> {
  const outDir = resolve(options.outDir);
  if (!Number.isInteger(options.pairsPerLabel) || options.pairsPerLabel < 1) {
    throw new ConflictError('BAD_SOURCE', 'pairs per label must be a whole number ≥ 1');
  }
  if (!options.overwrite && (await outputFolderState(outDir)) === 'non-empty') {
    throw new ConflictError(
      'OUTPUT_EXISTS',
      `${outDir} exists and is not empty; choose another folder or allow overwriting`,
    );
  }
  const previous = options.overwrite ? await previousConflictClips(outDir) : [];
  const labels = options.labels;
  const labelName = (i: number) => labels[i] ?? String(i);
  const source = await readLabelledSource(options.source, labels);
  const consistent = source.clips.filter((c) => c.consistent);
  if (consistent.length === 0) {
    throw new ConflictError(
      'NO_CLIPS',
      `${source.path} lists no consistent clip (subset "consistent"): conflict pairs are made ` +
        'from clips whose video and audio agree with their label',
    );
  }
  const tools = new Tools(options);
  const skipped: SkippedItem[] = [...source.skipped];
  const usable: (SourceClip & { probe: StreamProbe })[] = [];
  for (const [i, clip] of consistent.entries()) {
    options.onProgress?.({ stage: 'probe', done: i, total: consistent.length });
    const probe = await tools.probe(clip.path);
    const reason =
      typeof probe === 'string'
        ? probe
        : probe.video === null
          ? 'no video stream'
          : probe.audio === null
            ? 'no audio stream'
            : undefined;
    if (reason !== undefined || typeof probe === 'string') {
      skipped.push({
        kind: 'clip',
        path: clip.path,
        label: labelName(clip.label),
        reason: reason ?? '',
      });
    } else usable.push({ path: clip.path, label: clip.label, probe });
  }
  const pairs = planConflictPairs(usable, labels, options);
  const probes = new Map(usable.map((c) => [c.path, c.probe]));
  const duration = (path: string, modality: 'video' | 'audio') => {
    const probe = probes.get(path);
    return probe?.[modality]?.durationSeconds ?? probe?.formatDurationSeconds ?? null;
  };

  await mkdir(join(outDir, 'clips'), { recursive: true });
  const clips: ConflictClip[] = [];
  for (const [i, pair] of pairs.entries()) {
    options.onProgress?.({ stage: 'mux', done: i, total: pairs.length });
    const name = conflictClipName(i + 1, pair, labels);
    const out = join(outDir, 'clips', name);
    const lengths = [duration(pair.video.path, 'video'), duration(pair.audio.path, 'audio')];
    const known = lengths.filter((d): d is number => d !== null);
    const made = await tools.mux(
      pair.video.path,
      pair.audio.path,
      known.length > 0 ? Math.min(...known) : null,
      out,
    );
    if (typeof made === 'string') {
      skipped.push({ kind: 'pair', path: out, label: labelName(pair.truthLabel), reason: made });
      continue;
    }
    clips.push(conflictClip(outDir, out, pair, labelName, made));
  }
  options.onProgress?.({ stage: 'mux', done: pairs.length, total: pairs.length });

  const subset = conflictSubset(options.truth);
  const rows = [
    ...clips.map((c) => ({
      path: c.path,
      label: c.label,
      subset,
      video_from: c.videoFrom,
      audio_from: c.audioFrom,
      video_label: c.videoLabel,
      audio_label: c.audioLabel,
      duration_s: Number(c.durationSeconds.toFixed(3)),
      encoding: c.encoding,
      seed: options.seed,
    })),
    ...usable.map((c) => ({
      path: manifestPath(outDir, c.path),
      label: labelName(c.label),
      subset: 'consistent',
    })),
  ];
  const manifestFile = join(outDir, 'manifest.jsonl');
  await writeFileAtomic(manifestFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const skippedCsvPath = join(outDir, 'skipped.csv');
  await writeFileAtomic(
    skippedCsvPath,
    toCsv(
      skipped.map((s) => ({ ...s })),
      ['kind', 'path', 'label', 'reason'],
    ),
  );
  // Only once the new manifest no longer lists them (a failed or cancelled build keeps them).
  await removeStaleClips(previous, new Set(clips.map((c) => join(outDir, c.path))));
  return {
    outDir,
    manifestPath: manifestFile,
    skippedCsvPath,
    truth: options.truth,
    subset,
    seed: options.seed,
    pairsPerLabel: options.pairsPerLabel,
    clips,
    consistent: usable.length,
    notConsistent: source.clips.length - consistent.length,
    skipped,
    notes: shortLabels(pairs, clips, labels, options.pairsPerLabel),
  };
}

function conflictClip(
  outDir: string,
  out: string,
  pair: ConflictPair,
  labelName: (i: number) => string,
  made: { encoding: ConflictEncoding; durationSeconds: number },
): ConflictClip {
  return {
    path: manifestPath(outDir, out),
    label: labelName(pair.truthLabel),
    videoFrom: manifestPath(outDir, pair.video.path),
    audioFrom: manifestPath(outDir, pair.audio.path),
    videoLabel: labelName(pair.video.label),
    audioLabel: labelName(pair.audio.label),
    durationSeconds: made.durationSeconds,
    encoding: made.encoding,
  };
}

/** Labels that got fewer conflict clips than asked for (too few clips, or pairs that failed). */
function shortLabels(
  pairs: readonly ConflictPair[],
  clips: readonly ConflictClip[],
  labels: readonly string[],
  wanted: number,
): string[] {
  return labels.flatMap((name, label) => {
    const planned = pairs.filter((p) => p.truthLabel === label).length;
    const made = clips.filter((c) => c.label === name).length;
    if (made >= wanted) return [];
    if (planned === 0) return [`${name}: no usable consistent clip of this label`];
    return [
      `${name}: ${made} of ${wanted}` +
        (planned < wanted ? ' (too few distinct pairs)' : ' (some pairs failed: skipped.csv)'),
    ];
  });
}

// Conflict pairs, pure: which consistent clip gives its video and which its audio to each new
// clip. For every label L, up to `pairsPerLabel` pairs whose truth-carrying donor (the video's
// clip when the truth is the video, else the audio's) is labelled L and whose other donor has
// another label. The same clips, labels, options and seed always give the same pairs, whatever
// the order the clips were listed in.
import { mulberry32 } from '../analysis/statistics';

/** Which modality carries the truth label of a conflict clip. */
export type TruthModality = 'video' | 'audio';

export const TRUTH_MODALITIES: readonly TruthModality[] = ['video', 'audio'];

/** The manifest subset of conflict clips whose truth the modality carries (CA-MER's names). */
export function conflictSubset(truth: TruthModality): 'video-aligned' | 'audio-aligned' {
  return truth === 'video' ? 'video-aligned' : 'audio-aligned';
}

/** A consistent clip that has both a video and an audio stream. */
export interface SourceClip {
  /** Absolute path. */
  path: string;
  /** Label index into the label list. */
  label: number;
}

/** One conflict clip to make: the video of one clip with the audio of another. */
export interface ConflictPair {
  /** The label the new clip's manifest row carries (the truth donor's). */
  truthLabel: number;
  video: SourceClip;
  audio: SourceClip;
}

/** How to pair. */
export interface PairingOptions {
  truth: TruthModality;
  pairsPerLabel: number;
  seed: number;
}

/** Why a set of clips cannot be paired at all; the message says what to do. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';

  constructor(
    readonly code: 'ONE_LABEL' | 'NO_CLIPS' | 'OUTPUT_EXISTS' | 'BAD_SOURCE' | 'CANCELLED',
    message: string,
  ) {
    super(message);
  }
}

/** The generator for label L: seeded by the run's seed and the label, so labels do not interact. */
function labelRandom(seed: number, label: number): () => number {
  return mulberry32((Math.imul(label + 1, 0x9e3779b9) ^ seed) >>> 0);
}

/** Fisher–Yates with a seeded generator (in place). */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/**
 * Plans the pairs (see the file comment). Within a label, pairs that reuse neither donor come
 * first, then pairs that reuse one, then any, so clips repeat only when a label has too few; no
 * pair repeats. Throws ONE_LABEL (with the label's name) when the clips carry fewer than two
 * labels, and NO_CLIPS when there are none.
 */
export function planConflictPairs(
  clips: readonly SourceClip[],
  labels: readonly string[],
  options: PairingOptions,
): ConflictPair[] {
  if (clips.length === 0) {
    throw new ConflictError(
      'NO_CLIPS',
      'no consistent clip with both a video and an audio stream to pair',
    );
  }
  const present = [...new Set(clips.map((c) => c.label))].sort((a, b) => a - b);
  if (present.length < 2) {
    throw new ConflictError(
      'ONE_LABEL',
      `every usable consistent clip is labelled "${labels[present[0] ?? 0] ?? present[0]}": a ` +
        'conflict pair needs consistent clips of at least two different labels',
    );
  }
  const sorted = [...clips].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const pairs: ConflictPair[] = [];
  for (const label of present) {
    const own = sorted.filter((c) => c.label === label);
    const others = sorted.filter((c) => c.label !== label);
    const candidates = shuffle(
      own.flatMap((mine) => others.map((other) => ({ mine, other }))),
      labelRandom(options.seed, label),
    );
    const chosen = new Set<number>();
    const usedMine = new Set<string>();
    const usedOther = new Set<string>();
    const take = (admit: (c: { mine: SourceClip; other: SourceClip }) => boolean): void => {
      candidates.forEach((candidate, i) => {
        if (chosen.size >= options.pairsPerLabel || chosen.has(i) || !admit(candidate)) return;
        chosen.add(i);
        usedMine.add(candidate.mine.path);
        usedOther.add(candidate.other.path);
      });
    };
    take((c) => !usedMine.has(c.mine.path) && !usedOther.has(c.other.path));
    take((c) => !usedMine.has(c.mine.path) || !usedOther.has(c.other.path));
    take(() => true);
    for (const i of [...chosen].sort((a, b) => a - b)) {
      const { mine, other } = candidates[i] as { mine: SourceClip; other: SourceClip };
      pairs.push(
        options.truth === 'video'
          ? { truthLabel: label, video: mine, audio: other }
          : { truthLabel: label, video: other, audio: mine },
      );
    }
  }
  return pairs;
}

/** A label as a file-name part: letters, digits, `-` and `_` only. */
function fileNamePart(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'label';
}

/** The file name `conflictClipName` gives (what an overwrite may remove from `clips/`). */
export const CONFLICT_CLIP_NAME = /^\d{4,}-video-[\w-]+-audio-[\w-]+\.mp4$/;

/** The file name of the n-th conflict clip (1-based), e.g. `0001-video-happy-audio-sad.mp4`. */
export function conflictClipName(n: number, pair: ConflictPair, labels: readonly string[]): string {
  const name = (label: number) => fileNamePart(labels[label] ?? String(label));
  return `${String(n).padStart(4, '0')}-video-${name(pair.video.label)}-audio-${name(pair.audio.label)}.mp4`;
}

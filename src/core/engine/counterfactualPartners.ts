// Swap partners for modality counterfactuals: the clips whose audio or frames replace a clip's
// own. Given by the user, or chosen automatically: from a labelled manifest, one clip of each
// other label (its first `consistent` clip in manifest order, else its first clip); without a
// manifest, the clips that follow in the clip's folder by name (wrapping round). The choice is
// deterministic and recorded in words, since it changes the results.
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { SwapPartner } from '../../protocol/counterfactualResult';
import {
  locateManifest,
  ManifestError,
  readManifest,
  type ManifestEntry,
} from '../evaluation/manifest';

/** No automatic partner can be found (one label only, an empty folder). */
export class PartnerError extends Error {
  override readonly name = 'PartnerError';
}

/** Extensions of the clips a folder offers as partners. */
export const CLIP_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi'] as const;

/** The subset whose clips carry one emotion in both modalities (CA-MER). */
const CONSISTENT = 'consistent';

/**
 * One partner of each label other than the clip's (all labels when the clip is not in the
 * manifest or its label is unknown): that label's first consistent clip, else its first clip.
 * Throws PartnerError when no other label has a clip.
 */
export function partnersFromManifest(
  clipPath: string,
  entries: readonly Pick<ManifestEntry, 'path' | 'label' | 'subset'>[],
  labels: readonly string[],
  manifestName: string,
): SwapPartner[] {
  const clip = resolve(clipPath);
  const own = entries.find((e) => resolve(e.path) === clip)?.label;
  const others = entries.filter((e) => resolve(e.path) !== clip);
  const partners: SwapPartner[] = [];
  labels.forEach((label, index) => {
    if (index === own) return;
    const ofLabel = others.filter((e) => e.label === index);
    const consistent = ofLabel.find((e) => e.subset === CONSISTENT);
    const pick = consistent ?? ofLabel[0];
    if (pick === undefined) return;
    partners.push({
      path: pick.path,
      name: basename(pick.path),
      label,
      replaces: 'both',
      choice: 'manifest',
      how:
        consistent === undefined
          ? `the first clip labelled ${label} in ${manifestName} (it has no consistent one)`
          : `the first consistent clip labelled ${label} in ${manifestName}`,
    });
  });
  if (partners.length === 0) {
    const present = [...new Set(entries.map((e) => labels[e.label] ?? String(e.label)))];
    const has =
      present.length === 0
        ? 'no clips'
        : present.length === 1
          ? `one label only (${present.join(', ')})`
          : `no clip of a label other than the clip’s own (${present.join(', ')})`;
    throw new PartnerError(
      `${manifestName} has ${has}: no automatic swap partner; name one with --audio-from / --frames-from`,
    );
  }
  return partners;
}

/**
 * Up to `count` clips that follow the clip in its folder's name order (wrapping round), from
 * `names` (the folder's file names); throws PartnerError when there is none.
 */
export function partnersFromFolder(
  clipPath: string,
  names: readonly string[],
  count: number,
): SwapPartner[] {
  const clip = resolve(clipPath);
  const folder = dirname(clip);
  const own = basename(clip);
  const clips = names
    .filter((n) => (CLIP_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const start = clips.filter((n) => n < own).length;
  const following = [...clips.slice(start), ...clips.slice(0, start)].filter((n) => n !== own);
  if (following.length === 0) {
    throw new PartnerError(
      `${folder} holds no other clip: no automatic swap partner; name one with --audio-from / --frames-from`,
    );
  }
  return following.slice(0, Math.max(1, count)).map((name, i) => ({
    path: join(folder, name),
    name,
    label: null,
    replaces: 'both',
    choice: 'folder',
    how: `clip ${i + 1} after ${own} in its folder by name (no labelled manifest)`,
  }));
}

/** What chooses partners: given clips, a manifest, or the clip's folder. */
export interface PartnerRequest {
  clipPath: string;
  /** Use this clip's audio (repeatable); given partners turn automatic choice off for that modality. */
  audioFrom?: readonly string[];
  framesFrom?: readonly string[];
  /** A labelled manifest (or its folder) to choose from; default: the clip's folder's manifest if any. */
  manifest?: string;
  /** The model's labels (a manifest's names resolve against them). */
  labels: readonly string[];
}

/**
 * The partners of a request: the given ones, and for a modality without given ones the automatic
 * choice (the manifest's, else the folder's: C − 1 clips for C labels).
 */
export async function choosePartners(request: PartnerRequest): Promise<SwapPartner[]> {
  const given = (
    paths: readonly string[] | undefined,
    replaces: 'audio' | 'frames',
  ): SwapPartner[] =>
    (paths ?? []).map((p) => ({
      path: resolve(p),
      name: basename(p),
      label: null,
      replaces,
      choice: 'given',
      how: `given (--${replaces}-from)`,
    }));
  const audio = given(request.audioFrom, 'audio');
  const frames = given(request.framesFrom, 'frames');
  if (audio.length > 0 && frames.length > 0) return [...audio, ...frames];
  const automatic = await automaticPartners(request);
  const only = (replaces: 'audio' | 'frames'): SwapPartner[] =>
    automatic.map((p) => ({ ...p, replaces }));
  if (audio.length > 0) return [...audio, ...only('frames')];
  if (frames.length > 0) return [...only('audio'), ...frames];
  return automatic;
}

async function automaticPartners(request: PartnerRequest): Promise<SwapPartner[]> {
  let manifestPath = request.manifest;
  if (manifestPath === undefined) {
    try {
      manifestPath = await locateManifest(dirname(resolve(request.clipPath)));
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
    }
  }
  if (manifestPath !== undefined) {
    const located = await locateManifest(manifestPath);
    const entries = await readManifest(located, request.labels);
    return partnersFromManifest(request.clipPath, entries, request.labels, basename(located));
  }
  const folder = dirname(resolve(request.clipPath));
  const names = await readdir(folder);
  return partnersFromFolder(request.clipPath, names, request.labels.length - 1);
}

// The clips a conflict set is built from: a labelled manifest (the project's JSONL or CSV, read by
// evaluation/manifest.ts; its `consistent` rows are the sources, or every row when no row has a
// subset) or a labelled folder. A folder holding a manifest.jsonl or manifest.csv is that
// manifest; any other folder is read by its label subfolders: `<folder>/<label>/<clip>.mp4`,
// the subfolder's name one of the model's labels (case ignored), every clip in it consistent.
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { MANIFEST_FILE_NAMES, readManifest } from '../evaluation/manifest';
import { ConflictError } from './conflictPairs';

/** Clip extensions a labelled folder's subfolders are read for (the extension's video list). */
export const CLIP_EXTENSIONS: readonly string[] = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v'];

/** A labelled clip of the source. */
export interface LabelledClip {
  path: string;
  label: number;
  /** Whether the clip is a source of pairs (consistent, or any clip of a plain folder). */
  consistent: boolean;
}

/** Something of the source that is left out, and why. */
export interface SkippedItem {
  /** `clip`: a source clip; `folder`: a subfolder that names no label; `pair`: a clip not made. */
  kind: 'clip' | 'folder' | 'pair';
  path: string;
  /** The label's name, when known. */
  label: string;
  reason: string;
}

/** What a source holds. */
export interface LabelledSource {
  /** `manifest` (with its path) or `folder` (label subfolders). */
  kind: 'manifest' | 'folder';
  path: string;
  clips: LabelledClip[];
  skipped: SkippedItem[];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a manifest file, a folder with a manifest, or a folder of label subfolders. */
export async function readLabelledSource(
  source: string,
  labels: readonly string[],
): Promise<LabelledSource> {
  const absolute = resolve(source);
  let folder: boolean;
  try {
    folder = (await stat(absolute)).isDirectory();
  } catch {
    throw new ConflictError('BAD_SOURCE', `no manifest or folder at ${absolute}`);
  }
  if (folder) {
    const names = await readdir(absolute);
    const manifest = MANIFEST_FILE_NAMES.find((n) => names.includes(n));
    if (manifest === undefined) return readLabelFolders(absolute, names, labels);
  }
  const entries = await readManifest(absolute, labels);
  const anySubset = entries.some((e) => e.subset !== null);
  return {
    kind: 'manifest',
    path: absolute,
    clips: entries.map((e) => ({
      path: e.path,
      label: e.label,
      consistent: !anySubset || e.subset === 'consistent',
    })),
    skipped: [],
  };
}

/** A folder of label subfolders (see the file comment). */
async function readLabelFolders(
  folder: string,
  names: readonly string[],
  labels: readonly string[],
): Promise<LabelledSource> {
  const clips: LabelledClip[] = [];
  const skipped: SkippedItem[] = [];
  const lower = labels.map((l) => l.toLowerCase());
  for (const name of [...names].sort()) {
    const path = join(folder, name);
    if (!(await isDirectory(path))) {
      if (CLIP_EXTENSIONS.includes(extname(name).slice(1).toLowerCase())) {
        skipped.push({
          kind: 'clip',
          path,
          label: '',
          reason: 'not in a label subfolder (put each clip in a folder named by its label)',
        });
      }
      continue;
    }
    const label = lower.indexOf(name.toLowerCase());
    if (label < 0) {
      skipped.push({
        kind: 'folder',
        path,
        label: '',
        reason: `"${name}" is not one of the model's labels (${labels.join(', ')})`,
      });
      continue;
    }
    for (const file of (await readdir(path)).sort()) {
      if (!CLIP_EXTENSIONS.includes(extname(file).slice(1).toLowerCase())) continue;
      clips.push({ path: join(path, file), label, consistent: true });
    }
  }
  if (clips.length === 0) {
    throw new ConflictError(
      'BAD_SOURCE',
      `${folder} has no manifest (${MANIFEST_FILE_NAMES.join(' or ')}) and no clips in label ` +
        `subfolders (<folder>/<label>/<clip>.${CLIP_EXTENSIONS[0]}; labels: ${labels.join(', ')})`,
    );
  }
  return { kind: 'folder', path: folder, clips, skipped };
}

// Where a clip's FaceMAE and VideoMAE features come from, for a model with contract 1.2's feature
// inputs (CONTRACT.md §1b): a given file first (the CLI's --face-features / --video-features, a
// manifest row's face_features / video_features column), else a sidecar next to the clip
// (`<stem>.face.npy` / `<stem>.video.npy`, then `<clip>.face.npy` / `<clip>.video.npy`), else
// zeros (what the public Emotion-LLaMA demo feeds). Each file is a float32 `.npy` of shape [D] or
// [1, D], D the graph's; every error names the file. The result records each source
// (`settings.featureSources`).
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { FeatureSource, FeatureSources } from '../../protocol/analysisResult';
import type { FeatureInputName } from '../contract/names';
import { decodeNpy, NpyError } from '../results/npy';
import { EngineError } from './engineError';

/** The two features: the result's key, the graph input, the sidecar suffix, the display name. */
export const FEATURES = [
  { key: 'faceMae', input: 'face_mae_features', suffix: '.face.npy', label: 'FaceMAE' },
  { key: 'videoMae', input: 'video_mae_features', suffix: '.video.npy', label: 'VideoMAE' },
] as const satisfies readonly {
  key: keyof FeatureSources;
  input: FeatureInputName;
  suffix: string;
  label: string;
}[];

/** A feature file given with the request, and who gave it. */
export interface GivenFeatureFile {
  path: string;
  source: Extract<FeatureSource, { kind: 'file' }>['from'];
}

/** The feature files a request gives, by feature. */
export type GivenFeatures = Partial<Record<keyof FeatureSources, GivenFeatureFile>>;

/** The feature files a manifest row names (ManifestEntry.features), as given by the manifest. */
export function manifestFeatures(files: {
  readonly faceMae?: string;
  readonly videoMae?: string;
}): GivenFeatures {
  return {
    ...(files.faceMae === undefined
      ? {}
      : { faceMae: { path: files.faceMae, source: 'manifest' as const } }),
    ...(files.videoMae === undefined
      ? {}
      : { videoMae: { path: files.videoMae, source: 'manifest' as const } }),
  };
}

/** A feature vector larger than this is not a FaceMAE/VideoMAE feature (1024 in the real model). */
const MAX_FEATURE_BYTES = 16 * 1024 * 1024;

/** The sidecar paths of a clip for one feature, in precedence order (`a.mp4` → `a.face.npy`, `a.mp4.face.npy`). */
export function featureSidecarPaths(clipPath: string, suffix: string): string[] {
  const dir = dirname(clipPath);
  const name = basename(clipPath);
  const stem = name.slice(0, name.length - extname(name).length);
  return (stem === name ? [name] : [stem, name]).map((n) => join(dir, n + suffix));
}

/**
 * A feature file's vector: a float32 `.npy` of shape [D] or [1, D] with D = `dim`, every value
 * finite. Throws EngineError BAD_SETTINGS naming the file and the feature.
 */
export async function readFeatureFile(
  path: string,
  dim: number,
  label: string,
): Promise<Float32Array> {
  const fail = (why: string): never => {
    throw new EngineError('BAD_SETTINGS', `${label} features "${path}": ${why}`);
  };
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) fail('not a file');
    if (info.size > MAX_FEATURE_BYTES) fail(`${info.size} bytes is too large for a feature vector`);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof EngineError) throw error;
    return fail(
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error),
    );
  }
  let array;
  try {
    array = decodeNpy(bytes, basename(path));
  } catch (error) {
    // decodeNpy names the member first; the path is named already.
    if (error instanceof NpyError) return fail(error.message.replace(`${basename(path)}: `, ''));
    throw error;
  }
  const { shape, data } = array;
  const ok =
    (shape.length === 1 && shape[0] === dim) ||
    (shape.length === 2 && shape[0] === 1 && shape[1] === dim);
  if (!ok)
    fail(
      `shape [${shape.join(', ')}], expected [${dim}] or [1, ${dim}] (the model's ${label} width)`,
    );
  const bad = data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) fail(`value ${bad} is not finite`);
  return data;
}

/** A run's feature vectors by graph input, and where each came from. */
export interface ResolvedFeatures {
  vectors: Partial<Record<FeatureInputName, Float32Array>>;
  sources: FeatureSources;
}

/**
 * The features of a run for a graph declaring the inputs in `dims` (their D): given, else a
 * sidecar (when `sidecar`), else zeros. A given file for a graph without the input is refused.
 */
export async function resolveFeatures(options: {
  clipPath: string;
  dims: Partial<Record<FeatureInputName, number>>;
  given: GivenFeatures | undefined;
  sidecar: boolean;
  modelName: string;
}): Promise<ResolvedFeatures | undefined> {
  const declared = FEATURES.filter((f) => options.dims[f.input] !== undefined);
  for (const f of FEATURES) {
    const given = options.given?.[f.key];
    // A manifest's feature columns serve the models that have the inputs; the others ignore them.
    if (given !== undefined && given.source !== 'manifest' && options.dims[f.input] === undefined) {
      throw new EngineError(
        'BAD_SETTINGS',
        `${f.label} features "${given.path}": ${options.modelName} has no "${f.input}" input (CONTRACT.md §1b)`,
      );
    }
  }
  if (declared.length === 0) return undefined;
  const resolved: ResolvedFeatures = { vectors: {}, sources: {} };
  for (const f of declared) {
    const dim = options.dims[f.input]!;
    let file = options.given?.[f.key];
    if (file === undefined && options.sidecar) {
      for (const path of featureSidecarPaths(options.clipPath, f.suffix)) {
        if (await isFile(path)) {
          file = { path, source: 'sidecar' };
          break;
        }
      }
    }
    if (file === undefined) {
      resolved.sources[f.key] = { kind: 'zeros' };
      continue;
    }
    resolved.vectors[f.input] = await readFeatureFile(file.path, dim, f.label);
    resolved.sources[f.key] = { kind: 'file', path: file.path, from: file.source };
  }
  return resolved;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

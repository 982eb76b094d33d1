// Reads a saved AnalysisResult: accepts the schema version this code writes, rejects other
// versions and foreign or damaged JSON with a message that says what to do. Checks the structure
// and the tensor shapes against the saved metadata, so a panel can index without guarding.
import {
  ANALYSIS_RESULT_KIND,
  ANALYSIS_SCHEMA_VERSION,
  type AnalysisResult,
} from './analysisResult';

/** A file that is not an AnalysisResult this version can read; the message says why. */
export class AnalysisResultError extends Error {
  override name = 'AnalysisResultError';
}

type Json = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new AnalysisResultError(`Not a valid MoSEAR Lens result: ${path} ${what}.`);
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, 'must be an object');
  }
  return value as Json;
}

function field(o: Json, key: string, path: string): unknown {
  if (!Object.hasOwn(o, key)) fail(`${path}.${key}`, 'is missing');
  return o[key];
}

function num(o: Json, key: string, path: string): number {
  const v = field(o, key, path);
  if (typeof v !== 'number') fail(`${path}.${key}`, 'must be a number');
  return v;
}

function str(o: Json, key: string, path: string): string {
  const v = field(o, key, path);
  if (typeof v !== 'string') fail(`${path}.${key}`, 'must be a string');
  return v;
}

function array(o: Json, key: string, path: string, length?: number): unknown[] {
  const v = field(o, key, path);
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'must be an array');
  if (length !== undefined && v.length !== length) {
    fail(`${path}.${key}`, `must have ${length} entries, has ${v.length}`);
  }
  return v;
}

/** Checks a nested numeric array has exactly the shape `dims`. */
function tensor(o: Json, key: string, path: string, dims: number[]): void {
  const check = (value: unknown, at: string, axis: number): void => {
    if (axis === dims.length) {
      if (typeof value !== 'number') fail(at, 'must be a number');
      return;
    }
    if (!Array.isArray(value) || value.length !== dims[axis]) {
      fail(at, `must be an array of ${dims[axis]} (shape [${dims.join(', ')}])`);
    }
    value.forEach((v, i) => check(v, `${at}[${i}]`, axis + 1));
  };
  check(field(o, key, path), `${path}.${key}`, 0);
}

function checkRun(value: unknown, path: string, L: number, Hh: number, N: number, C: number): void {
  const run = object(value, path);
  object(field(run, 'controls', path), `${path}.controls`);
  tensor(run, 'logits', path, [C]);
  tensor(run, 'probabilities', path, [C]);
  const prediction = object(field(run, 'prediction', path), `${path}.prediction`);
  num(prediction, 'index', `${path}.prediction`);
  str(prediction, 'label', `${path}.prediction`);
  tensor(run, 'modalityMass', path, [L, Hh, 3]);
  tensor(run, 'modalityMassAfter', path, [L, Hh, 3]);
  tensor(run, 'arFlags', path, [L, Hh]);
  tensor(run, 'tokenAttentionBefore', path, [L, Hh, N]);
  tensor(run, 'tokenAttention', path, [L, Hh, N]);
  array(run, 'uapBefore', path, L);
  array(run, 'uapAfter', path, L);
  const stats = object(field(run, 'ratioStatistics', path), `${path}.ratioStatistics`);
  for (const kind of ['raw', 'density', 'share']) array(stats, kind, `${path}.ratioStatistics`, L);
  array(run, 'flagDecisions', path, L);
  const gate = field(run, 'moseGate', path);
  if (gate !== null) tensor(run, 'moseGate', path, [L]);
}

/**
 * Checks a parsed JSON value is an AnalysisResult of the current schema and returns it typed.
 * Throws AnalysisResultError: for another schema version (newer: update MoSEAR Lens; older:
 * re-run the analysis), for JSON that is not a result, and for a result with broken structure.
 */
export function readAnalysisResult(value: unknown): AnalysisResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AnalysisResultError(
      'Not a MoSEAR Lens result: the file does not hold a JSON object.',
    );
  }
  const root = value as Json;
  if (root['kind'] !== ANALYSIS_RESULT_KIND) {
    throw new AnalysisResultError(
      `Not a MoSEAR Lens result: it has no "kind": "${ANALYSIS_RESULT_KIND}" field.`,
    );
  }
  const version = root['schemaVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail('schemaVersion', 'must be a positive integer');
  }
  if (version > ANALYSIS_SCHEMA_VERSION) {
    throw new AnalysisResultError(
      `This result was saved by a newer version of MoSEAR Lens (result schema ${version}; this ` +
        `version reads schema ${ANALYSIS_SCHEMA_VERSION}). Update MoSEAR Lens to open it.`,
    );
  }
  if (version < ANALYSIS_SCHEMA_VERSION) {
    throw new AnalysisResultError(
      `This result was saved by an older version of MoSEAR Lens (result schema ${version}), ` +
        `which this version (schema ${ANALYSIS_SCHEMA_VERSION}) cannot read. Run the analysis again.`,
    );
  }
  str(root, 'createdAt', 'result');
  object(field(root, 'tool', 'result'), 'result.tool');
  const clip = object(field(root, 'clip', 'result'), 'result.clip');
  str(clip, 'path', 'result.clip');
  array(clip, 'frameTimesSeconds', 'result.clip');
  const model = object(field(root, 'model', 'result'), 'result.model');
  str(model, 'path', 'result.model');
  const meta = object(field(model, 'metadata', 'result.model'), 'result.model.metadata');
  const arch = object(field(meta, 'architecture', 'metadata'), 'metadata.architecture');
  const layout = object(field(meta, 'tokenLayout', 'metadata'), 'metadata.tokenLayout');
  const L = num(arch, 'layers', 'metadata.architecture');
  const Hh = num(arch, 'heads', 'metadata.architecture');
  const N = num(layout, 'total', 'metadata.tokenLayout');
  const C = array(meta, 'labels', 'metadata').length;
  const settings = object(field(root, 'settings', 'result'), 'result.settings');
  object(field(settings, 'controls', 'result.settings'), 'result.settings.controls');
  const runtime = object(field(root, 'runtime', 'result'), 'result.runtime');
  str(runtime, 'provider', 'result.runtime');
  array(runtime, 'attempts', 'result.runtime');
  array(root, 'tokens', 'result', N);
  checkRun(field(root, 'intervention', 'result'), 'result.intervention', L, Hh, N, C);
  checkRun(field(root, 'baseline', 'result'), 'result.baseline', L, Hh, N, C);
  const flagCheck = object(field(root, 'flagCheck', 'result'), 'result.flagCheck');
  array(flagCheck, 'mismatches', 'result.flagCheck');
  array(root, 'thumbnails', 'result');
  object(field(root, 'timings', 'result'), 'result.timings');
  return value as AnalysisResult;
}

/** Parses the text of a saved result (see `readAnalysisResult`). */
export function parseAnalysisResult(text: string): AnalysisResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AnalysisResultError(
      `Not a MoSEAR Lens result: the file is not valid JSON (${(error as Error).message}).`,
    );
  }
  return readAnalysisResult(value);
}

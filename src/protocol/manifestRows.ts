// One row of a labelled clip manifest, as it enters from a file: a JSONL line's object (`path`,
// `label` as a name or an index, optional `subset`, `transcript`, `face_features` and
// `video_features` (`.npy` paths); other keys ignored) or a CSV row's cells after
// splitting (strings; a label of digits is an index). Both parse into the same resolved row; the
// label check needs the model's labels, so the schemas are made per label list. Each message
// names its field; the reader prefixes the file and line.
import * as v from 'valibot';

const PATH_MESSAGE = '"path" must be a non-empty string';
const LABEL_MESSAGE = '"label" must be a label name or an integer index';

/** Resolves a label name or an integer index against `labels` (any input: the action checks). */
function resolveLabel<T>(labels: readonly string[]) {
  return v.rawTransform<T, number>(({ dataset, addIssue, NEVER }) => {
    const label: unknown = dataset.value;
    if (typeof label === 'string') {
      const index = labels.indexOf(label);
      if (index >= 0) return index;
      addIssue({
        message: `label "${label}" is not one of the model's labels (${labels.join(', ')})`,
      });
    } else if (typeof label === 'number' && Number.isInteger(label)) {
      if (label >= 0 && label < labels.length) return label;
      addIssue({ message: `label index ${label} is outside 0…${labels.length - 1}` });
    } else addIssue({ message: LABEL_MESSAGE });
    return NEVER;
  });
}

/**
 * A member that may be missing, run even then (valibot skips a missing optional member without
 * a default, and reports a missing required one with the object's message): the default is
 * undefined, so the member's own checks name it.
 */
function member<const S extends v.GenericSchema>(schema: S) {
  return v.optional(schema, () => undefined);
}

/** One JSONL manifest line's object (other keys ignored). */
export function manifestRowSchema(labels: readonly string[]) {
  return v.pipe(
    // valibot's object takes arrays too; a manifest line must be a JSON object.
    v.custom<Record<string, unknown>>(
      (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
      'expected a JSON object',
    ),
    v.object({
      path: v.pipe(
        member(v.string(PATH_MESSAGE)),
        v.string(PATH_MESSAGE),
        v.minLength(1, PATH_MESSAGE),
      ),
      label: v.pipe(member(v.unknown()), resolveLabel(labels)),
      subset: v.optional(v.nullable(v.string('"subset" must be a string when present')), null),
      /** What is said in the clip (contract 1.1's transcript slot); null: none given. */
      transcript: v.optional(
        v.nullable(v.string('"transcript" must be a string when present')),
        null,
      ),
      /** FaceMAE / VideoMAE `.npy` files (CONTRACT.md §1b), relative to the manifest. */
      face_features: v.optional(
        v.nullable(v.string('"face_features" must be a path string when present')),
        null,
      ),
      video_features: v.optional(
        v.nullable(v.string('"video_features" must be a path string when present')),
        null,
      ),
    }),
  );
}

/**
 * One CSV manifest row: the cells of the `path`, `label` and optional `subset`, `transcript`,
 * `face_features` and `video_features` columns (a short row lacks some). Cells are trimmed; a label of digits is an index, an empty
 * subset, transcript or feature file none.
 */
export function manifestCsvRowSchema(labels: readonly string[]) {
  const cell = v.pipe(v.optional(v.string(), ''), v.trim());
  return v.object({
    path: v.pipe(cell, v.minLength(1, PATH_MESSAGE)),
    label: v.pipe(
      member(v.string()),
      v.transform((l) =>
        l !== undefined && /^\d+$/.test(l.trim()) ? Number(l.trim()) : l?.trim(),
      ),
      resolveLabel(labels),
    ),
    subset: v.pipe(
      cell,
      v.transform((s) => (s === '' ? null : s)),
    ),
    transcript: v.pipe(
      cell,
      v.transform((s) => (s === '' ? null : s)),
    ),
    face_features: v.pipe(
      cell,
      v.transform((s) => (s === '' ? null : s)),
    ),
    video_features: v.pipe(
      cell,
      v.transform((s) => (s === '' ? null : s)),
    ),
  });
}

/**
 * A manifest row with its label resolved to an index into the model's labels: `path` as the
 * manifest writes it (non-empty), `label`, `subset` and `transcript` (null when the row has none).
 */
export type ManifestRow = v.InferOutput<ReturnType<typeof manifestRowSchema>>;

/** The schema of either kind of row (both parse into a ManifestRow). */
export type ManifestRowSchema =
  ReturnType<typeof manifestRowSchema> | ReturnType<typeof manifestCsvRowSchema>;

/**
 * A conflict clip's row in a manifest `mosear-lens conflicts` wrote (src/core/conflicts): the
 * clip's path with the two clips it was made from (other keys ignored). Rows without `video_from`
 * and `audio_from` (the consistent originals, a user's own rows) do not parse.
 */
export const ConflictManifestRowSchema = v.object({
  path: v.pipe(v.string(), v.minLength(1)),
  video_from: v.string(),
  audio_from: v.string(),
});

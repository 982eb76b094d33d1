// Turns valibot issues into text that names the bad field ("result.intervention.arFlags[2][1]
// must be a number"), so every boundary's errors read the same, and holds the few schema parts
// every boundary shares (bulk number arrays checked in one loop, typed arrays by length).
import * as v from 'valibot';

/** Any valibot issue. */
export type Issue = v.BaseIssue<unknown>;

/** A JSON value described briefly for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // A cycle or a BigInt: describe by type.
  }
  text ??= typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Where an issue is, from `root`: `root.key[3].other` (`key[3]` without a root). */
export function issuePath(issue: Issue, root = ''): string {
  let path = root;
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === 'number') path += `[${key}]`;
    else path += path === '' ? String(key) : `.${String(key)}`;
  }
  return path;
}

/** The issue is about a member its object does not have at all. */
export function isMissing(issue: Issue): boolean {
  const last = issue.path?.at(-1);
  return (
    last?.type === 'object' &&
    typeof last.input === 'object' &&
    last.input !== null &&
    !Object.hasOwn(last.input, last.key)
  );
}

const WORDS: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  Object: 'an object',
  Array: 'an array',
};

/** What an issue expected, in words ("a number", "one of "a" | "b""). */
export function expectedWords(issue: Issue): string {
  const expected = issue.expected ?? 'something else';
  return WORDS[expected] ?? expected.replace(/^\((.*)\)$/, 'one of $1');
}

/** Fallback message "expected …, found …" (or "missing") for schemas without their own. */
export function expectedFound(issue: Issue): string {
  if (isMissing(issue)) return 'missing';
  return `expected ${expectedWords(issue)}, found ${describeValue(issue.input)}`;
}

/** Fallback message "must be …" (or "is missing") for schemas without their own. */
export function mustBe(issue: Issue): string {
  return isMissing(issue) ? 'is missing' : `must be ${expectedWords(issue)}`;
}

/** One line per issue: "path: message". */
export function issuesText(issues: readonly Issue[], root = ''): string {
  return issues.map((issue) => `${issuePath(issue, root)}: ${issue.message}`).join('\n');
}

/** An Error whose message is the issue's "path: message" (just the message at the root). */
export function issueError(issue: Issue): Error {
  const path = issuePath(issue);
  return new Error(path === '' ? issue.message : `${path}: ${issue.message}`);
}

/**
 * Parses `value` with `schema`, stopping at the first issue; on failure throws what `fail` makes
 * of that issue (its message uses `fallback` where the schema set none).
 */
export function parseOrThrow<const S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  fail: (issue: Issue) => Error,
  fallback: (issue: Issue) => string = expectedFound,
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value, { abortEarly: true, message: fallback });
  if (!parsed.success) throw fail(parsed.issues[0]);
  return parsed.output;
}

type Nested<D extends number> = D extends 1
  ? number[]
  : D extends 2
    ? number[][]
    : D extends 3
      ? number[][][]
      : unknown[];

/** The first place in a nested array that is not an array (above `depth`) or not a number. */
function firstBadNumber(
  x: unknown,
  depth: number,
): { path: v.ArrayPathItem[]; message: string } | null {
  if (!Array.isArray(x)) return { path: [], message: 'must be an array' };
  const at = (i: number): v.ArrayPathItem => ({
    type: 'array',
    origin: 'value',
    input: x,
    key: i,
    value: x[i] as unknown,
  });
  for (let i = 0; i < x.length; i++) {
    if (depth === 1) {
      // The leaves: one tight loop, no bookkeeping unless something is wrong.
      if (!Number.isFinite(x[i])) return { path: [at(i)], message: 'must be a finite number' };
      continue;
    }
    const bad = firstBadNumber(x[i], depth - 1);
    if (bad !== null) return { path: [at(i), ...bad.path], message: bad.message };
  }
  return null;
}

/**
 * A number array nested `depth` deep (any lengths; finite numbers only): one loop over
 * the numbers instead of a schema per element, so a real model's tensors parse in milliseconds.
 */
export function numberArray<const D extends 1 | 2 | 3>(depth: D) {
  return v.pipe(
    v.custom<Nested<D>>((x) => Array.isArray(x), 'must be an array'),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const bad = firstBadNumber(dataset.value, depth);
      if (bad === null) return;
      const [first, ...rest] = bad.path;
      addIssue({ message: bad.message, ...(first ? { path: [first, ...rest] } : {}) });
    }),
  );
}

/** A Float32Array (over IPC with 'advanced' serialization): checked by type only, not per value. */
export const float32Array = v.custom<Float32Array>(
  (x) => x instanceof Float32Array,
  'must be a Float32Array',
);

/** A Float32Array of exactly `length` values. */
export function float32ArrayOf(length: number) {
  return v.pipe(
    float32Array,
    v.check((a) => a.length === length, `must hold ${length} values`),
  );
}

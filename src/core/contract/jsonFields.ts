// Small path-aware readers for parsed JSON. Each throws a ContractError whose message starts
// with the path ("mosear.architecture.layers") and says what was expected and what was found.
import { ContractError } from './contractError';

/** A JSON object being read, with the path used in error messages. */
export interface JsonObject {
  path: string;
  value: Record<string, unknown>;
}

/** Describes a JSON value briefly for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Throws a ContractError for `path`. */
export function fail(path: string, expected: string, found: unknown): never {
  throw new ContractError(`${path}: expected ${expected}, found ${describe(found)}`);
}

/** Reads a value as a JSON object. */
export function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, 'an object', value);
  }
  return { path, value: value as Record<string, unknown> };
}

/** Reads a required member of an object. */
export function member(object: JsonObject, key: string): { value: unknown; path: string } {
  const path = `${object.path}.${key}`;
  if (!Object.hasOwn(object.value, key)) {
    throw new ContractError(`${path}: missing`);
  }
  return { value: object.value[key], path };
}

/** Reads a required string member. */
export function stringAt(object: JsonObject, key: string): string {
  const { value, path } = member(object, key);
  if (typeof value !== 'string') fail(path, 'a string', value);
  return value;
}

/** Reads a required string member that must be one of `allowed`. */
export function enumAt<T extends string>(
  object: JsonObject,
  key: string,
  allowed: readonly T[],
): T {
  const { value, path } = member(object, key);
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(path, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as T;
}

/** Reads a required boolean member. */
export function booleanAt(object: JsonObject, key: string): boolean {
  const { value, path } = member(object, key);
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
  return value;
}

/** Checks that a value is a finite number. */
export function asNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'a finite number', value);
  return value;
}

/** Checks that a value is an integer ≥ `min`. */
export function asInteger(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(path, `an integer ≥ ${min}`, value);
  }
  return value;
}

/** Reads a required finite number member. */
export function numberAt(object: JsonObject, key: string): number {
  const { value, path } = member(object, key);
  return asNumber(value, path);
}

/** Reads a required integer member ≥ `min`. */
export function integerAt(object: JsonObject, key: string, min = 0): number {
  const { value, path } = member(object, key);
  return asInteger(value, path, min);
}

/** Reads a required object member. */
export function objectAt(object: JsonObject, key: string): JsonObject {
  const { value, path } = member(object, key);
  return asObject(value, path);
}

/** Reads a required array member, each item through `item`; optionally with an exact length. */
export function arrayAt<T>(
  object: JsonObject,
  key: string,
  item: (value: unknown, path: string) => T,
  length?: { exactly?: number; atLeast?: number },
): T[] {
  const { value, path } = member(object, key);
  return asArray(value, path, item, length);
}

/** Checks that a value is an array, each item through `item`. */
export function asArray<T>(
  value: unknown,
  path: string,
  item: (value: unknown, path: string) => T,
  length?: { exactly?: number; atLeast?: number },
): T[] {
  if (!Array.isArray(value)) fail(path, 'an array', value);
  if (length?.exactly !== undefined && value.length !== length.exactly) {
    fail(path, `an array of length ${length.exactly}`, `length ${value.length}`);
  }
  if (length?.atLeast !== undefined && value.length < length.atLeast) {
    fail(path, `an array of at least ${length.atLeast} items`, `length ${value.length}`);
  }
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

/** Checks that a value is a string. */
export function asString(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'a string', value);
  return value;
}

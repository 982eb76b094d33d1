// Token rows: the answer query's attention over the N key positions, per layer and head, as one
// row-major float32 block (lossless, no JSON numbers). In memory and over postMessage `data` is a
// Float32Array; in JSON (a `.mosear.json`, a report's embedded data, a webview's saved state) it
// is the base64 of its little-endian bytes, which the schema turns back into a Float32Array. A
// `.mosear.npz` keeps it as a `.npy` member instead (src/core/results/resultFile.ts).
import * as v from 'valibot';
import { float32Array } from './issues';

/** Which rows were kept: every head's, or one head-mean row per layer (shape [L, 1, N]). */
export const TokenRowsHeadsSchema = v.picklist(['all', 'mean'], 'must be "all" or "mean"');
export type TokenRowsHeads = v.InferOutput<typeof TokenRowsHeadsSchema>;

/** How many token rows a saved result keeps (`--tokens`): every head's, head means, or none. */
export const TokenStorageSchema = v.picklist(['all', 'mean', 'none'], 'must be all, mean or none');
export type TokenStorage = v.InferOutput<typeof TokenStorageSchema>;

const dimension = v.pipe(
  v.number(),
  v.integer('must be an integer ≥ 0'),
  v.minValue(0, 'must be an integer ≥ 0'),
);

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_CODES = new Int16Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_CODES[BASE64.charCodeAt(i)] = i;

/** The bytes of a base64 text (no line breaks), or null when it is not valid base64. */
export function decodeBase64(text: string): Uint8Array | null {
  let end = text.length;
  if (end % 4 !== 0) return null;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && text.length - end < 2) end--;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let bits = 0;
  let count = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const d = c < 128 ? (BASE64_CODES[c] as number) : -1;
    if (d < 0) return null;
    bits = (bits << 6) | d;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[o++] = (bits >> count) & 0xff;
    }
  }
  return out;
}

/** The base64 text of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  const chunks: string[] = [];
  const CHUNK = 3 * 8192;
  const codes = new Array<number>(4 * 8192);
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    let o = 0;
    for (let i = start; i < end; i += 3) {
      const a = bytes[i] as number;
      const b = i + 1 < end ? (bytes[i + 1] as number) : 0;
      const c = i + 2 < end ? (bytes[i + 2] as number) : 0;
      codes[o++] = BASE64.charCodeAt(a >> 2);
      codes[o++] = BASE64.charCodeAt(((a & 3) << 4) | (b >> 4));
      codes[o++] = i + 1 < end ? BASE64.charCodeAt(((b & 15) << 2) | (c >> 6)) : 61;
      codes[o++] = i + 2 < end ? BASE64.charCodeAt(c & 63) : 61;
    }
    chunks.push(String.fromCharCode(...codes.slice(0, o)));
  }
  return chunks.join('');
}

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

/** A Float32Array's bytes, little-endian (what `.npy` '<f4' and the JSON form hold). */
export function float32Bytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    swapped[i] = bytes[i + 3] as number;
    swapped[i + 1] = bytes[i + 2] as number;
    swapped[i + 2] = bytes[i + 1] as number;
    swapped[i + 3] = bytes[i] as number;
  }
  return swapped;
}

/** Little-endian float32 bytes as a Float32Array (a copy: aligned and owned). */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  // A copy in a fresh buffer at offset 0: `bytes.slice()` would share memory for a Node Buffer,
  // whose `slice` is a view.
  const copy = new Uint8Array(bytes);
  if (!LITTLE_ENDIAN) copy.set(float32Bytes(new Float32Array(copy.buffer)));
  return new Float32Array(copy.buffer, 0, copy.length >> 2);
}

/** Float32 data as JSON carries it: base64 of its little-endian bytes. */
const float32Base64 = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const bytes = decodeBase64(dataset.value);
    if (bytes === null || bytes.length % 4 !== 0) {
      addIssue({ message: 'must be the base64 of little-endian float32 values' });
      return NEVER;
    }
    return float32FromBytes(bytes);
  }),
);

/** A [L, H, N] block of token rows (H = Hh for "all", 1 for "mean"). */
export const TokenRowsSchema = v.pipe(
  v.object({
    heads: TokenRowsHeadsSchema,
    shape: v.tuple([dimension, dimension, dimension]),
    /** Row-major [L][H][N]; base64 of little-endian float32 in JSON. */
    data: v.union([float32Array, float32Base64], 'must be a Float32Array or base64 text'),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { shape, data } = dataset.value;
    const size = shape[0] * shape[1] * shape[2];
    if (data.length === size) return;
    addIssue({
      message: `must hold ${size} values (shape [${shape.join(', ')}]), not ${data.length}`,
      path: [
        {
          type: 'object',
          origin: 'value',
          input: dataset.value as unknown as Record<string, unknown>,
          key: 'data',
          value: data,
        },
      ],
    });
  }),
);
export type TokenRows = v.InferOutput<typeof TokenRowsSchema>;

/** Row-major [L·Hh·N] data as every head's rows. */
export function tokenRowsOf(data: Float32Array, L: number, Hh: number, N: number): TokenRows {
  if (data.length !== L * Hh * N) {
    throw new RangeError(`token rows: ${data.length} values for shape [${L}, ${Hh}, ${N}]`);
  }
  return { heads: 'all', shape: [L, Hh, N], data };
}

/** One row: head `head` of layer `layer` (any head of a head-mean block gives its mean row). */
export function tokenRow(rows: TokenRows, layer: number, head: number): Float32Array {
  const [L, H, N] = rows.shape;
  if (layer < 0 || layer >= L) return new Float32Array(0);
  const h = rows.heads === 'mean' ? 0 : head;
  if (h < 0 || h >= H) return new Float32Array(0);
  const start = (layer * H + h) * N;
  return rows.data.subarray(start, start + N);
}

/** The mean over heads of one layer's rows, in double precision (summed in head order). */
export function headMeanRow(rows: TokenRows, layer: number): Float64Array {
  const [L, H, N] = rows.shape;
  if (layer < 0 || layer >= L) return new Float64Array(0);
  if (rows.heads === 'mean') return Float64Array.from(tokenRow(rows, layer, 0));
  const sum = new Float64Array(N);
  for (let h = 0; h < H; h++) {
    const start = (layer * H + h) * N;
    for (let k = 0; k < N; k++) sum[k] = (sum[k] as number) + (rows.data[start + k] as number);
  }
  for (let k = 0; k < N; k++) sum[k] = (sum[k] as number) / Math.max(H, 1);
  return sum;
}

/** The head-mean rows of every layer ([L, 1, N], heads "mean"). */
export function headMeanRows(rows: TokenRows): TokenRows {
  if (rows.heads === 'mean') return rows;
  const [L, , N] = rows.shape;
  const data = new Float32Array(L * N);
  // Float32Array.set rounds each double mean to float32.
  for (let l = 0; l < L; l++) data.set(headMeanRow(rows, l), l * N);
  return { heads: 'mean', shape: [L, 1, N], data };
}

/** Token rows kept at a storage level (null for "none"). */
export function storedTokenRows(rows: TokenRows | null, storage: TokenStorage): TokenRows | null {
  if (rows === null || storage === 'none') return null;
  return storage === 'mean' ? headMeanRows(rows) : rows;
}

const base64Cache = new WeakMap<Float32Array, string>();

/**
 * A JSON.stringify replacer that writes every Float32Array as base64 (cached per array, so a
 * webview saving its state on each change encodes its rows once).
 */
export function float32JsonReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Float32Array)) return value;
  let text = base64Cache.get(value);
  if (text === undefined) {
    text = encodeBase64(float32Bytes(value));
    base64Cache.set(value, text);
  }
  return text;
}

/** JSON text of a value holding token rows (their data as base64). */
export function jsonWithTokenRows(value: unknown, indent?: number): string {
  return JSON.stringify(value, float32JsonReplacer, indent);
}

/** A copy of a plain-data value with every Float32Array as its base64 (for `setState`). */
export function jsonReadyTokenRows(value: unknown): unknown {
  if (value instanceof Float32Array) return float32JsonReplacer('', value);
  if (Array.isArray(value)) return value.map(jsonReadyTokenRows);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = jsonReadyTokenRows(item);
  return out;
}

/** Token rows in a `.mosear.npz`'s result.json: the `.npy` member that holds their data. */
export const NpzTokenRowsSchema = v.object({
  heads: TokenRowsHeadsSchema,
  shape: v.tuple([dimension, dimension, dimension]),
  /** The member's name; it holds [L, Hh, N] ("all") or [L, N] ("mean"), '<f4', C order. */
  npy: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+\.npy$/, 'must name a .npy member')),
});
export type NpzTokenRows = v.InferOutput<typeof NpzTokenRowsSchema>;

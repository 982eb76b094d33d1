// NumPy's `.npy` format (version 1.0) for float32 arrays: what `numpy.load` reads without our
// code. Only what a result needs: little-endian float32 ('<f4'), C order. The reader names the
// member in every error (a truncated file, another dtype, a shape other than expected).
import { float32Bytes, float32FromBytes } from '../../protocol/tokenRows';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Header lengths are padded so the data starts on a 64-byte boundary (NumPy's own choice). */
const ALIGN = 64;

/** A `.npy` that is not a float32 array this reader takes; the message names the member. */
export class NpyError extends Error {
  override name = 'NpyError';
}

/** The `.npy` bytes of row-major float32 data with the given shape. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new RangeError(`encodeNpy: ${data.length} values for shape [${shape.join(', ')}]`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = MAGIC.length + 4 + header.length + 1;
  header += ' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN) + '\n';
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(float32Bytes(data), 10 + header.length);
  return out;
}

/** A decoded `.npy`: its shape and its data. */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Reads a float32 `.npy` (versions 1.0–3.0); `member` names it in errors. */
export function decodeNpy(bytes: Uint8Array, member: string): NpyArray {
  const fail = (why: string): never => {
    throw new NpyError(`${member}: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('not a .npy array (no \\x93NUMPY magic)');
  }
  const major = bytes[6] as number;
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = (bytes[8] as number) | ((bytes[9] as number) << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header');
    headerLength =
      ((bytes[8] as number) |
        ((bytes[9] as number) << 8) |
        ((bytes[10] as number) << 16) |
        ((bytes[11] as number) << 24)) >>>
      0;
    start = 12;
  } else {
    return fail(`.npy version ${major} is not supported (1 to 3 are)`);
  }
  if (start + headerLength > bytes.length) fail('truncated header');
  let header = '';
  for (let i = start; i < start + headerLength; i++) header += String.fromCharCode(bytes[i] ?? 0);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr === undefined) fail('the header has no descr');
  if (descr !== '<f4') fail(`dtype ${descr} where little-endian float32 ('<f4') is expected`);
  if (!/'fortran_order'\s*:\s*False/.test(header)) fail('Fortran order where C order is expected');
  const dims = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (dims === undefined) return fail('the header has no shape');
  const shape = dims
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`bad shape (${dims})`);
  const size = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLength;
  const expected = size * 4;
  if (bytes.length - dataStart !== expected) {
    fail(
      `holds ${bytes.length - dataStart} data bytes where shape (${shape.join(', ')}) needs ${expected}` +
        (bytes.length - dataStart < expected ? ' (truncated)' : ''),
    );
  }
  return { shape, data: float32FromBytes(bytes.subarray(dataStart)) };
}

// Raw little-endian float32 tensor files (the `.f32` inputs of samples and golden cases).
import { readFile } from 'node:fs/promises';

/** Thrown when a raw tensor file has the wrong size. */
export class TensorFileError extends Error {
  override name = 'TensorFileError';
}

/**
 * Reads a raw little-endian float32 file (the `.f32` tensors of samples and golden cases).
 * With `expectedLength`, a file holding a different number of values is rejected.
 */
export async function readFloat32File(
  path: string,
  expectedLength?: number,
): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength % 4 !== 0) {
    throw new TensorFileError(
      `${path}: ${bytes.byteLength} bytes is not a whole number of float32`,
    );
  }
  const count = bytes.byteLength / 4;
  if (expectedLength !== undefined && count !== expectedLength) {
    throw new TensorFileError(`${path}: holds ${count} float32 values, expected ${expectedLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}

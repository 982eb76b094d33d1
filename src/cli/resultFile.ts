// Reads a saved result file's bytes for `show` (an npz or JSON), size first: a file over the limit gets a clear message
// instead of the engine's "Invalid string length" (a V8 string holds at most ~512 MiB).
import { readFile, stat } from 'node:fs/promises';
import { AnalysisResultError } from '../protocol/analysisResultReader';
import { UsageError } from './exitCodes';

const MIB = 1024 * 1024;
const sizeText = (bytes: number) =>
  bytes < MIB ? `${bytes} bytes` : `${(bytes / MIB).toFixed(0)} MiB`;

/** The bytes of the result file at `path`; refuses files over `maxBytes` before reading them. */
export async function readResultFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (size > maxBytes) {
    throw new AnalysisResultError(
      `${path}: the file is ${sizeText(size)}; results over ${sizeText(maxBytes)} are not ` +
        'read (is it a MoSEAR Lens result?)',
    );
  }
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

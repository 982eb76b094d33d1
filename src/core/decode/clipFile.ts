// The file checks both decoder backends make before spawning anything.
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DecodeError } from './decodeError';

/** A clip path resolved and checked to name a readable regular file. */
export interface ClipFile {
  path: string;
  name: string;
  sizeBytes: number;
}

/** Resolves `path` and checks it names a regular file (FILE_NOT_FOUND / UNREADABLE otherwise). */
export async function checkClipFile(path: string): Promise<ClipFile> {
  const absolute = resolve(path);
  const name = basename(absolute);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new DecodeError('UNREADABLE', `"${name}" is not a file.`, absolute);
    return { path: absolute, name, sizeBytes: info.size };
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DecodeError('FILE_NOT_FOUND', `The clip "${absolute}" does not exist.`, absolute);
    }
    throw new DecodeError(
      'UNREADABLE',
      `Cannot open "${absolute}": ${(error as Error).message}`,
      absolute,
    );
  }
}

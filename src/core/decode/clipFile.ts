// The file checks both decoder backends make before spawning anything.
import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DecodeError } from './decodeError';
import { SNIFF_BYTES, refusePlaylist } from './inputRestriction';

/** A clip path resolved and checked to name a readable regular file. */
export interface ClipFile {
  path: string;
  name: string;
  sizeBytes: number;
}

/**
 * Resolves `path` and checks it names a regular file (FILE_NOT_FOUND / UNREADABLE otherwise) that
 * is not a playlist or a concat script (PLAYLIST).
 */
export async function checkClipFile(path: string): Promise<ClipFile> {
  const absolute = resolve(path);
  const name = basename(absolute);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new DecodeError('UNREADABLE', `"${name}" is not a file.`, absolute);
    refusePlaylist(await readHead(absolute), name, absolute);
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

/** The file's first bytes (at most SNIFF_BYTES). */
async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

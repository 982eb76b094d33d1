// The one way the CLI, the evaluation runner and the extension write an output file: the bytes go
// to a temporary file in the target's folder, which is flushed to disk and then renamed over the
// target, so a kill, a crash or a full disk leaves either the old complete file or the new
// complete file, never a partial one. (records.jsonl is the exception: an append log whose torn
// last line the reader drops.)
import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` atomically: a temporary file in the same folder, fsync, rename over the
 * target, fsync of the folder where the platform allows. The temporary file is removed on failure.
 * A symbolic link is followed (its target is replaced); a target that is not a regular file (a
 * device such as /dev/stdout, a pipe) cannot be replaced and is written in place.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) {
    await writeFile(path, data);
    return;
  }
  const target = existing === undefined ? path : await realpath(path);
  const folder = dirname(target);
  // Same folder, so the rename stays on one file system; dot-named, so listings skip it.
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const temp = join(folder, `.${basename(target)}.${suffix}`);
  try {
    const handle = await open(temp, 'wx', (existing?.mode ?? 0o666) & 0o777);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(folder);
}

/** Flushes a folder's entries (the rename) to disk where the platform can open a folder. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open or fsync a folder; the rename is atomic there all the same.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

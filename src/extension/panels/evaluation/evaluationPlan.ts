// The pure parts of planning an evaluation in the extension: the manifest's display name, sweeps
// typed like the CLI's, and the default run folder. No `vscode` import: unit-tested in plain Node.
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { parseSweep, type SweepRequest } from '../../../core/evaluation/evaluationSettings';

/** The manifest's display name: its folder's name when the file is the conventional manifest.* */
export function manifestTitle(manifestPath: string): string {
  const name = basename(manifestPath).replace(/\.(jsonl|csv)$/i, '');
  return name === 'manifest' ? basename(join(manifestPath, '..')) : name;
}

/** Parses sweeps written like the CLI's, several separated by spaces or semicolons. */
export function parseSweepText(text: string): SweepRequest[] {
  return text
    .split(/[\s;]+/)
    .filter((s) => s !== '')
    .map(parseSweep);
}

/** The default run folder: in the workspace's `.mosear/eval/`, else the global storage. */
export function defaultRunDir(
  globalStorageDir: string,
  workspaceDir: string | undefined,
  manifest: string,
  models: readonly string[],
  sweeps: readonly SweepRequest[],
): { dir: string; note: string } {
  // The same evaluation (manifest, checkpoints, sweeps) always lands in the same folder, so
  // running it again resumes; jobs do not change the numbers and are left out.
  const hash = createHash('sha256')
    .update(JSON.stringify([resolve(manifest), models.map((m) => resolve(m)), sweeps]))
    .digest('hex')
    .slice(0, 10);
  const name = `${manifestTitle(manifest).replace(/[^\w.-]+/g, '_')}-${hash}`;
  if (workspaceDir !== undefined) {
    const dir = join(workspaceDir, '.mosear', 'eval', name);
    return { dir, note: `Run folder in the workspace: ${dir}` };
  }
  const dir = join(globalStorageDir, 'eval', name);
  return { dir, note: `No workspace is open: run folder in the extension's storage, ${dir}` };
}

// Runs the built `mosear-lens` CLI as a child process and collects its exit code and output.
import { execFile } from 'node:child_process';
import { CLI_SCRIPT } from './engineFixtures';

/** What one CLI run produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js …args` (never through a shell). */
export function runCli(args: string[], cwd?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_SCRIPT, ...args],
      { cwd, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

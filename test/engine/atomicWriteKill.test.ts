// Kills during an output write: a child process (this file, started with MOSEAR_ATOMIC_WRITER)
// rewrites a 16 MB JSON file over and over with writeFileAtomic, as `--json`, `--html`, the
// evaluation's summaries and the panels' saves do, and is SIGKILLed on a seeded schedule while
// it writes. The file is always either the old or the new complete file, never a partial one.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeFileAtomic } from '../../src/core/io/atomicWrite';
import { scratchDir } from '../helpers/tempFiles';

const BYTES = 16 * 1024 * 1024;

/** The whole file the writer's `n`th write leaves: valid JSON naming n, padded to BYTES. */
function content(n: number): string {
  const head = `{"write":${n},"fill":"`;
  return `${head}${'x'.repeat(BYTES - head.length - 3)}"}\n`;
}

/** The child: writes content(1), content(2), … to `target` until killed; a line after each. */
async function writer(target: string): Promise<void> {
  for (let n = 1; ; n++) {
    await writeFileAtomic(target, content(n));
    process.send?.(n);
  }
}

const writerTarget = process.env.MOSEAR_ATOMIC_WRITER;
if (writerTarget !== undefined) {
  void writer(writerTarget);
} else {
  describe('an atomic write killed midway', () => {
    test('leaves the old or the new complete file (12 seeded kills)', async () => {
      const dir = scratchDir('atomic-kill');
      const target = join(dir, 'result.json');
      // Seeded delays after a completed write: the next write is under way when the kill lands.
      const delaysMs = [3, 17, 29, 41, 8, 55, 23, 70, 90, 5, 35, 110];
      for (const [k, delayMs] of delaysMs.entries()) {
        const child = fork(__filename, [], {
          env: { ...process.env, MOSEAR_ATOMIC_WRITER: target },
          stdio: 'ignore',
        });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        let written = 0;
        await new Promise<void>((resolve, reject) => {
          child.on('message', (n: number) => {
            written = n;
            if (n === 1) {
              setTimeout(() => {
                child.kill('SIGKILL');
                resolve();
              }, delayMs);
            }
          });
          child.once('exit', () => reject(new Error('the writer exited before it was killed')));
        });
        await exited;
        const text = readFileSync(target, 'utf8');
        assert.equal(text.length, BYTES, `kill ${k + 1}: a partial file (${text.length} bytes)`);
        const { write } = JSON.parse(text) as { write: number };
        assert.ok(write >= Math.max(1, written), `kill ${k + 1}: write ${write} of ${written}`);
        assert.equal(text, content(write));
      }
    });
  });
}

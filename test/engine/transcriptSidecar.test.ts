// A clip's transcript sidecar through the engine and the CLI on the full-shape contract-1.1
// fixture: a .txt next to a copied sample clip fills the transcript slot (N changes) and the
// result records 'sidecar-txt'; an .srt gives its cue text; `--no-sidecar` and a request without
// sidecar pickup record 'none' and keep the default prompt.
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { runCli } from '../helpers/cliRun';
import { SAMPLES_DIR, WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'emotion-llama-fullshape.onnx');
const dir = scratchDir('transcript-sidecar');
const clip = join(dir, 'talk.mp4');
const SAID = 'I really did not want this today';

describe('transcript sidecars (full-shape fixture)', () => {
  let engine: AnalysisEngine;

  before(() => {
    requireEngineFiles();
    copyFileSync(join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4'), clip);
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('the engine reads <clip>.txt when asked, and records where the transcript came from', async () => {
    writeFileSync(join(dir, 'talk.txt'), `${SAID}\n`);
    const run = async (transcriptSidecar: boolean) =>
      readAnalysisResult(
        JSON.parse(
          jsonWithTokenRows(
            await engine.analyze({
              clipPath: clip,
              modelPath: FIXTURE,
              controls: { mode: 0 },
              thumbnails: false,
              transcriptSidecar,
            }),
          ),
        ),
      );
    const withSidecar = await run(true);
    const meta = withSidecar.model.metadata;
    const expected = resolveRunLayout(meta, { slots: { transcript: SAID } });
    assert.equal(withSidecar.settings.transcriptSource, 'sidecar-txt');
    assert.deepEqual(withSidecar.settings.slots, { transcript: SAID });
    assert.equal(withSidecar.layout?.total, expected.layout.total);
    assert.deepEqual(withSidecar.settings.promptIds, expected.promptIds);
    assert.equal(withSidecar.tokens.length, expected.layout.total);

    const without = await run(false);
    assert.equal(without.settings.transcriptSource, 'none');
    assert.equal(without.settings.slots, undefined);
    assert.equal(without.layout?.total, meta.tokenLayout.total);
    assert.notEqual(without.layout?.total, withSidecar.layout?.total, 'the transcript moves N');
  });

  test('the CLI reads an .srt by default; --no-sidecar and --transcript win over it', async () => {
    rmSync(join(dir, 'talk.txt'), { force: true });
    writeFileSync(
      join(dir, 'talk.srt'),
      '1\n00:00:00,000 --> 00:00:01,000\n<i>I am</i> fine\n\n2\n00:00:01,000 --> 00:00:02,000\nreally\n',
    );
    const analyze = async (...extra: string[]) => {
      const out = join(dir, `out-${extra.length}.json`);
      const run = await runCli([
        'analyze',
        clip,
        '--model',
        FIXTURE,
        '--mode',
        'off',
        '--json',
        out,
        '--quiet',
        '--no-thumbnails',
        ...extra,
      ]);
      assert.equal(run.code, 0, run.stderr);
      return readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    };
    const srt = await analyze();
    assert.equal(srt.settings.transcriptSource, 'sidecar-srt');
    assert.deepEqual(srt.settings.slots, { transcript: 'I am fine really' });
    assert.equal(srt.layout?.total, 329 - 9 + 4);
    const none = await analyze('--no-sidecar');
    assert.equal(none.settings.transcriptSource, 'none');
    assert.equal(none.layout?.total, 329);
    const typed = await analyze('--transcript', 'ok', '--no-sidecar');
    assert.equal(typed.settings.transcriptSource, 'cli');
    assert.equal(typed.layout?.total, 329 - 9 + 1);
  });
});

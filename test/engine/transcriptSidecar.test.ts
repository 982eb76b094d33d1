// A clip's transcript sidecar through the engine and the CLI on the committed real-checkpoint
// miniature (contract 1.1, its prompt a sentencepiece template with a transcript slot; it opens in
// a fifth of a second, where the full-shape fixture takes seconds): a .txt next to a copied sample
// clip fills the transcript slot (N changes exactly as the TypeScript tokenizer resolves the
// template) and the result records 'sidecar-txt'; an .srt gives its cue text; `--no-sidecar` and
// a request without sidecar pickup record 'none' and keep the default prompt; `--transcript` wins.
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import type { ContractMetadata } from '../../src/protocol/contract';
import { readCheckedModelFile } from '../../src/core/contract/graphCheck';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import type { PieceEncoder } from '../../src/core/contract/sentencePieceTemplate';
import { loadPromptTokenizer } from '../../src/core/tokenizer/promptTokenizer';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { runCli } from '../helpers/cliRun';
import { SAMPLES_DIR, WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'realexport', 'emotion-llama-mini.onnx');
const dir = scratchDir('transcript-sidecar');
const clip = join(dir, 'talk.mp4');
const SAID = 'I really did not want this today';

describe('transcript sidecars (real-checkpoint miniature)', () => {
  let engine: AnalysisEngine;
  let meta: ContractMetadata;
  let tokenizer: PieceEncoder;
  /** N with `transcript` in the slot (the default prompt when undefined). */
  const total = (transcript?: string): number =>
    transcript === undefined
      ? meta.tokenLayout.total
      : resolveRunLayout(meta, { slots: { transcript }, tokenizer }).layout.total;

  before(async () => {
    requireEngineFiles();
    copyFileSync(join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4'), clip);
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
    meta = (await readCheckedModelFile(FIXTURE)).metadata;
    tokenizer = (await loadPromptTokenizer(FIXTURE, meta))!;
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
    const expected = resolveRunLayout(meta, { slots: { transcript: SAID }, tokenizer });
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
    assert.equal(srt.layout?.total, total('I am fine really'));
    const none = await analyze('--no-sidecar');
    assert.equal(none.settings.transcriptSource, 'none');
    assert.equal(none.layout?.total, total());
    const typed = await analyze('--transcript', 'ok', '--no-sidecar');
    assert.equal(typed.settings.transcriptSource, 'cli');
    assert.equal(typed.layout?.total, total('ok'));
    assert.notEqual(total('ok'), total('I am fine really'), 'the runs differ in N');
  });
});

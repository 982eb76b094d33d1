// Real-checkpoint exports (models/realexport) through the CLI, their prompt a contract-1.1
// `sentencepiece` template: `info` loads the committed miniature's tokenizer.model and says so,
// and still prints the metadata (exiting non-zero) when the file is missing; `analyze
// --transcript` and a `.txt` sidecar change N and the layout exactly as the TypeScript tokenizer
// resolves the template; `compare` runs the Emotion-LLaMA-layout miniature against a
// MoSEAR-layout one exported here by the Python exporter (`miniature` + `export --adapter mose`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ContractMetadata } from '../../src/protocol/contract';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { readComparisonResult } from '../../src/protocol/comparisonResult';
import { readCheckedModelFile } from '../../src/core/contract/graphCheck';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import type { PieceEncoder } from '../../src/core/contract/sentencePieceTemplate';
import { loadPromptTokenizer } from '../../src/core/tokenizer/promptTokenizer';
import { runCli } from '../helpers/cliRun';
import { SAMPLES_DIR, requireEngineFiles } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const DIR = join(REPO_ROOT, 'models', 'fixtures', 'realexport');
const FIXTURE = join(DIR, 'emotion-llama-mini.onnx');
const PYTHON = process.env['MOSEAR_PYTHON'] ?? '/usr/bin/python3';
const SAID = 'Ça va? I am très fâché with you';
const SIDECAR = 'we won the game';

describe('real-checkpoint exports through the CLI (sentencepiece tokenizer kind)', () => {
  const dir = scratchDir('realexport-cli');
  const clip = join(dir, 'talk.mp4');
  let meta: ContractMetadata;
  let tokenizer: PieceEncoder;

  before(async () => {
    requireEngineFiles();
    copyFileSync(join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4'), clip);
    meta = (await readCheckedModelFile(FIXTURE)).metadata;
    tokenizer = (await loadPromptTokenizer(FIXTURE, meta))!;
  });

  const analyze = async (name: string, ...extra: string[]) => {
    const out = join(dir, `${name}.json`);
    const run = await runCli(['analyze', clip, '--model', FIXTURE, '--mode', 'off', ...extra]);
    assert.equal(run.code, 0, run.stderr);
    const again = await runCli([
      'analyze',
      clip,
      '--model',
      FIXTURE,
      '--mode',
      'off',
      ...extra,
      '--json',
      out,
      '--quiet',
    ]);
    assert.equal(again.code, 0, again.stderr);
    return readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
  };

  test('info loads the tokenizer; without the file it prints what it can and exits non-zero', async () => {
    const ok = await runCli(['info', FIXTURE]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /tokenizer\s+sentencepiece emotion-llama-mini\.tokenizer\.model \(sha256 [0-9a-f]{12}…\): loaded/,
    );
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    copyFileSync(FIXTURE, join(bare, 'emotion-llama-mini.onnx'));
    copyFileSync(`${FIXTURE}.data`, join(bare, 'emotion-llama-mini.onnx.data'));
    const missing = await runCli(['info', join(bare, 'emotion-llama-mini.onnx')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout, /tokens\s+333: text 0–7/);
    assert.match(missing.stdout, /tokenizer\s+sentencepiece .*cannot be used: .*ENOENT/);
    const run = await runCli(['analyze', clip, '--model', join(bare, 'emotion-llama-mini.onnx')]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /emotion-llama-mini\.tokenizer\.model .*cannot be read: ENOENT/);
  });

  test('--transcript and a sidecar change N and the layout as the template resolves', async () => {
    const none = await analyze('none', '--no-sidecar');
    assert.equal(none.layout?.total, meta.tokenLayout.total);
    assert.deepEqual(none.settings.promptIds, meta.prompt.defaultIds);

    const typed = await analyze('typed', '--transcript', SAID);
    const want = resolveRunLayout(meta, { slots: { transcript: SAID }, tokenizer });
    assert.equal(typed.settings.transcriptSource, 'cli');
    assert.deepEqual(typed.settings.promptIds, want.promptIds);
    assert.deepEqual(typed.layout, want.layout);
    assert.notEqual(typed.layout?.total, none.layout?.total, 'the transcript moves N');
    assert.equal(typed.tokens.length, want.layout.total);
    const slot = typed.layout.text.filter((t) => t.kind === 'slot');
    assert.ok(slot.length > 5 && slot.every((t) => t.slot === 'transcript'));

    writeFileSync(join(dir, 'talk.txt'), `${SIDECAR}\n`);
    const side = await analyze('sidecar');
    const fromFile = resolveRunLayout(meta, { slots: { transcript: SIDECAR }, tokenizer });
    assert.equal(side.settings.transcriptSource, 'sidecar-txt');
    assert.deepEqual(side.layout, fromFile.layout);
    assert.notEqual(side.layout?.total, typed.layout?.total);
  });

  test('compare: the Emotion-LLaMA-layout miniature against a MoSEAR-layout export', async () => {
    const models = join(REPO_ROOT, 'models');
    const mini = join(dir, 'mini');
    const mosear = join(dir, 'mosear-mini.onnx');
    for (const args of [
      ['-m', 'realexport', 'miniature', mini],
      [
        '-m',
        'realexport',
        'export',
        '--llama',
        join(mini, 'llama'),
        '--eva',
        join(mini, 'eva_vit_g.pth'),
        '--hubert',
        join(mini, 'hubert'),
        '--checkpoint',
        join(mini, 'mosear.pth'),
        '--adapter',
        'mose',
        '--out',
        mosear,
      ],
    ]) {
      const py = spawnSync(PYTHON, args, { cwd: models, encoding: 'utf8', timeout: 240_000 });
      assert.equal(py.status, 0, `${PYTHON} ${args.join(' ')}: ${py.stderr}`);
    }
    const json = join(dir, 'comparison.json');
    const run = await runCli([
      'compare',
      clip,
      '--model',
      FIXTURE,
      '--model',
      mosear,
      '--transcript',
      SAID,
      '--mode',
      'ar',
      '--json',
      json,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const comparison = readComparisonResult(JSON.parse(readFileSync(json, 'utf8')));
    assert.equal(comparison.comparing, 'checkpoints');
    const { a, b } = comparison.subjects;
    assert.equal(a.result.model.metadata.architecture.mose, false);
    assert.equal(b.result.model.metadata.architecture.mose, true);
    // the same tokenizer and template: both runs get the transcript's ids
    const want = resolveRunLayout(meta, { slots: { transcript: SAID }, tokenizer });
    assert.deepEqual(a.result.settings.promptIds, want.promptIds);
    assert.deepEqual(b.result.settings.promptIds, want.promptIds);
    assert.equal(b.result.layout?.total, want.layout.total);
  });
});

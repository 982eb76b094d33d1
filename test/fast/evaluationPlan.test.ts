// The extension's pure evaluation planning: display names, sweeps typed in a box, the default run
// folder (stable per evaluation so a re-run resumes), the finished run folders a setting can be
// chosen on, and run times as the panel prints them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { durationText } from '../../src/shared/durationText';
import {
  choiceSettings,
  evaluationSettings,
  SweepError,
} from '../../src/core/evaluation/evaluationSettings';
import type { SettingChoice } from '../../src/protocol/settingChoice';
import {
  checkFixedAlpha,
  defaultRunDir,
  evaluationTabTitle,
  finishedRunFolders,
  manifestTitle,
  parseSweepText,
  previewSweep,
  runFolderRoots,
  withFixedAlpha,
} from '../../src/extension/panels/evaluation/evaluationPlan';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { validMetadataValues, toProps } from '../helpers/contractFixture';

/** The fixture checkpoint (AR, share, τ 0.5, margin 0.1, α 0.3, γ 0.5, layers 1–3), renamed
 * and with its defaults edited. */
function checkpoint(name: string, defaults: Record<string, unknown> = {}) {
  const values = validMetadataValues();
  (values['mosear.checkpoint'] as Record<string, unknown>)['name'] = name;
  Object.assign(values['mosear.ar_defaults'] as Record<string, unknown>, defaults);
  return parseContractMetadata(toProps(values));
}

describe('evaluation plan (extension)', () => {
  it('previews a sweep choice: runs, the defaults it holds fixed, settings without effect', () => {
    const acting = checkpoint('acting');
    // mosear-tiny's stored defaults: mode off, τ 0, margin 0, α 0.
    const still = checkpoint('still', { mode: 0, tau: [0, 0, 0, 0], head_margin: 0, alpha: 0 });
    const none = previewSweep([acting, still], [], 30);
    assert.equal(none.runs, '30 clips × 3 settings × 2 checkpoints = 180 runs');
    assert.deepEqual(none.heldFixed, [
      'acting: AR share statistic, τ 0.5, margin 0.1, α 0.3, layers 1,2,3; PAI-style γ 0.5 on every layer',
      'still: AR share statistic, τ 0, margin 0, α 0, layers 1,2,3; PAI-style γ 0.5 on every layer',
    ]);
    assert.deepEqual(none.warnings, ['still: 1 of 3 settings cannot change the model (α = 0): AR']);
    // The default share τ sweep has 21 points: 24 settings per checkpoint, τ no longer fixed.
    const tau = previewSweep([acting, still], parseSweepText('tau'), 30);
    assert.equal(tau.runs, '30 clips × 24 settings × 2 checkpoints = 1440 runs');
    assert.equal(tau.heldFixed[1], 'still: AR share statistic, margin 0, α 0, layers 1,2,3');
    assert.deepEqual(tau.warnings, [
      'still: 22 of 24 settings cannot change the model (α = 0): AR, AR tau=0, AR tau=0.05, AR tau=0.1, AR tau=0.15, AR tau=0.2 and 16 more',
    ]);
    // Holding α at 0.3 makes every τ point act; the checkpoint's own AR keeps its default.
    const fixed = previewSweep([still], withFixedAlpha(parseSweepText('tau'), 0.3), 1);
    assert.equal(fixed.runs, '1 clip × 24 settings × 1 checkpoint = 24 runs');
    assert.equal(fixed.heldFixed[0], 'still: AR share statistic, margin 0, layers 1,2,3');
    assert.deepEqual(fixed.warnings, [
      'still: 1 of 24 settings cannot change the model (α = 0): AR',
    ]);
    assert.deepEqual(withFixedAlpha(parseSweepText('tau'), null), parseSweepText('tau'));
    assert.deepEqual(
      withFixedAlpha(parseSweepText('alpha=0,1'), 0.3),
      parseSweepText('alpha=0,1'),
      'an α sweep is not held fixed',
    );
  });

  it('titles two evaluations of one manifest apart: checkpoints and swept values', () => {
    const a = checkpoint('a');
    const b = checkpoint('b');
    const title = (metas: (typeof a)[], sweep: string) =>
      evaluationTabTitle(
        'test',
        metas.map((m) => ({
          name: m.checkpoint.name,
          settings: evaluationSettings(m, parseSweepText(sweep)),
        })),
      );
    const titles = [
      title([a, b], ''),
      title([a], ''),
      title([a, b], 'tau'),
      title([a, b], 'tau alpha=0.3'),
      title([a, b], 'alpha=0:1:0.1'),
    ];
    assert.deepEqual(titles, [
      'MoSEAR Eval: test · a + b',
      'MoSEAR Eval: test · a',
      'MoSEAR Eval: test · a + b · τ ×21',
      'MoSEAR Eval: test · a + b · τ ×21, α 0.3',
      'MoSEAR Eval: test · a + b · α ×11',
    ]);
    // The panel restored from a run folder reads the same from its plan's settings.
    assert.equal(new Set(titles).size, titles.length);
  });

  it('checks the α a τ sweep holds fixed: 0 is accepted with a warning, out of range refused', () => {
    const defaults = [
      { name: 'acting', alpha: 0.1 },
      { name: 'still', alpha: 0 },
    ];
    assert.equal(checkFixedAlpha('0.3', defaults), undefined);
    assert.deepEqual(checkFixedAlpha('0', defaults), {
      message: 'α = 0: AR cannot change the model, every τ point will equal off',
      warning: true,
    });
    assert.deepEqual(checkFixedAlpha('', defaults), {
      message: 'the default α of still is 0: its τ points cannot change the model',
      warning: true,
    });
    assert.equal(checkFixedAlpha('', [{ name: 'acting', alpha: 0.1 }]), undefined);
    for (const bad of ['1.5', '-0.1', 'x'])
      assert.equal(checkFixedAlpha(bad, defaults)?.warning, false);
  });

  it('names a manifest by its folder when it is the conventional manifest.*', () => {
    assert.equal(manifestTitle('/data/ca-mer/test/manifest.jsonl'), 'test');
    assert.equal(manifestTitle('/data/ca-mer/test/manifest.CSV'), 'test');
    assert.equal(manifestTitle('/data/hard-cases.jsonl'), 'hard-cases');
  });

  it('reads one or more sweeps typed like the CLI’s', () => {
    assert.deepEqual(parseSweepText(''), []);
    assert.deepEqual(parseSweepText('tau'), [{ parameter: 'tau', values: null }]);
    assert.deepEqual(parseSweepText(' tau=0.1:0.3:0.1 ; alpha=0,1 '), [
      { parameter: 'tau', values: [0.1, 0.2, 0.3] },
      { parameter: 'alpha', values: [0, 1] },
    ]);
    assert.throws(() => parseSweepText('gamma=1'), SweepError);
  });

  it('gives one evaluation one run folder, in the workspace or else the global storage', () => {
    const sweeps = parseSweepText('tau=0.1:0.3:0.1');
    const a = defaultRunDir('/g', '/ws', '/d/test/manifest.jsonl', ['/m/a.onnx'], sweeps);
    const again = defaultRunDir('/g', '/ws', '/d/test/manifest.jsonl', ['/m/a.onnx'], sweeps);
    assert.equal(a.dir, again.dir);
    assert.match(a.dir, new RegExp(`^${join('/ws', '.mosear', 'eval', 'test-')}[0-9a-f]{10}$`));
    assert.match(a.note, /in the workspace/);
    const other = defaultRunDir('/g', '/ws', '/d/test/manifest.jsonl', ['/m/b.onnx'], sweeps);
    assert.notEqual(other.dir, a.dir);
    const noSweep = defaultRunDir('/g', '/ws', '/d/test/manifest.jsonl', ['/m/a.onnx'], []);
    assert.notEqual(noSweep.dir, a.dir);
    const global = defaultRunDir('/g', undefined, '/d/test/manifest.jsonl', ['/m/a.onnx'], sweeps);
    assert.ok(global.dir.startsWith(join('/g', 'eval', 'test-')));
    assert.match(global.note, /No workspace is open/);
  });

  it('choose, then evaluate: finished run folders, a run folder and a tab title of its own', () => {
    const root = mkdtempSync(join(tmpdir(), 'mosear-runs-'));
    try {
      const roots = runFolderRoots(join(root, 'g'), join(root, 'ws'));
      assert.deepEqual(roots, [join(root, 'ws', '.mosear', 'eval'), join(root, 'g', 'eval')]);
      assert.deepEqual(runFolderRoots('/g', undefined), [join('/g', 'eval')]);
      const folder = (base: string, name: string, files: string[]) => {
        const dir = join(base, name);
        mkdirSync(dir, { recursive: true });
        for (const f of files) writeFileSync(join(dir, f), '{}');
        return dir;
      };
      const done = folder(roots[0] as string, 'val-1', ['plan.json', 'summary.json']);
      folder(roots[0] as string, 'running', ['plan.json', 'records.jsonl']);
      const global = folder(roots[1] as string, 'val-2', ['plan.json', 'summary.json']);
      assert.deepEqual(finishedRunFolders(roots), [done, global]);
      assert.deepEqual(finishedRunFolders([join(root, 'missing')]), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    const meta = checkpoint('a');
    const chosen = evaluationSettings(meta)[1]!;
    const choice: SettingChoice = {
      schema: 'mosear-lens-choice/1',
      checkpoint: { name: 'a', fileName: 'a.onnx', path: '/m/a.onnx', sha256: 'x' },
      chosenBy: {
        manifest: '/d/val/manifest.jsonl',
        manifestSha256: 'y',
        clips: 12,
        runFolder: '/r',
        rule: 'ar-defaults',
        ruleText: '…',
      },
      candidates: [],
      chosen,
    };
    const plain = defaultRunDir('/g', '/ws', '/d/test/manifest.jsonl', ['/m/a.onnx'], []);
    const evaluated = defaultRunDir(
      '/g',
      '/ws',
      '/d/test/manifest.jsonl',
      ['/m/a.onnx'],
      [],
      choice,
    );
    assert.notEqual(evaluated.dir, plain.dir);
    assert.equal(
      evaluationTabTitle('test', [{ name: 'a', settings: choiceSettings(meta, choice) }]),
      'MoSEAR Eval: test · a · chosen on val',
    );
  });

  it('prints run times in seconds, then minutes', () => {
    assert.equal(durationText(400), '0 s');
    assert.equal(durationText(12_400), '12 s');
    assert.equal(durationText(185_000), '3 min 5 s');
  });
});

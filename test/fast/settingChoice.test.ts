// The choice rules on hand-built summaries: the repository's `ar-defaults` rule (video-aligned
// accuracy subject to ≤ 0.5-point drops; ties to the higher mean, fewer flagged heads, smaller
// α), `best-mean`, the refusals (no CA-MER subsets, a single setting, several checkpoints), the
// choice file's schema, the settings an evaluation of a choice runs, and the words reports use.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as v from 'valibot';
import type { ArControls } from '../../src/protocol/contract';
import type {
  BenchmarkSummary,
  CheckpointEvaluation,
  SettingScores,
} from '../../src/protocol/evaluationSummary';
import type { BenchmarkPlan, EvaluationSetting } from '../../src/protocol/runFolder';
import { SettingChoiceSchema } from '../../src/protocol/settingChoice';
import {
  chooseSetting,
  parseChoiceRule,
  rankSettings,
} from '../../src/core/evaluation/settingChoice';
import { choiceSettings } from '../../src/core/evaluation/evaluationSettings';
import { summarizeBenchmark } from '../../src/core/evaluation/benchmarkSummary';
import { chosenByLine } from '../../src/shared/chosenByText';
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import type { ContractMetadata } from '../../src/protocol/contract';

const CONTROLS: ArControls = {
  mode: 1,
  ratioKind: 2,
  tau: [0.5, 0.5],
  headMargin: 0.25,
  alpha: 0.1,
  paiAlpha: 0.25,
  layers: [1, 1],
  headOverride: [
    [0, 0],
    [0, 0],
  ],
};

/** A setting with accuracy per CA-MER subset (consistent, audio-aligned, video-aligned). */
interface Row {
  id: string;
  acc: [number, number, number];
  heads?: number;
  mode?: 0 | 1 | 2;
  alpha?: number;
}

function scores(row: Row, subsets: readonly string[]): SettingScores {
  const bySubset = Object.fromEntries(
    subsets.map((name, i) => [name, { count: 150, accuracy: row.acc[i] ?? NaN, weightedF1: 0 }]),
  );
  const mean = row.acc.reduce((a, b) => a + b, 0) / 3;
  return {
    id: row.id,
    title: row.id,
    sweep: null,
    overall: { count: 450, accuracy: mean, weightedF1: 0 },
    bySubset,
    gap: null,
    meanFlaggedHeads: row.heads ?? 0,
    confusion: [],
    flips: [],
  };
}

function setting(row: Row): EvaluationSetting {
  const mode = row.mode ?? (row.id === 'off' ? 0 : 1);
  return {
    id: row.id,
    title: row.id,
    controls: { ...CONTROLS, mode, alpha: row.alpha ?? CONTROLS.alpha },
    sweep: null,
  };
}

const CA_MER = ['consistent', 'audio-aligned', 'video-aligned'];

function run(rows: Row[], subsets = CA_MER, names = ['ckpt']) {
  const evaluation = (name: string): CheckpointEvaluation => ({
    name,
    fileName: `${name}.onnx`,
    evaluated: 450,
    settings: rows.map((r) => scores(r, subsets)),
    byAnswer: null,
  });
  const plan: BenchmarkPlan = {
    schema: 'mosear-lens-eval/1',
    manifest: { path: '/data/val/manifest.jsonl', sha256: 'aaa', clips: 450 },
    labels: ['a', 'b'],
    decodeSpec: 'mosear-decode-1',
    executionProvider: 'cpu',
    intraOpThreads: 1,
    checkpoints: names.map((name) => ({
      path: `/m/${name}.onnx`,
      fileName: `${name}.onnx`,
      name,
      sha256: `sha-${name}`,
      settings: rows.map(setting),
    })),
    shard: { index: 1, count: 1 },
  };
  const summary = {
    subsets,
    checkpoints: names.map(evaluation),
  } as unknown as BenchmarkSummary;
  return { runFolder: '/runs/val', plan, summary };
}

const OFF: Row = { id: 'off', acc: [96, 94, 80] };

describe('choose: the ar-defaults rule', () => {
  test('maximises video-aligned accuracy among settings losing at most 0.5 points elsewhere', () => {
    const source = run([
      OFF,
      { id: 'strong', acc: [96, 93, 90] }, // audio-aligned −1.0: infeasible
      { id: 'edge', acc: [95.5, 93.5, 82] }, // exactly −0.5 on both: feasible
      { id: 'mild', acc: [96, 94, 81] },
    ]);
    const choice = chooseSetting(source, 'ar-defaults');
    assert.equal(choice.chosen.id, 'edge');
    const byId = Object.fromEntries(choice.candidates.map((c) => [c.id, c]));
    assert.equal(byId['strong']?.feasible, false);
    assert.match(byId['strong']?.reason ?? '', /audio-aligned -1\.0 points against off/);
    assert.equal(byId['strong']?.rank, null);
    assert.deepEqual(
      ['edge', 'mild', 'off'].map((id) => byId[id]?.rank),
      [1, 2, 3],
    );
    assert.equal(byId['edge']?.score, 82);
    assert.equal(choice.chosenBy.rule, 'ar-defaults');
    assert.match(choice.chosenBy.ruleText, /video-aligned.*at most 0\.5 points/);
    assert.equal(choice.chosenBy.manifestSha256, 'aaa');
    assert.equal(choice.chosenBy.clips, 450);
    assert.equal(choice.checkpoint.sha256, 'sha-ckpt');
    assert.deepEqual(choice.chosen.controls, setting({ id: 'edge', acc: [0, 0, 0] }).controls);
    // The file is what its schema says.
    assert.ok(v.safeParse(SettingChoiceSchema, JSON.parse(JSON.stringify(choice))).success);
  });

  test('ties: higher mean, then fewer flagged heads, then smaller α, then plan order', () => {
    const pick = (rows: Row[]) => chooseSetting(run([OFF, ...rows]), 'ar-defaults').chosen.id;
    // Same video-aligned: the higher mean wins.
    assert.equal(
      pick([
        { id: 'low-mean', acc: [95.6, 93.6, 85] },
        { id: 'high-mean', acc: [96, 94, 85] },
      ]),
      'high-mean',
    );
    // Same video-aligned and mean: fewer flagged heads.
    assert.equal(
      pick([
        { id: 'many', acc: [96, 94, 85], heads: 3 },
        { id: 'few', acc: [96, 94, 85], heads: 1.5 },
      ]),
      'few',
    );
    // Then the smaller α.
    assert.equal(
      pick([
        { id: 'a0.3', acc: [96, 94, 85], heads: 1, alpha: 0.3 },
        { id: 'a0.1', acc: [96, 94, 85], heads: 1, alpha: 0.1 },
      ]),
      'a0.1',
    );
    // A full tie keeps the evaluation's order.
    assert.equal(
      pick([
        { id: 'first', acc: [96, 94, 85], heads: 1 },
        { id: 'second', acc: [96, 94, 85], heads: 1 },
      ]),
      'first',
    );
    // Nothing beats off: off (no flagged heads, strength 0) wins its tie with a no-op.
    assert.equal(pick([{ id: 'noop', acc: [96, 94, 80], heads: 2 }]), 'off');
    assert.equal(pick([{ id: 'costly', acc: [96, 92, 99] }]), 'off');
  });

  test('refuses a run without the CA-MER subsets, with one setting, or with several checkpoints', () => {
    assert.throws(
      () => chooseSetting(run([OFF, { id: 'ar', acc: [1, 2, 3] }], ['a', 'b']), 'ar-defaults'),
      /needs the CA-MER subsets .*no consistent, audio-aligned, video-aligned clips .*best-mean/,
    );
    assert.throws(
      () => chooseSetting(run([OFF]), 'best-mean'),
      /single setting \(off\): there is nothing to choose from/,
    );
    const two = run([OFF, { id: 'ar', acc: [96, 94, 81] }], CA_MER, ['x', 'y']);
    assert.throws(() => chooseSetting(two, 'ar-defaults'), /evaluated x, y: name one/);
    assert.throws(() => chooseSetting(two, 'ar-defaults', 'z'), /no checkpoint "z"/);
    assert.equal(chooseSetting(two, 'ar-defaults', 'y').checkpoint.name, 'y');
    assert.throws(() => parseChoiceRule('best'), /unknown rule "best" \(rules: ar-defaults/);
  });
});

describe('choose: the best-mean rule', () => {
  test('maximises the mean over subsets, without constraints; ties to fewer flagged heads', () => {
    const source = run([
      OFF,
      { id: 'costly', acc: [96, 90, 95] }, // mean 93.67: wins despite −4 audio-aligned
      { id: 'twin', acc: [96, 90, 95], heads: 1 },
    ]);
    const choice = chooseSetting(source, 'best-mean');
    assert.equal(choice.chosen.id, 'costly');
    assert.ok(choice.candidates.every((c) => c.feasible));
    // Without subsets the overall accuracy is the mean.
    const plain = run([OFF, { id: 'ar', acc: [99, 99, 99] }], []);
    const ranked = rankSettings(
      'best-mean',
      plain.summary,
      plain.summary.checkpoints[0] as CheckpointEvaluation,
      plain.plan.checkpoints[0] as BenchmarkPlan['checkpoints'][number],
    );
    assert.equal(ranked.chosen.id, 'ar');
    assert.equal(ranked.candidates[1]?.score, 99);
  });
});

describe('evaluating a choice', () => {
  const meta = {
    arDefaults: { ...CONTROLS, mode: 1 },
    architecture: { layers: 2, heads: 2 },
  } as unknown as ContractMetadata;

  test('runs off and the chosen setting, marked with where it was chosen', () => {
    const choice = chooseSetting(
      run([OFF, { id: 'ar tau=0.3', acc: [96, 94, 85] }]),
      'ar-defaults',
    );
    const settings = choiceSettings(meta, choice);
    assert.deepEqual(
      settings.map((s) => [s.id, s.controls.mode, s.chosenBy?.rule]),
      [
        ['off', 0, undefined],
        ['ar tau=0.3', 1, 'ar-defaults'],
      ],
    );
    // When the rule kept off, off alone carries the mark.
    const kept = chooseSetting(run([OFF, { id: 'worse', acc: [90, 90, 80] }]), 'ar-defaults');
    assert.deepEqual(
      choiceSettings(meta, kept).map((s) => [s.id, s.chosenBy?.rule]),
      [['off', 'ar-defaults']],
    );
  });

  test('the summary, scores.csv and the words say where it was chosen; same manifest warns', () => {
    const choice = chooseSetting(run([OFF, { id: 'ar', acc: [96, 94, 85] }]), 'ar-defaults');
    const summarize = (manifest: { path: string; sha256: string }) =>
      summarizeBenchmark(
        {
          ...run([OFF]).plan,
          manifest: { ...manifest, clips: 1 },
          checkpoints: [
            {
              path: '/m/ckpt.onnx',
              fileName: 'ckpt.onnx',
              name: 'ckpt',
              sha256: 'sha-ckpt',
              settings: choiceSettings(meta, choice),
            },
          ],
        },
        [{ label: 0, subset: 'consistent', relativePath: 'a.mp4' }],
        [
          {
            schema: 'mosear-lens-eval/1',
            clip: 0,
            path: 'a.mp4',
            checkpoint: 'ckpt',
            ok: true,
            predictions: [0, 0],
            probabilities: [
              [1, 0],
              [1, 0],
            ],
            flaggedHeads: [0, 1],
            silenceUsed: false,
            uap: [],
            tokenAttention: [],
          },
        ],
        1,
      );
    const test = summarize({ path: '/data/test/manifest.jsonl', sha256: 'bbb' });
    const chosen = test.checkpoints[0]?.settings[1]?.chosenBy;
    assert.equal(chosen?.sameManifest, false);
    assert.equal(test.checkpoints[0]?.settings[0]?.chosenBy, undefined);
    const line = chosenByLine(chosen);
    assert.equal(line, 'chosen on /data/val/manifest.jsonl (450 clips) by rule ar-defaults');
    const csv = benchmarkCsvTables(test)['scores.csv'] ?? '';
    assert.match(csv.split('\n')[0] ?? '', /,chosen_by$/);
    assert.ok(csv.includes(`,${line}\n`), csv);
    // The same clip list (by sha256, or by path) is selection on test: said, not refused.
    for (const manifest of [
      { path: '/elsewhere/manifest.jsonl', sha256: 'aaa' },
      { path: '/data/val/manifest.jsonl', sha256: 'changed' },
    ]) {
      const same = summarize(manifest).checkpoints[0]?.settings[1]?.chosenBy;
      assert.equal(same?.sameManifest, true);
      assert.match(
        chosenByLine(same),
        /WARNING, selection on test: .*chosen on this very manifest/,
      );
    }
  });
});

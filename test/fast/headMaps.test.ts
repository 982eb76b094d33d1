// Heads over a benchmark: the records' head masks, the layer × head maps of summarizeBenchmark
// (a 2 × 2 example worked by hand), heads.csv, fixedHeadOverride and the fixed head set of a run,
// and old records without head data still reading.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeHeadMask,
  encodeHeadMask,
  fixedHeadOverride,
  fixedHeadSetOf,
  manifestName,
  mostFlaggedHeads,
} from '../../src/core/evaluation/headMaps';
import { parseRecords } from '../../src/core/evaluation/benchmarkRecords';
import { summarizeBenchmark } from '../../src/core/evaluation/benchmarkSummary';
import { BenchmarkSummarySchema } from '../../src/protocol/evaluationSummary';
import type { ArControls } from '../../src/protocol/contract';
import type { BenchmarkPlan, ClipOkRecord } from '../../src/protocol/runFolder';
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import * as v from 'valibot';

function controls(mode: 0 | 1 | 2): ArControls {
  return {
    mode,
    ratioKind: 2,
    tau: [0.1, 0.2],
    headMargin: 0.25,
    alpha: 0.3,
    paiAlpha: 0.5,
    layers: [1, 1],
    headOverride: [
      [0, 0],
      [0, 0],
    ],
  };
}

const PLAN: BenchmarkPlan = {
  schema: 'mosear-lens-eval/1',
  manifest: { path: '/data/ca-mer-val/manifest.jsonl', sha256: 'x', clips: 4 },
  labels: ['a', 'b'],
  decodeSpec: 'mosear-decode-1',
  executionProvider: 'cpu',
  intraOpThreads: 1,
  checkpoints: [
    {
      path: '/m/tiny.onnx',
      fileName: 'tiny.onnx',
      name: 'tiny',
      sha256: 'y',
      settings: [
        { id: 'off', title: 'off', controls: controls(0), sweep: null },
        { id: 'ar', title: 'AR', controls: controls(1), sweep: null },
      ],
    },
  ],
  shard: { index: 1, count: 1 },
};

const SUBSETS = ['consistent', 'consistent', 'video-aligned', 'audio-aligned'];
const ENTRIES = SUBSETS.map((subset, i) => ({
  label: [0, 1, 0, 1][i] as number,
  subset,
  relativePath: `c${i}.mp4`,
}));

/** Clip i: off always right; AR right on clips 0 and 2; its flags and the off statistics. */
function record(i: number, withHeads = true): ClipOkRecord {
  const label = ENTRIES[i]!.label;
  const ar = [0, 0, 0, 0][i] as number;
  const arFlags = [
    [1, 0, 0, 1],
    [1, 1, 0, 0],
    [0, 0, 0, 1],
    [1, 0, 0, 0],
  ][i]!;
  const statistics = [
    [1, 2, 3, 4],
    [3, 2, 1, 0],
    [2, 2, 2, 2],
    [0, 0, 0, 8],
  ][i]!;
  const uap = { visual: 0.5, audio: 0.3, text: 0.2, visualOfAV: 0.625, audioOfAV: 0.375 };
  const tokens = { audioToken: 0.1, visualTokenMean: 0.2, visualTokenMax: 0.3, textTokenMean: 0 };
  return {
    schema: 'mosear-lens-eval/1',
    clip: i,
    path: `c${i}.mp4`,
    checkpoint: 'tiny',
    ok: true,
    predictions: [label, ar],
    probabilities: [
      [0.5, 0.5],
      [0.5, 0.5],
    ],
    flaggedHeads: [0, arFlags.reduce((a, b) => a + b, 0)],
    ...(withHeads
      ? {
          flagMasks: [encodeHeadMask([0, 0, 0, 0]), encodeHeadMask(arFlags)],
          headStatistics: statistics,
        }
      : {}),
    silenceUsed: false,
    uap: [uap, uap],
    tokenAttention: [tokens, tokens],
  };
}

describe('head masks', () => {
  it('pack four heads per hex digit, head 4k in the lowest bit', () => {
    assert.equal(encodeHeadMask([1, 0, 0, 1, 0, 1]), '92');
    assert.deepEqual(decodeHeadMask('92', 6), [true, false, false, true, false, true]);
    const many = Array.from({ length: 1024 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const mask = encodeHeadMask(many);
    assert.equal(mask.length, 256, '1024 heads in 256 characters');
    assert.deepEqual(
      decodeHeadMask(mask, 1024),
      many.map((f) => f === 1),
    );
    assert.throws(() => decodeHeadMask('9', 6), /2 hex digits/);
  });
});

describe('head maps over a benchmark', () => {
  const records = [0, 1, 2, 3].map((i) => record(i));
  const summary = summarizeBenchmark(PLAN, ENTRIES, records, 4);
  const heads = summary.checkpoints[0]!.heads!;

  it('count each group’s flags and average the off statistics (worked by hand)', () => {
    assert.equal(heads.layers, 2);
    assert.equal(heads.heads, 2);
    assert.equal(heads.statistic, 'share');
    assert.deepEqual(
      heads.settings.map((s) => s.setting),
      ['ar'],
      'only settings that can flag heads',
    );
    const g = heads.settings[0]!.groups;
    assert.deepEqual(Object.keys(g), [
      'all',
      'consistent',
      'audio-aligned',
      'video-aligned',
      'right',
      'wrong',
    ]);
    assert.deepEqual(g['all'], {
      clips: 4,
      flagShare: [
        [0.75, 0.25],
        [0, 0.5],
      ],
      meanStatistic: [
        [1.5, 1.5],
        [1.5, 3.5],
      ],
    });
    assert.deepEqual(g['consistent']?.flagShare, [
      [1, 0.5],
      [0, 0.5],
    ]);
    assert.deepEqual(g['consistent']?.meanStatistic, [
      [2, 2],
      [2, 2],
    ]);
    assert.deepEqual(g['audio-aligned']?.meanStatistic, [
      [0, 0],
      [0, 8],
    ]);
    // AR answered clips 0 and 2 right, 1 and 3 wrong.
    assert.deepEqual(g['right'], {
      clips: 2,
      flagShare: [
        [0.5, 0],
        [0, 1],
      ],
      meanStatistic: [
        [1.5, 2],
        [2.5, 3],
      ],
    });
    assert.deepEqual(g['wrong'], {
      clips: 2,
      flagShare: [
        [1, 0.5],
        [0, 0],
      ],
      meanStatistic: [
        [1.5, 1],
        [0.5, 4],
      ],
    });
    // The summary with its maps passes its own schema (after a JSON round trip).
    v.parse(BenchmarkSummarySchema, JSON.parse(JSON.stringify(summary)));
  });

  it('write heads.csv: one row per checkpoint, setting, group, layer and head', () => {
    const lines = benchmarkCsvTables(summary)['heads.csv']!.trim().split(/\r?\n/);
    assert.equal(
      lines[0],
      'checkpoint,setting,group,clips,layer,head,flag_share,mean_statistic,statistic',
    );
    assert.equal(lines.length, 1 + 6 * 4);
    assert.equal(lines[4], 'tiny,ar,all,4,1,1,0.5,3.5,share');
    assert.ok(lines.includes('tiny,ar,wrong,2,1,1,0,4,share'));
  });

  it('rank the most-flagged heads', () => {
    const all = heads.settings[0]!.groups['all']!;
    assert.deepEqual(mostFlaggedHeads(all, 2), [
      { layer: 0, head: 0, share: 0.75 },
      { layer: 1, head: 1, share: 0.5 },
    ]);
  });

  it('leave out clips whose records predate head data; none at all: no map', () => {
    const mixed = summarizeBenchmark(PLAN, ENTRIES, [...records.slice(0, 3), record(3, false)], 4);
    assert.equal(mixed.checkpoints[0]!.heads!.settings[0]!.groups['all']!.clips, 3);
    assert.equal(mixed.checkpoints[0]!.settings[0]!.overall.count, 4, 'scores count every clip');
    const old = summarizeBenchmark(
      PLAN,
      ENTRIES,
      [0, 1, 2, 3].map((i) => record(i, false)),
      4,
    );
    assert.equal(old.checkpoints[0]!.heads, null);
  });

  it('read old records.jsonl lines (no head fields) and new ones', () => {
    const text = `${JSON.stringify(record(0, false))}\n${JSON.stringify(record(1))}\n`;
    const { records: read } = parseRecords(text);
    assert.equal(read.length, 2);
    assert.ok(read[0]!.ok && read[0]!.flagMasks === undefined);
    assert.ok(read[1]!.ok && read[1]!.flagMasks?.[1] === '3');
    assert.throws(
      () => parseRecords(`${JSON.stringify({ ...record(1), flagMasks: ['0', 'xz'] })}\n`),
      /flagMasks\[1\]/,
    );
  });
});

describe('fixedHeadOverride', () => {
  const map = {
    flagShare: [
      [0.75, 0.25],
      [0, 0.5],
    ],
  };
  it('forces on the heads flagged in at least minShare of the clips, every other head off', () => {
    assert.deepEqual(fixedHeadOverride(map, 0.5), [
      [1, -1],
      [-1, 1],
    ]);
    assert.deepEqual(fixedHeadOverride(map, 0.75), [
      [1, -1],
      [-1, -1],
    ]);
    assert.deepEqual(fixedHeadOverride(map, 0), [
      [1, 1],
      [1, 1],
    ]);
    assert.throws(() => fixedHeadOverride(map, 1.5), /\[0, 1\]/);
  });

  it('chooses a run’s fixed head set from its AR records', () => {
    const set = fixedHeadSetOf(
      PLAN,
      [0, 1, 2, 3].map((i) => record(i)),
      'tiny',
      0.5,
    );
    assert.deepEqual(set, {
      override: [
        [1, -1],
        [-1, 1],
      ],
      heads: 2,
      chosenOn: 'ca-mer-val',
      minShare: 0.5,
      clips: 4,
    });
    assert.throws(() => fixedHeadSetOf(PLAN, [], 'tiny', 0.5), /no flagged heads/);
    assert.throws(() => fixedHeadSetOf(PLAN, [], 'other', 0.5), /no records of checkpoint other/);
    assert.equal(manifestName('C:\\data\\val.csv'), 'val.csv');
  });
});

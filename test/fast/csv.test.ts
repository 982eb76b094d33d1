// The one CSV writer against CSV injection (OWASP): hostile text through csvCell, toCsv and every
// table of an evaluation's run folder comes out neutralised (a leading ') or as a plain number,
// and numbers, negative ones included, stay numbers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LayerUap } from '../../src/protocol/analysisResult';
import type {
  AnswerSplit,
  BenchmarkSummary,
  GroupMean,
  LayerTokenAttention,
  PairedDelta,
  SettingScores,
} from '../../src/protocol/evaluationSummary';
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import { csvCell, csvRows, toCsv } from '../../src/shared/csv';

const HOSTILE = [
  '=HYPERLINK("http://x")',
  "=cmd|' /C calc'!A0",
  '+1+1',
  '-2+3',
  '@SUM(A1)',
  '\t=1',
  '\r=1',
  '=1+"a, b"',
  '"quoted", and, commas',
  '-',
  '+',
] as const;

/** A plain decimal or scientific number, as a spreadsheet reads one. */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** RFC 4180 rows: quoted cells may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  assert.equal(quoted, false, 'an unterminated quoted cell');
  assert.equal(row.length + cell.length, 0, 'CSV text ends with a newline');
  return rows;
}

/** Every cell is a plain number or text no spreadsheet reads as a formula. */
function assertSafe(csv: string, what: string): string[][] {
  const rows = parseCsv(csv);
  for (const cell of rows.flat()) {
    const safe = NUMBER.test(cell) || !/^[=+\-@\t\r]/.test(cell);
    assert.ok(safe, `${what}: the cell ${JSON.stringify(cell)} could run as a formula`);
  }
  return rows;
}

describe('CSV cells', () => {
  test('hostile text gets a leading quote and survives a round trip', () => {
    for (const text of HOSTILE) {
      const [[cell]] = assertSafe(`${csvCell(text)}\n`, 'csvCell') as [[string]];
      const expected = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
      assert.equal(cell, expected, JSON.stringify(text));
    }
    assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    assert.equal(csvCell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell('\r=1'), `"'\r=1"`);
    assert.equal(csvCell('a "b", c'), '"a ""b"", c"');
  });

  test('numbers stay numbers, negative ones and number-like text included', () => {
    assert.equal(csvCell(-2), '-2');
    assert.equal(csvCell(-0.25), '-0.25');
    assert.equal(csvCell(-1e-7), '-1e-7');
    assert.equal(csvCell(0), '0');
    assert.equal(csvCell(12.5), '12.5');
    assert.equal(csvCell('-3'), '-3');
    assert.equal(csvCell('+1.5e3'), '+1.5e3');
    assert.equal(csvCell(NaN), 'NaN');
    assert.equal(csvCell(-Infinity), "'-Infinity");
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell(true), 'true');
    assert.equal(csvCell({ a: '=1' }), '"{""a"":""=1""}"');
  });

  test('toCsv and csvRows: hostile headers and values, numeric columns untouched', () => {
    const rows = HOSTILE.map((text, i) => ({ [text]: text, value: -i - 0.5, count: i }));
    const keys = [...HOSTILE, 'value', 'count'];
    const parsed = assertSafe(toCsv(rows, keys), 'toCsv');
    assert.equal(parsed.length, HOSTILE.length + 1);
    assert.equal(parsed[0]?.[0], `'${HOSTILE[0]}`);
    assert.deepEqual(
      parsed.slice(1).map((r) => r.slice(-2)),
      HOSTILE.map((_, i) => [String(-i - 0.5), String(i)]),
    );
    assertSafe(toCsv([{ '@a': '-x', b: -1 }]), 'toCsv without columns');
    assertSafe(csvRows([[...HOSTILE], HOSTILE.map((_, i) => -i)]), 'csvRows');
  });
});

describe('evaluation CSV tables', () => {
  const hostile = (i: number): string => HOSTILE[i % HOSTILE.length] as string;
  const uap: LayerUap = { visual: 0.5, audio: 0.25, text: 0.25, visualOfAV: 0.6, audioOfAV: 0.4 };
  const group: GroupMean<LayerUap> = { count: 2, layers: [uap, uap] };
  const tokens: GroupMean<LayerTokenAttention> = { count: 0, layers: [] };
  const split: AnswerSplit = {
    wrong: { uap: group, tokenAttention: tokens },
    right: { uap: { count: 0, layers: [] }, tokenAttention: tokens },
  };
  const setting = (id: string, gap: number): SettingScores => ({
    id,
    title: hostile(3),
    sweep: { tau: -0.35, alpha: 0.5 },
    overall: { count: 3, accuracy: 33.3, weightedF1: NaN },
    bySubset: { [hostile(1)]: { count: 1, accuracy: 100, weightedF1: 100 } },
    gap,
    meanFlaggedHeads: 1.5,
    confusion: [
      [1, 0],
      [1, 1],
    ],
    flips: [
      {
        clip: 2,
        path: hostile(4),
        subset: hostile(5),
        label: 0,
        before: 1,
        after: 0,
        kind: 'wrong-to-right',
      },
    ],
  });
  const delta = (points: number): PairedDelta => ({
    count: 3,
    delta: points,
    ciLow: points - 40,
    ciHigh: points + 40,
    coversZero: true,
    wrongToRight: 1,
    rightToWrong: 2,
    mcnemarP: 1,
  });
  const summary: BenchmarkSummary = {
    schema: 'mosear-lens-eval-summary/1',
    manifest: '=HYPERLINK("http://x")/manifest.jsonl',
    labels: [hostile(2), hostile(6)],
    clips: 3,
    subsets: [hostile(1)],
    failed: [
      { clip: 1, path: hostile(0), checkpoint: hostile(7), code: '@ERR', message: hostile(8) },
      { clip: 2, path: '-x.mp4', checkpoint: null, code: 'UNREADABLE', message: '+fail' },
    ],
    checkpoints: [
      {
        name: hostile(1),
        fileName: '=evil.onnx',
        evaluated: 3,
        settings: [
          { ...setting('-off', -12.5), versusOff: null },
          {
            ...setting(hostile(0), 7),
            versusOff: { overall: delta(-33.3), bySubset: { [hostile(1)]: delta(0) } },
          },
        ],
        byAnswer: { consistent: split, 'audio-aligned': split, 'video-aligned': split },
        heads: {
          layers: 1,
          heads: 2,
          statistic: 'share',
          settings: [
            {
              setting: hostile(0),
              groups: {
                [hostile(1)]: { clips: 3, flagShare: [[0.5, 0]], meanStatistic: [[-0.25, 2]] },
              },
            },
          ],
        },
      },
    ],
  };

  test('every table: hostile checkpoint, setting, subset, label and path cells are neutralised', () => {
    const tables = benchmarkCsvTables(summary);
    assert.deepEqual(Object.keys(tables).sort(), [
      'failed.csv',
      'flips.csv',
      'heads.csv',
      'scores.csv',
      'uap-by-answer.csv',
    ]);
    const parsed = Object.fromEntries(
      Object.entries(tables).map(([name, csv]) => [name, assertSafe(csv, name)]),
    );
    const scores = parsed['scores.csv'] as string[][];
    assert.equal(scores.length, 1 + 2 * 2);
    assert.deepEqual(scores[1], [
      "'=cmd|' /C calc'!A0",
      "'-off",
      '-0.35',
      '0.5',
      'all',
      '3',
      '33.3',
      'NaN',
      '-12.5',
      '1.5',
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
    // A setting's rows carry its Δ against off: negative numbers stay numbers.
    assert.deepEqual(scores[3]?.slice(10), [
      '-33.3',
      String(-33.3 - 40),
      String(-33.3 + 40),
      'true',
      '1',
      '',
    ]);
    assert.deepEqual(scores[4]?.slice(5), [
      '1',
      '100',
      '100',
      '7',
      '1.5',
      '0',
      '-40',
      '40',
      'true',
      '1',
      '',
    ]);
    const flips = parsed['flips.csv'] as string[][];
    assert.deepEqual(flips[1]?.slice(3, 8), ["'@SUM(A1)", "'\t=1", "'+1+1", "'\r=1", "'+1+1"]);
    const failed = parsed['failed.csv'] as string[][];
    assert.deepEqual(failed[2], ['2', "'-x.mp4", '', 'UNREADABLE', "'+fail"]);
    const uapRows = parsed['uap-by-answer.csv'] as string[][];
    assert.equal(uapRows.length, 1 + 3 * 2);
    assert.deepEqual(uapRows[1]?.slice(1, 5), ['consistent', 'wrong', '2', '0']);
    const heads = parsed['heads.csv'] as string[][];
    assert.equal(heads.length, 1 + 2);
    assert.deepEqual(heads[1]?.slice(3), ['3', '0', '0', '0.5', '-0.25', 'share']);
  });
});

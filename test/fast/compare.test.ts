// The Compare feature's pure parts: the ComparisonResult reader, the Compare panel's message
// validator, the subjects' labels, the webview's flag and token differences, and `compare`'s
// command line.
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCompareOptions } from '../../src/cli/compareCommand';
import { UsageError } from '../../src/cli/exitCodes';
import { subjectLabels } from '../../src/core/engine/compareClip';
import { defaultControls } from '../../src/shared/controls';
import {
  COMPARISON_RESULT_KIND,
  COMPARISON_SCHEMA_VERSION,
  ComparisonResultError,
  parseComparisonResult,
  readComparisonResult,
  type ComparisonResult,
} from '../../src/protocol/comparisonResult';
import { parseCompareMessage } from '../../src/protocol/compareMessages';
import { InvalidMessageError } from '../../src/protocol/panelMessages';
import {
  countDifferences,
  flagDifferences,
  largestDifference,
  linkControls,
  settingDifferences,
  settingText,
  tokenDifferences,
} from '../../webview/compare/compareData';
import { tokenWeights } from '../../webview/analysis/panelData';
import { answerTokenRow } from '../../src/shared/panelRows';
import { fixtureMetadata, fixtureResult } from '../helpers/analysisFixture';

function comparison(): ComparisonResult {
  const a = fixtureResult();
  const b = fixtureResult({ ...defaultControls(fixtureMetadata()), mode: 0 });
  return {
    kind: COMPARISON_RESULT_KIND,
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    createdAt: '2026-11-30T00:00:00.000Z',
    comparing: 'settings',
    clip: { path: a.clip.path, name: a.clip.name },
    subjects: {
      a: { label: 'A', modelPath: a.model.path, controls: a.settings.controls, result: a },
      b: { label: 'B', modelPath: b.model.path, controls: b.settings.controls, result: b },
    },
    timings: { clipDecodes: 1, totalMs: 5 },
  };
}

describe('ComparisonResult reader', () => {
  test('accepts a comparison through a JSON round trip', () => {
    const c = comparison();
    assert.deepEqual(parseComparisonResult(jsonWithTokenRows(c)), c);
  });

  test('rejects foreign JSON, an analysis result, other versions and a broken subject', () => {
    const reject = (value: unknown, message: RegExp): void =>
      assert.throws(
        () => readComparisonResult(value),
        (e: unknown) => {
          assert.ok(e instanceof ComparisonResultError);
          assert.match(e.message, message);
          return true;
        },
      );
    reject([], /does not hold a JSON object/);
    reject({ kind: 'other' }, /no "kind"/);
    reject(comparison().subjects.a.result, /single analysis result/);
    reject({ ...comparison(), schemaVersion: 2 }, /newer version/);
    reject({ ...comparison(), schemaVersion: 0 }, /Run the comparison again/);
    reject({ ...comparison(), comparing: 'x' }, /comparing/);
    const broken = comparison();
    (broken.subjects.b.result as unknown as Record<string, unknown>)['intervention'] = {};
    reject(JSON.parse(jsonWithTokenRows(broken)), /subjects\.b\.result\.intervention/);
    assert.throws(() => parseComparisonResult('{'), /not valid JSON/);
  });
});

describe('Compare panel messages', () => {
  const controls = defaultControls(fixtureMetadata());

  test('a run names its subject; the shared messages pass the Analysis validator', () => {
    assert.deepEqual(parseCompareMessage({ type: 'run', subject: 'b', requestId: 3, controls }), {
      type: 'run',
      subject: 'b',
      requestId: 3,
      controls,
    });
    assert.deepEqual(parseCompareMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseCompareMessage({ type: 'saveResult', requestId: 1 }), {
      type: 'saveResult',
      requestId: 1,
    });
  });

  test('rejects a run without a valid subject, saveDefaults and bad exports', () => {
    for (const raw of [
      { type: 'run', requestId: 1, controls },
      { type: 'run', subject: 'c', requestId: 1, controls },
      { type: 'saveDefaults', controls },
      {
        type: 'exportFile',
        requestId: 1,
        file: { fileName: '../x.png', format: 'png', encoding: 'base64', data: '' },
      },
      { type: 'nope' },
    ]) {
      assert.throws(() => parseCompareMessage(raw), InvalidMessageError, JSON.stringify(raw));
    }
  });
});

describe('Compare derivations', () => {
  test('subject labels: checkpoint names, the mode when equal, A/B when still equal', () => {
    const c = defaultControls(fixtureMetadata());
    const off = { ...c, mode: 0 as const };
    assert.deepEqual(subjectLabels({ a: 'x', b: 'y' }, { a: c, b: c }), { a: 'x', b: 'y' });
    assert.deepEqual(subjectLabels({ a: 'x', b: 'x' }, { a: off, b: c }), {
      a: 'x · off',
      b: 'x · AR',
    });
    assert.deepEqual(subjectLabels({ a: 'x', b: 'x' }, { a: c, b: c }), {
      a: 'x · AR (A)',
      b: 'x · AR (B)',
    });
  });

  test('flag differences head by head; null for different shapes', () => {
    const differs = flagDifferences(
      [
        [true, false],
        [false, false],
      ],
      [
        [true, true],
        [false, true],
      ],
    );
    assert.deepEqual(differs, [
      [false, true],
      [false, true],
    ]);
    assert.equal(countDifferences(differs), 2);
    assert.equal(flagDifferences([[true]], [[true, false]]), null);
    assert.equal(countDifferences(null), 0);
  });

  test('token differences are A − B per token; another layout is refused with a reason', () => {
    const { a, b } = comparison().subjects;
    const meanRow = (r: typeof a.result): Float32Array | null => {
      const answer = answerTokenRow(r, {
        run: 'intervention',
        stage: 'after',
        layer: 0,
        head: 'mean',
      });
      return 'row' in answer ? answer.row : null;
    };
    const wa = tokenWeights(meanRow(a.result));
    const wb = tokenWeights(meanRow(b.result));
    const diff = tokenDifferences(a.result, b.result, wa, wb);
    assert.ok(Array.isArray(diff));
    diff.forEach((d, i) => assert.equal(d.difference, (wa[i]?.weight ?? 0) - (wb[i]?.weight ?? 0)));
    assert.ok(largestDifference(a.result, diff) > 0);
    const other = structuredClone(b.result);
    other.model.metadata.tokenLayout.total += 1;
    const refused = tokenDifferences(a.result, other, wa, wb);
    assert.ok(typeof refused === 'string' && /lay out their tokens/.test(refused));
  });
});

describe('mosear-lens compare options', () => {
  test('two models; B overrides on top of the shared settings', () => {
    const o = parseCompareOptions([
      'clip.mp4',
      '--model',
      'a.onnx',
      '--model',
      'b.onnx',
      '--mode',
      'ar',
      '--tau',
      '0.2',
      '--head',
      '0:1=on',
      '--b-mode',
      'pai',
      '--b-head',
      '1:0=off',
    ]);
    assert.deepEqual(o.models, ['a.onnx', 'b.onnx']);
    assert.equal(o.edits.mode, 1);
    assert.equal(o.editsB.mode, 2);
    assert.deepEqual(o.editsB.tau, [0.2]);
    assert.equal(o.edits.heads.length, 1);
    assert.equal(o.editsB.heads.length, 2);
  });

  test('usage errors: no clip, three models, one model without a B override, bad B values', () => {
    for (const argv of [
      [],
      ['c.mp4', '--model', 'a', '--model', 'b', '--model', 'c'],
      ['c.mp4', '--model', 'a'],
      ['c.mp4', '--b-mode', 'sideways'],
      ['c.mp4', '--b-alpha', '2'],
    ]) {
      assert.throws(() => parseCompareOptions(argv), UsageError, argv.join(' '));
    }
    assert.throws(() => parseCompareOptions(['c.mp4', '--b-alpha', '2']), /--b-alpha/);
    assert.deepEqual(parseCompareOptions(['c.mp4', '--model', 'a', '--b-mode', 'off']).models, [
      'a',
    ]);
  });
});

describe('linking two subjects’ controls', () => {
  const a = { ...defaultControls(fixtureMetadata()), mode: 1 as const, alpha: 0.37 };
  const L = a.tau.length;
  const Hh = a.headOverride[0]?.length ?? 0;

  test('the same shape: the partner gets the whole set, and nothing differs', () => {
    const own = { ...defaultControls(fixtureMetadata()), mode: 0 as const, headMargin: 0.7 };
    assert.deepEqual(settingDifferences(a, own), ['mode', 'margin', 'α']);
    const linked = linkControls(a, own, { layers: L, heads: Hh });
    assert.deepEqual(linked.controls, a);
    assert.deepEqual(linked.unlinked, []);
    assert.deepEqual(settingDifferences(a, linked.controls), []);
  });

  test('another number of layers: the per-layer fields stay the partner’s and are named', () => {
    const own = {
      ...a,
      tau: [...a.tau, 0.9],
      layers: [...a.layers, 0],
      headOverride: Array.from({ length: L + 1 }, () => new Array<number>(Hh).fill(0)),
    };
    const forced = { ...a, headOverride: a.headOverride.map((row) => row.map(() => 1)) };
    const linked = linkControls(forced, own, { layers: L + 1, heads: Hh });
    assert.deepEqual(linked.unlinked, ['τ per layer', 'layers', 'head overrides']);
    assert.deepEqual(linked.controls.tau, own.tau);
    assert.equal(linked.controls.alpha, 0.37);
    assert.equal(linked.controls.headOverride.length, L + 1);
    assert.deepEqual(settingDifferences(forced, linked.controls), [
      'τ',
      'layers',
      'head overrides',
    ]);
  });

  test('the setting in words names mode, τ, margin, α, γ and layers', () => {
    const text = settingText({ ...a, tau: a.tau.map(() => 0.5), headMargin: 0.25 });
    assert.match(
      text,
      /^mode AR · ratio \w+ · τ 0\.5 · margin 0\.25 · α 0\.37 · γ [\d.]+ · layers /,
    );
  });
});

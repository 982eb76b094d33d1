// The AnalysisResult: one run's analysis from hand-made outputs, the assembled result, compact
// float32 JSON that reads back exactly (token rows as base64 float32), and the versioned reader
// (schema 1 files, token rows nested, still open).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANALYSIS_SCHEMA_VERSION, type AnalysisResult } from '../../src/protocol/analysisResult';
import { jsonWithTokenRows, tokenRow, type TokenRows } from '../../src/protocol/tokenRows';
import {
  AnalysisResultError,
  parseAnalysisResult,
  readAnalysisResult,
} from '../../src/protocol/analysisResultReader';
import { analyzeRun, float32ForJson, nestedArray } from '../../src/core/analysis/runAnalysis';
import { runOutputsOf } from '../../src/core/engine/resultAssembly';
import { defaultControls } from '../../src/shared/controls';
import { fixtureMetadata, fixtureOutputs, fixtureResult } from '../helpers/analysisFixture';

describe('float32 values in JSON', () => {
  test('the shortest decimal that reads back as the same float32', () => {
    assert.equal(float32ForJson(Math.fround(0.1)), 0.1);
    assert.equal(float32ForJson(0.5), 0.5);
    assert.equal(float32ForJson(0), 0);
    assert.ok(Number.isNaN(float32ForJson(NaN)));
    let state = 7;
    for (let i = 0; i < 2000; i++) {
      state = (state * 48271) % 2147483647;
      const v = Math.fround((state / 2147483647) ** 5 * (i % 2 ? 1 : -1e3));
      const json = float32ForJson(v);
      assert.equal(Math.fround(JSON.parse(JSON.stringify(json)) as number), v);
      assert.ok(String(json).replace(/^-?0\.0*|e.*$|\.|-/g, '').length <= 9, String(json));
    }
  });

  test('nestedArray reshapes row-major data', () => {
    assert.deepEqual(nestedArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(nestedArray([1, 2, 3, 4], [2, 1, 2]), [[[1, 2]], [[3, 4]]]);
    assert.throws(() => nestedArray([1, 2, 3], [2, 2]), RangeError);
  });
});

describe('analyzeRun', () => {
  const meta = fixtureMetadata();
  const outputs = fixtureOutputs(meta, 3);
  const run = analyzeRun(meta, defaultControls(meta), runOutputsOf(outputs));

  test('prediction and probabilities from the logits', () => {
    const logits = Array.from(outputs.logits.data);
    const best = logits.indexOf(Math.max(...logits));
    assert.equal(run.prediction.index, best);
    assert.equal(run.prediction.label, meta.labels[best]);
    assert.ok(Math.abs(run.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  test('nested small tensors, token rows as typed blocks: contract shapes, exact float32', () => {
    assert.equal(run.modalityMass.length, 4);
    assert.equal(run.modalityMass[0]!.length, 4);
    const rows = run.tokenAttention!;
    assert.deepEqual(rows.shape, [4, 4, 73]);
    assert.equal(rows.heads, 'all');
    assert.ok(rows.data instanceof Float32Array);
    assert.equal(tokenRow(rows, 3, 2).length, 73);
    assert.equal(tokenRow(rows, 1, 2)[5], outputs.token_attention.data[(1 * 4 + 2) * 73 + 5]);
    assert.deepEqual(
      Array.from(run.tokenAttentionBefore!.data),
      Array.from(outputs.token_attention_before.data),
    );
  });

  test('UAP, all three ratio kinds and the flag rule per layer; MoSE gates', () => {
    assert.equal(run.uapBefore.length, 4);
    const u = run.uapBefore[0]!;
    assert.ok(Math.abs(u.visual + u.audio + u.text - 1) < 1e-6);
    assert.ok(Math.abs(u.visualOfAV + u.audioOfAV - 1) < 1e-12);
    for (const kind of ['raw', 'density', 'share'] as const) {
      assert.equal(run.ratioStatistics[kind].length, 4);
      assert.equal(run.ratioStatistics[kind][0]!.headStatistics.length, 4);
    }
    assert.deepEqual(
      run.flagDecisions[2]!.headStatistics,
      run.ratioStatistics.share[2]!.headStatistics,
    );
    assert.equal(run.moseGate?.length, 4);
  });
});

/** The JSON form's token rows, as a test edits them. */
type RunJson = Record<
  'intervention' | 'baseline',
  Record<'tokenAttention', { shape: number[]; data: string }>
>;

/** A result as schema 1 wrote it: token rows as nested [L][Hh][N] number arrays. */
function schema1(result: AnalysisResult): Record<string, unknown> {
  const nested = (rows: TokenRows | null): number[][][] => {
    const [L, H] = rows!.shape;
    return Array.from({ length: L }, (_, l) =>
      Array.from({ length: H }, (_, h) => Array.from(tokenRow(rows!, l, h))),
    );
  };
  const run = (r: AnalysisResult['intervention']) => ({
    ...r,
    tokenAttentionBefore: nested(r.tokenAttentionBefore),
    tokenAttention: nested(r.tokenAttention),
  });
  return JSON.parse(
    JSON.stringify({
      ...result,
      schemaVersion: 1,
      intervention: run(result.intervention),
      baseline: run(result.baseline),
    }),
  ) as Record<string, unknown>;
}

describe('assembled result and reader', () => {
  const result = fixtureResult();

  test('the result carries both runs, tokens, the flag check and timings', () => {
    assert.equal(result.schemaVersion, ANALYSIS_SCHEMA_VERSION);
    assert.equal(result.tokens.length, 73);
    assert.equal(result.baseline.controls.mode, 0);
    assert.equal(result.intervention.controls.mode, 1);
    assert.equal(result.flagCheck.agree, true);
    assert.equal(result.clip.name, 'fixture clip.mp4');
    assert.equal(result.clip.silenceUsed, false);
    assert.ok(result.timings.totalMs >= result.timings.analysisMs);
  });

  test('mode 0: the baseline is the intervention run', () => {
    const off = fixtureResult({ ...defaultControls(fixtureMetadata()), mode: 0 });
    assert.deepEqual(off.baseline, off.intervention);
  });

  test('a saved result reads back, token rows bit for bit', () => {
    const text = jsonWithTokenRows(result);
    const read = parseAnalysisResult(text);
    assert.deepEqual(read, result);
    assert.ok(read.intervention.tokenAttention?.data instanceof Float32Array);
    assert.equal(typeof (JSON.parse(text) as RunJson).intervention.tokenAttention.data, 'string');
  });

  test('a schema 1 result (nested rows) reads as schema 2 typed rows', () => {
    const v1 = schema1(result);
    const read = readAnalysisResult(v1);
    assert.equal(read.schemaVersion, ANALYSIS_SCHEMA_VERSION);
    assert.deepEqual(read, result);
    const ragged = schema1(result);
    (ragged['baseline'] as Record<string, number[][][]>)['tokenAttention']![2]!.pop();
    rejects(ragged, /result\.baseline\.tokenAttention\[2\] must be an array of 4/);
    const nonNumber = schema1(result);
    (nonNumber['intervention'] as Record<string, unknown[][][]>)[
      'tokenAttentionBefore'
    ]![1]![0]![3] = 'x';
    rejects(
      nonNumber,
      /result\.intervention\.tokenAttentionBefore\[1\]\[0\]\[3\] must be a finite/,
    );
  });

  const rejects = (value: unknown, pattern: RegExp) =>
    assert.throws(
      () => readAnalysisResult(value),
      (e: unknown) => e instanceof AnalysisResultError && pattern.test(e.message),
    );

  test('a newer schema is rejected with "saved by a newer version"', () => {
    rejects(
      { ...result, schemaVersion: ANALYSIS_SCHEMA_VERSION + 1 },
      /saved by a newer version of MoSEAR Lens \(result schema 3; this version reads schema 2\)/,
    );
  });

  test('a schema below 1 is rejected', () => {
    rejects({ ...result, schemaVersion: 0 }, /schemaVersion must be a positive integer/);
  });

  test('foreign JSON and broken structure are named', () => {
    rejects([], /does not hold a JSON object/);
    rejects({ hello: 1 }, /no "kind": "mosear-lens\/analysis"/);
    const broken = JSON.parse(jsonWithTokenRows(result)) as RunJson;
    broken.baseline.tokenAttention.shape = [4, 3, 73];
    rejects(broken, /result\.baseline\.tokenAttention\.data must hold 876 values/);
    const reshaped = JSON.parse(jsonWithTokenRows(result)) as RunJson;
    reshaped.baseline.tokenAttention.shape = [4, 2, 146];
    rejects(reshaped, /result\.baseline\.tokenAttention\.shape must have shape \[4, 4, 73\]/);
    const notBase64 = JSON.parse(jsonWithTokenRows(result)) as RunJson;
    notBase64.intervention.tokenAttention.data = 'not base64!';
    rejects(notBase64, /result\.intervention\.tokenAttention\.data must be/);
    const noTimings: Record<string, unknown> = { ...result };
    delete noTimings['timings'];
    rejects(noTimings, /result\.timings is missing/);
    assert.throws(() => parseAnalysisResult('{'), /not valid JSON/);
  });
});

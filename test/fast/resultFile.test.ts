// Saved results as files: the .npy writer and reader (bit-exact float32, NumPy's header), the
// .mosear.npz and .mosear.json forms with every --tokens level, schema 1 JSON, and damaged
// archives whose errors name the member at fault.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unzipSync, zipSync } from 'fflate';
import { AnalysisResultError } from '../../src/protocol/analysisResultReader';
import {
  decodeBase64,
  encodeBase64,
  headMeanRows,
  jsonWithTokenRows,
  tokenRow,
} from '../../src/protocol/tokenRows';
import { decodeNpy, encodeNpy, NpyError } from '../../src/core/results/npy';
import {
  readResultBytes,
  readResultNpz,
  resultFormatOf,
  resultJson,
  resultNpz,
  withTokenStorage,
} from '../../src/core/results/resultFile';
import { fixtureResult } from '../helpers/analysisFixture';

/** Float32 values at the edges: zeros of both signs, subnormals, the extremes, infinities. */
const EDGES = Float32Array.from([
  0,
  -0,
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1.1754942106924411e-38,
  1.1754943508222875e-38,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  1 + 2 ** -23,
  Math.fround(0.1),
  Infinity,
  -Infinity,
]);

const bits = (a: Float32Array): number[] =>
  Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('.npy', () => {
  test('round trip is bit-exact and the header is NumPy 1.0, <f4, C order, 64-aligned', () => {
    const bytes = encodeNpy(EDGES, [3, 4]);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    assert.equal((10 + headerLength) % 64, 0);
    const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
    assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 4\), \} *\n$/);
    const back = decodeNpy(bytes, 'x.npy');
    assert.deepEqual(back.shape, [3, 4]);
    assert.deepEqual(bits(back.data), bits(EDGES));
    assert.match(
      String.fromCharCode(...encodeNpy(Float32Array.of(1, 2), [2]).subarray(10, 64)),
      /'shape': \(2,\)/,
    );
  });

  test('decoding from a Node Buffer (whose slice is a view) copies the data', () => {
    // A file read with readFileSync is a Buffer, often a view into a larger pooled buffer.
    const pooled = Buffer.alloc(4096, 0xee);
    const npy = encodeNpy(EDGES, [12]);
    pooled.set(npy, 37);
    const back = decodeNpy(pooled.subarray(37, 37 + npy.length), 'x.npy');
    assert.deepEqual(bits(back.data), bits(EDGES));
    pooled.fill(0);
    assert.deepEqual(bits(back.data), bits(EDGES));
  });

  test('another dtype, Fortran order, a bad magic or truncated data name the member', () => {
    const good = encodeNpy(EDGES, [12]);
    const text = (b: Uint8Array) => String.fromCharCode(...b);
    const swap = (from: string, to: string): Uint8Array => {
      const s = text(good).replace(from, to);
      return Uint8Array.from(s, (c) => c.charCodeAt(0));
    };
    const fails = (bytes: Uint8Array, pattern: RegExp) =>
      assert.throws(
        () => decodeNpy(bytes, 'baseline.token_attention.npy'),
        (e: unknown) => e instanceof NpyError && pattern.test(e.message),
      );
    fails(swap("'<f4'", "'<f8'"), /^baseline\.token_attention\.npy: dtype <f8 where .*'<f4'/);
    fails(swap("'<f4'", "'>f4'"), /dtype >f4/);
    fails(swap('False', 'True '), /Fortran order/);
    fails(
      good.subarray(0, good.length - 4),
      /holds 44 data bytes where shape \(12\) needs 48 \(truncated\)/,
    );
    fails(good.subarray(0, 20), /truncated header/);
    fails(Uint8Array.of(1, 2, 3), /not a \.npy array/);
  });
});

describe('base64 float32', () => {
  test('encode and decode agree with Node for every length mod 3', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100, 70000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      const text = encodeBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'));
      assert.deepEqual(decodeBase64(text), bytes);
    }
    assert.equal(decodeBase64('abc'), null);
    assert.equal(decodeBase64('ab!='), null);
  });
});

describe('.mosear.npz and .mosear.json', () => {
  const result = fixtureResult();

  test('npz: result.json names its arrays; the rows read back bit for bit', () => {
    const bytes = resultNpz(result);
    const members = unzipSync(bytes);
    assert.deepEqual(Object.keys(members).sort(), [
      'baseline.token_attention.npy',
      'baseline.token_attention_before.npy',
      'intervention.token_attention.npy',
      'intervention.token_attention_before.npy',
      'result.json',
    ]);
    const summary = JSON.parse(new TextDecoder().decode(members['result.json'])) as {
      schemaVersion: number;
      intervention: { tokenAttention: unknown };
    };
    assert.equal(summary.schemaVersion, 2);
    assert.deepEqual(summary.intervention.tokenAttention, {
      heads: 'all',
      shape: [4, 4, 73],
      npy: 'intervention.token_attention.npy',
    });
    const read = readResultBytes(bytes, 'x.mosear.npz');
    assert.deepEqual(read, result);
    assert.deepEqual(
      bits(read.baseline.tokenAttentionBefore!.data),
      bits(result.baseline.tokenAttentionBefore!.data),
    );
  });

  test('--tokens mean keeps [L, N] head means; none keeps no rows; both read back', () => {
    const mean = resultNpz(result, 'mean');
    const members = unzipSync(mean);
    assert.ok('intervention.token_attention_mean.npy' in members);
    assert.deepEqual(
      decodeNpy(members['intervention.token_attention_mean.npy'], 'm').shape,
      [4, 73],
    );
    const read = readResultNpz(mean);
    assert.deepEqual(
      read.intervention.tokenAttention,
      headMeanRows(result.intervention.tokenAttention!),
    );
    assert.deepEqual(
      tokenRow(read.intervention.tokenAttention, 2, 3),
      tokenRow(read.intervention.tokenAttention, 2, 0),
    );
    const none = readResultNpz(resultNpz(result, 'none'));
    assert.equal(none.intervention.tokenAttention, null);
    assert.equal(none.baseline.tokenAttentionBefore, null);
    assert.deepEqual(none, withTokenStorage(result, 'none'));
    const all = resultNpz(result).length;
    assert.ok(all > mean.length && mean.length > resultNpz(result, 'none').length);
  });

  test('json: one text with base64 rows, every level; the format follows the extension', () => {
    for (const level of ['all', 'mean', 'none'] as const) {
      const text = resultJson(result, level);
      assert.deepEqual(readResultBytes(Buffer.from(text)), withTokenStorage(result, level));
    }
    assert.equal(resultJson(result), `${jsonWithTokenRows(result)}\n`);
    assert.equal(resultFormatOf('a/b.mosear.npz'), 'npz');
    assert.equal(resultFormatOf('a/b.mosear.json'), 'json');
  });

  test('damaged archives: errors name the file and the member', () => {
    const good = resultNpz(result);
    const members = unzipSync(good);
    const fails = (bytes: Uint8Array, pattern: RegExp) =>
      assert.throws(
        () => readResultBytes(bytes, 'x.mosear.npz'),
        (e: unknown) => e instanceof AnalysisResultError && pattern.test(e.message),
      );
    fails(
      good.subarray(0, good.length >> 1),
      /^x\.mosear\.npz: Not a MoSEAR Lens result: the \.npz archive cannot be read/,
    );
    const without = (name: string) =>
      zipSync(Object.fromEntries(Object.entries(members).filter(([k]) => k !== name)));
    fails(without('result.json'), /the \.npz has no result\.json member/);
    fails(
      without('baseline.token_attention.npy'),
      /the member baseline\.token_attention\.npy \(result\.json: result\.baseline\.tokenAttention\) is missing/,
    );
    const wrongShape: Record<string, Uint8Array> = { ...members };
    wrongShape['intervention.token_attention.npy'] = encodeNpy(new Float32Array(4 * 73), [4, 73]);
    fails(
      zipSync(wrongShape),
      /intervention\.token_attention\.npy has shape \(4, 73\) where .* says \(4, 4, 73\)/,
    );
    const wrongType = { ...members };
    const f8 = String.fromCharCode(...members['baseline.token_attention_before.npy']!).replace(
      "'<f4'",
      "'<f8'",
    );
    wrongType['baseline.token_attention_before.npy'] = Uint8Array.from(f8, (c) => c.charCodeAt(0));
    fails(zipSync(wrongType), /baseline\.token_attention_before\.npy: dtype <f8/);
    const badRef = { ...members };
    const summary = JSON.parse(new TextDecoder().decode(members['result.json'])) as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    summary['intervention']!['tokenAttention']!['npy'] = '../escape';
    badRef['result.json'] = new TextEncoder().encode(JSON.stringify(summary));
    fails(zipSync(badRef), /result\.intervention\.tokenAttention\.npy: must name a \.npy member/);
  });
});

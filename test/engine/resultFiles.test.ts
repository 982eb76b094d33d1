// Saved results at a real model's size (the 32 × 32 full-shape fixture, N = 329): `analyze --npz`
// with `--tokens all|mean|none` stays within the targets (≤ 8 MB with every row, ≤ 1 MB
// with head means), NumPy opens the archive without our code (json.loads of result.json, the
// .npy members bit for bit), and `show` reads it like the JSON form.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readResultBytes } from '../../src/core/results/resultFile';
import { float32Bytes } from '../../src/protocol/tokenRows';
import { runCli } from '../helpers/cliRun';
import { requireEngineFiles } from '../helpers/engineFixtures';
import { FULL_SHAPE, FULL_SHAPE_CLIP, fullShapeModel } from '../helpers/fullShapeResult';
import { scratchDir } from '../helpers/tempFiles';

const PYTHON = '/usr/bin/python3';
const MB = 1e6;

/** Python that loads an npz the way a researcher would and prints what it found as JSON. */
const NUMPY_READ = `
import hashlib, json, sys, numpy
z = numpy.load(sys.argv[1])
summary = json.loads(z['result.json'])
arrays = {k: z[k] for k in z.files if k != 'result.json'}
print(json.dumps({
  'schemaVersion': summary['schemaVersion'],
  'label': summary['intervention']['prediction']['label'],
  'refs': summary['intervention']['tokenAttention'],
  'arrays': {k: {'dtype': str(a.dtype), 'shape': list(a.shape),
                 'sha256': hashlib.sha256(a.astype('<f4').tobytes()).hexdigest()}
             for k, a in arrays.items()},
}))
`;

const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe('saved result files at 32 × 32 × 329', { timeout: 900_000 }, () => {
  const dir = scratchDir('result-files');
  let args: string[] = [];
  before(async () => {
    requireEngineFiles();
    args = ['analyze', FULL_SHAPE_CLIP, '--model', await fullShapeModel(), '--ep', 'cpu'];
    args.push('--mode', 'ar', '--quiet');
  });

  test('--tokens all | mean | none: sizes within the targets, each file reads back', async () => {
    const sizes: Record<string, number> = {};
    for (const level of ['all', 'mean', 'none'] as const) {
      const npz = join(dir, `${level}.mosear.npz`);
      const json = join(dir, `${level}.mosear.json`);
      const run = await runCli([...args, '--tokens', level, '--npz', npz, '--json', json]);
      assert.equal(run.code, 0, run.stderr);
      sizes[level] = statSync(npz).size;
      const fromNpz = readResultBytes(readFileSync(npz), npz);
      const fromJson = readResultBytes(readFileSync(json), json);
      assert.deepEqual(fromNpz, fromJson, `${level}: the two forms hold the same result`);
      const rows = fromNpz.intervention.tokenAttention;
      const { layers: L, heads: H, tokens: N } = FULL_SHAPE;
      if (level === 'none') assert.equal(rows, null);
      else assert.deepEqual(rows?.shape, [L, level === 'all' ? H : 1, N]);
    }
    assert.ok(sizes['all']! <= 8 * MB, `all: ${sizes['all']} bytes`);
    assert.ok(sizes['mean']! <= 1 * MB, `mean: ${sizes['mean']} bytes`);
    assert.ok(sizes['none']! < sizes['mean']! && sizes['mean']! < sizes['all']!);

    const shown = await runCli(['show', join(dir, 'all.mosear.npz')]);
    assert.equal(shown.code, 0, shown.stderr);
    const shownJson = await runCli(['show', join(dir, 'all.mosear.json')]);
    assert.equal(shown.stdout, shownJson.stdout);
  });

  test('numpy.load opens the npz: result.json as bytes, float32 arrays bit for bit', (t) => {
    if (!hasNumpy) {
      t.skip(`${PYTHON} with numpy is not installed here`);
      return;
    }
    const npz = join(dir, 'all.mosear.npz');
    const result = readResultBytes(readFileSync(npz), npz);
    const run = spawnSync(PYTHON, ['-c', NUMPY_READ, npz], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as {
      schemaVersion: number;
      label: string;
      refs: unknown;
      arrays: Record<string, { dtype: string; shape: number[]; sha256: string }>;
    };
    assert.equal(seen.schemaVersion, 2);
    assert.equal(seen.label, result.intervention.prediction.label);
    assert.deepEqual(seen.refs, {
      heads: 'all',
      shape: [FULL_SHAPE.layers, FULL_SHAPE.heads, FULL_SHAPE.tokens],
      npy: 'intervention.token_attention.npy',
    });
    const sha = (data: Float32Array) =>
      createHash('sha256').update(float32Bytes(data)).digest('hex');
    const expected = {
      'intervention.token_attention_before': result.intervention.tokenAttentionBefore,
      'intervention.token_attention': result.intervention.tokenAttention,
      'baseline.token_attention_before': result.baseline.tokenAttentionBefore,
      'baseline.token_attention': result.baseline.tokenAttention,
    };
    // numpy.load names .npy members without their extension.
    assert.deepEqual(Object.keys(seen.arrays).sort(), Object.keys(expected).sort());
    for (const [name, rows] of Object.entries(expected)) {
      const array = seen.arrays[name]!;
      assert.equal(array.dtype, 'float32');
      assert.deepEqual(array.shape, rows!.shape);
      assert.equal(array.sha256, sha(rows!.data), name);
    }
  });
});

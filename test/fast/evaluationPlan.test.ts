// The extension's pure evaluation planning: display names, sweeps typed in a box, the default run
// folder (stable per evaluation so a re-run resumes), and run times as the panel prints them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { durationText } from '../../src/shared/durationText';
import { SweepError } from '../../src/core/evaluation/evaluationSettings';
import {
  defaultRunDir,
  manifestTitle,
  parseSweepText,
} from '../../src/extension/panels/evaluation/evaluationPlan';

describe('evaluation plan (extension)', () => {
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

  it('prints run times in seconds, then minutes', () => {
    assert.equal(durationText(400), '0 s');
    assert.equal(durationText(12_400), '12 s');
    assert.equal(durationText(185_000), '3 min 5 s');
  });
});

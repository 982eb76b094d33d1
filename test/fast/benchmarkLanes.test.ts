// BenchmarkLanes (src/core/evaluation/benchmarkRun.ts): the lanes an evaluation takes are the
// ones a later evaluation gets back, so a sweep's steps share warm workers. No process starts:
// a worker's process starts with its first request.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BenchmarkLanes } from '../../src/core/evaluation/benchmarkRun';

describe('benchmark lanes', () => {
  test('a later take gets the same pools back, growing only when more lanes are wanted', async () => {
    const lanes = new BenchmarkLanes({ workerScript: '/nonexistent/inferenceWorker.js' });
    const two = lanes.take(2);
    assert.equal(two.length, 2);
    assert.notEqual(two[0], two[1]);
    const one = lanes.take(1);
    assert.deepEqual(one, [two[0]]);
    const three = lanes.take(3);
    assert.deepEqual(three.slice(0, 2), two);
    assert.equal(three[0]!.workerFor('/m.onnx'), two[0]!.workerFor('/m.onnx'));
    assert.equal(lanes.onnxruntimeVersion(), undefined);
    await lanes.dispose();
    // Disposed lanes start over.
    assert.notEqual(lanes.take(1)[0], two[0]);
    await lanes.dispose();
  });
});

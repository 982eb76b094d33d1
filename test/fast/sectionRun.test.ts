// The Analysis panel sections' one-run-at-a-time bookkeeping (counterfactuals, the imbalance
// probe): a new run cancels the one before, only the current run answers, Cancel names its run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SectionRun } from '../../src/extension/panels/analysis/sectionRun';

test('a new run cancels the one before; only the current run answers', () => {
  const failed: [number, string, boolean][] = [];
  const runs = new SectionRun((id, message, cancelled) => failed.push([id, message, cancelled]));
  const first = runs.start(1);
  const second = runs.start(2);
  assert.equal(first.aborted, true);
  assert.equal(second.aborted, false);
  assert.deepEqual(failed, [[1, 'Cancelled.', true]]);
  assert.equal(runs.isCurrent(1), false);
  assert.equal(runs.succeed(1), false, 'a superseded result is dropped');
  runs.fail(1, 'late error', false);
  assert.equal(failed.length, 1, 'a superseded failure is dropped');
  assert.equal(runs.succeed(2), true);
  assert.equal(runs.isCurrent(2), false);
  runs.cancel();
  assert.equal(failed.length, 1, 'nothing to cancel once it answered');
});

test('Cancel stops only the run it names', () => {
  const failed: [number, string, boolean][] = [];
  const runs = new SectionRun((id, message, cancelled) => failed.push([id, message, cancelled]));
  const signal = runs.start(7);
  runs.cancel(6);
  assert.equal(signal.aborted, false);
  runs.cancel(7);
  assert.equal(signal.aborted, true);
  assert.deepEqual(failed, [[7, 'Cancelled.', true]]);
  runs.start(8);
  runs.fail(8, 'worker crashed', false);
  assert.deepEqual(failed.at(-1), [8, 'worker crashed', false]);
});

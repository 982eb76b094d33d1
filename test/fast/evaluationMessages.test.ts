// The Evaluate panel's message validator and the origin its serializer trusts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseEvaluationMessage,
  parseEvaluationOrigin,
} from '../../src/protocol/evaluationMessages';
import { InvalidMessageError } from '../../src/protocol/panelMessages';

describe('Evaluate panel messages', () => {
  it('accepts the messages the webview sends, without extra keys', () => {
    assert.deepEqual(parseEvaluationMessage({ type: 'ready', extra: 1 }), { type: 'ready' });
    assert.deepEqual(parseEvaluationMessage({ type: 'cancel' }), { type: 'cancel' });
    assert.deepEqual(
      parseEvaluationMessage({
        type: 'openClip',
        clip: 3,
        checkpoint: 'mosear-tiny',
        setting: 'ar',
      }),
      { type: 'openClip', clip: 3, checkpoint: 'mosear-tiny', setting: 'ar' },
    );
    const file = { fileName: 'x.eval.sweep.png', format: 'png', encoding: 'base64', data: 'AAAA' };
    assert.deepEqual(parseEvaluationMessage({ type: 'exportFile', requestId: 1, file }), {
      type: 'exportFile',
      requestId: 1,
      file,
    });
    assert.deepEqual(parseEvaluationMessage({ type: 'exportReport', requestId: 2 }), {
      type: 'exportReport',
      requestId: 2,
    });
  });

  it('rejects malformed and unknown messages', () => {
    const bad: unknown[] = [
      null,
      [],
      { type: 'run', requestId: 1 },
      { type: 'openClip', clip: -1, checkpoint: 'a', setting: 'off' },
      { type: 'openClip', clip: 1.5, checkpoint: 'a', setting: 'off' },
      { type: 'openClip', clip: 1, checkpoint: '', setting: 'off' },
      { type: 'openClip', clip: 1, checkpoint: 'a' },
      {
        type: 'exportFile',
        requestId: 1,
        file: { fileName: '../x.csv', format: 'csv', encoding: 'utf8', data: '' },
      },
      { type: 'exportReport', requestId: 'x' },
    ];
    for (const m of bad) {
      assert.throws(() => parseEvaluationMessage(m), InvalidMessageError, JSON.stringify(m));
    }
  });

  it('revives only a run folder origin', () => {
    assert.deepEqual(parseEvaluationOrigin({ kind: 'run', runDir: '/r' }), {
      kind: 'run',
      runDir: '/r',
    });
    assert.throws(() => parseEvaluationOrigin({ kind: 'report' }));
    assert.throws(() => parseEvaluationOrigin(undefined));
  });
});

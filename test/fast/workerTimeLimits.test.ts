// The inference worker's time-limit messages: sub-second limits in milliseconds (a 300 ms limit
// once read "0 s"), longer ones as the rest of the product writes durations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { limitText, timeoutMessage } from '../../src/core/inference/workerClient';

describe('worker time limits', () => {
  test('sub-second limits in ms, longer ones in s and min', () => {
    assert.equal(limitText(1), '1 ms');
    assert.equal(limitText(300), '300 ms');
    assert.equal(limitText(1000), '1 s');
    assert.equal(limitText(30_000), '30 s');
    assert.equal(limitText(120_000), '2 min 0 s');
  });

  test('the TIMEOUT message names the limit and what the worker was doing', () => {
    assert.equal(
      timeoutMessage('running the model', 300),
      'The inference worker took longer than 300 ms while running the model and was stopped.',
    );
    assert.match(
      timeoutMessage('opening the model', 120_000),
      /longer than 2 min 0 s while opening/,
    );
  });
});

// The Analysis header's "Audio heard" fact: the decode spec's centred window, in clip seconds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { audioHeardText } from '../../webview/analysis/panelData';

type Clip = AnalysisResult['clip'];

function clip(durationSeconds: number, startSeconds: number, hasAudio = true, silenceUsed = false) {
  return {
    durationSeconds,
    hasAudio,
    silenceUsed,
    audioWindow: { startSeconds, seconds: 2, sampleRateHz: 16000, samples: 32000 },
  } as Clip;
}

describe('audio heard', () => {
  test('a long clip: the centred window, in clip seconds', () => {
    // 10 s clip, 2 s window: (10 − 2) / 2 = 4 → 4–6 s.
    assert.equal(
      audioHeardText(clip(10, 4)),
      '4.00–6.00 s of 10.00 s (a 2.00 s window centred on the clip)',
    );
  });

  test('a clip shorter than the window: all of it, then zeros', () => {
    assert.equal(
      audioHeardText(clip(1.5, 0)),
      '0.00–1.50 s of 1.50 s (a 2.00 s window centred on the clip, zeros after the clip ends)',
    );
  });

  test('no audio stream: silence, or nothing', () => {
    assert.equal(audioHeardText(clip(3, 0.5, false, true)), 'none: silence (no audio stream)');
    assert.equal(audioHeardText(clip(3, 0.5, false, false)), 'none');
  });
});

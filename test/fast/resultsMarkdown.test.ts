import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArControls } from '../../src/protocol/contract';
import { summarizeCheckpoint } from '../../src/core/evaluation/splitSummary';
import { markdownTable } from '../../src/core/reports/markdownTable';
import {
  fixed,
  resultsMarkdown,
  settingChosenOn,
  type ResultsReport,
} from '../../src/core/reports/resultsMarkdown';

function controls(mode: 0 | 1 | 2): ArControls {
  return {
    mode,
    ratioKind: 2,
    tau: [0.1, 0.2],
    headMargin: 0.25,
    alpha: 0.3,
    paiAlpha: 0.5,
    layers: mode === 2 ? [1, 1] : [0, 1],
    headOverride: [
      [0, 0],
      [0, 0],
    ],
  };
}

function report(): ResultsReport {
  const layer = { visual: 0.6, audio: 0.3, text: 0.1, visualOfAV: 2 / 3, audioOfAV: 1 / 3 };
  const tokens = {
    audioToken: 0.3,
    visualTokenMean: 0.01,
    visualTokenMax: 0.05,
    textTokenMean: 0.05,
  };
  const summary = summarizeCheckpoint(
    { labels: [0, 1, 0], subsets: ['consistent', 'video-aligned', 'audio-aligned'], classes: 2 },
    {
      settings: [
        { id: 'off', predictions: [0, 0, 0], flaggedHeads: [0, 0, 0] },
        { id: 'ar', predictions: [0, 1, 0], flaggedHeads: [1, 1, 2] },
        { id: 'pai', predictions: [1, 1, 0], flaggedHeads: [4, 4, 4] },
      ],
      uap: [
        [layer, layer],
        [layer, layer],
        [layer, layer],
      ],
      tokenAttention: [
        [tokens, tokens],
        [tokens, tokens],
        [tokens, tokens],
      ],
    },
  );
  return {
    command: 'npm run results',
    manifest: 'models/data/x/manifest.jsonl',
    clipCounts: { consistent: 1, 'audio-aligned': 1, 'video-aligned': 1 },
    decodeSpec: 'mosear-decode-1',
    decoder: 'system ffmpeg',
    onnxruntimeNodeVersion: '1.30.0',
    executionProvider: 'CPU',
    intraOpThreads: 1,
    clipsWithoutAudio: 0,
    checkpoints: [
      {
        name: 'tiny',
        file: 'models/checkpoints/tiny.onnx',
        layers: 2,
        heads: 2,
        recommendedMode: 1,
        settings: [
          { id: 'off', title: 'off', controls: controls(0) },
          { id: 'ar', title: 'AR', controls: controls(1) },
          { id: 'pai', title: 'PAI-style', controls: controls(2) },
        ],
        summary,
      },
    ],
  };
}

describe('fixed', () => {
  it('uses fixed decimals, a dash for NaN and never "-0.0"', () => {
    assert.equal(fixed(66.66666, 1), '66.7');
    assert.equal(fixed(-0.04, 1), '0.0');
    assert.equal(fixed(-0, 3), '0.000');
    assert.equal(fixed(-12.25, 1), '-12.3');
    assert.equal(fixed(NaN, 1), '—');
  });
});

describe('markdownTable', () => {
  it('pads columns and marks right-aligned ones', () => {
    assert.equal(
      markdownTable(
        [
          ['a', 'bb'],
          ['ccc', 'd|e'],
        ],
        ['left', 'right'],
      ),
      ['| a   |   bb |', '| --- | ---: |', '| ccc | d\\|e |'].join('\n'),
    );
  });
});

describe('settingChosenOn', () => {
  it('names the split that chose each setting: none, validation, none for a sweep, a choice', () => {
    const base = { id: 'ar', title: 'AR', controls: controls(1) };
    assert.equal(
      settingChosenOn({ ...base, id: 'off', controls: controls(0) }),
      'none (the baseline)',
    );
    assert.match(settingChosenOn(base), /^validation \(`python3 -m research\.evaluate choose`/);
    assert.equal(
      settingChosenOn({ ...base, sweep: { tau: 0.3 } }),
      'none: a sweep on test, for reading only — do not pick a setting from it',
    );
    const chosenBy = {
      manifest: 'models/data/x/val/manifest.jsonl',
      manifestSha256: 'a',
      clips: 3,
      runFolder: '/r',
      rule: 'ar-defaults',
      ruleText: '…',
    };
    assert.equal(
      settingChosenOn({ ...base, chosenBy }),
      '`models/data/x/val/manifest.jsonl` by rule ar-defaults',
    );
  });
});

describe('resultsMarkdown', () => {
  it('is deterministic and free of timings and dates', () => {
    const a = resultsMarkdown(report());
    assert.equal(a, resultsMarkdown(report()));
    assert.ok(a.endsWith('\n'));
    assert.doesNotMatch(a, /\d{4}-\d{2}-\d{2}|\d+(\.\d+)? ?(ms|s)\b/);
  });

  it('shows accuracy, gap, flags, flips, settings, UAP and token tables with fixed decimals', () => {
    const text = resultsMarkdown(report());
    const line = (pattern: RegExp) => assert.match(text, pattern);
    // off: consistent right, audio-aligned right, video-aligned wrong → gap 100.
    line(
      /^\| tiny +\| off +\| +100\.0 \| +100\.0 \| +0\.0 \| +66\.7 \| +100\.0 \| +0\.00 of 4 \|$/m,
    );
    line(
      /^\| tiny +\| AR +\| +100\.0 \| +100\.0 \| +100\.0 \| +100\.0 \| +0\.0 \| +1\.33 of 4 \|$/m,
    );
    line(/^\| tiny +\| AR vs off +\| +0 \/ 0 \| +0 \/ 0 \| +1 \/ 0 \|$/m);
    line(/^\| tiny +\| PAI-style vs off +\| +0 \/ 1 \| +0 \/ 0 \| +1 \/ 0 \|$/m);
    line(
      /^\| tiny +\| AR +\| +1 \| share +\| \[0\.1, 0\.2\] +\| +0\.25 \| +0\.3 \| +— \| 1 +\| validation \(`python3 -m research\.evaluate choose`, see Protocol\) \|$/m,
    );
    line(/^\| tiny +\| PAI-style +\| +2 \| — .*\| +0\.5 \| all \(0, 1\) +\| validation .*\|$/m);
    line(/^\| tiny +\| off +\| +0 \| — .*\| none \(the baseline\) +\|$/m);
    line(/^\| +0 \| +0\.600 \| +0\.300 \| +0\.100 \| +0\.333 \| +— \| +— \| +— \| +— \|$/m);
    line(/\*\*tiny, video-aligned\*\*: wrong 1 clip, right 0 clips/);
    line(/^\| +1 \| +0\.3000 \| +0\.0100 \| +0\.0500 \| +30\.0 \| +— \| +— \| +— \| +— \|$/m);
    line(/- Clips: 1 consistent, 1 audio-aligned, 1 video-aligned \(3 in all\)/);
    line(/onnxruntime-node 1\.30\.0, CPU execution provider, 1 intra-op thread$/m);
    line(/- Command: `npm run results`/);
    // Δ vs off: one wrong→right flip in video-aligned (1 clip) is +100 points, all resamples alike.
    line(
      /^\| tiny +\| AR vs off +\| +0\.0 \[0\.0, 0\.0\], p 1 n\.s\. \| +0\.0 \[0\.0, 0\.0\], p 1 n\.s\. \| +\+100\.0 \[100\.0, 100\.0\], p 1 \| +\+33\.3 \[0\.0, 100\.0\], p 1 n\.s\. \|$/m,
    );
    line(/^setting, seeded, and uncorrected for the number of settings compared\.$/m);
  });
});

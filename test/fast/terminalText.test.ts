// Terminal escape injection (issue 13, item 5): every string of a result, a comparison, a model's
// metadata and an evaluation summary made hostile (OSC title, SGR colour, C1 CSI, bidi override,
// line breaks) and fed through every text the CLI prints: no control character reaches the
// terminal, each shows as a visible escape, and no line is added.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ComparisonResult } from '../../src/protocol/comparisonResult';
import type { BenchmarkSummary, SettingScores } from '../../src/protocol/evaluationSummary';
import { formatAnalysis } from '../../src/cli/analysisReport';
import { formatBenchmarkSummary } from '../../src/cli/benchmarkReport';
import { formatComparison } from '../../src/cli/compareCommand';
import { formatModelInfo, formatProviders } from '../../src/cli/infoCommand';
import { terminalLines, terminalText } from '../../src/cli/terminalText';
import { textTable } from '../../src/cli/textTable';
import type { LoadedModel } from '../../src/core/engine/analysisEngine';
import type { OnnxModelInfo } from '../../src/core/onnx/modelProto';
import { defaultControls } from '../../src/shared/controls';
import { fixtureMetadata, fixtureResult } from '../helpers/analysisFixture';
import { TERMINAL_CONTROL, withSuffixOnEveryString } from '../helpers/hostileText';

/** An OSC window title, an SGR colour, a C1 CSI, DEL, NUL, a bidi override, CR and LF. */
const EVIL = '\u001b]0;owned\u0007\u001b[31m\u009b2J\u007f\u0000\u202e\r\nX';
/** What EVIL prints as. */
const EVIL_SHOWN = '\\x1b]0;owned\\x07\\x1b[31m\\x9b2J\\x7f\\x00\\u202e\\x0d\\x0aX';

/** A deep copy with EVIL added to every string (object keys left alone). */
const hostile = <T>(value: T): T => withSuffixOnEveryString(value, EVIL);

/** Asserts the hostile output is clean, shows the escapes, and has the plain one's line count. */
function assertSafe(output: string, plain: string, what: string): void {
  const bad = TERMINAL_CONTROL.exec(output);
  assert.equal(bad, null, `${what}: U+${bad?.[0].charCodeAt(0).toString(16)} reached the terminal`);
  assert.ok(output.includes(EVIL_SHOWN), `${what}: the hostile text is not shown escaped`);
  assert.equal(output.split('\n').length, plain.split('\n').length, `${what}: lines were added`);
}

describe('terminalText', () => {
  test('escapes C0, DEL, C1 and bidi controls visibly; keeps other text', () => {
    assert.equal(terminalText(EVIL), EVIL_SHOWN);
    assert.equal(terminalText('héllo → █ 日本'), 'héllo → █ 日本');
    assert.equal(terminalLines('a\nb\u001b'), 'a\nb\\x1b');
    assert.equal(terminalText(terminalText(EVIL)), EVIL_SHOWN, 'idempotent');
  });

  test('textTable escapes its cells before measuring them', () => {
    const table = textTable([
      ['a', 'b'],
      [EVIL, 'x'],
    ]);
    assert.equal(TERMINAL_CONTROL.exec(table), null);
    assert.equal(table.split('\n').length, 2);
  });
});

describe('every CLI text output with hostile strings', () => {
  const plainResult = fixtureResult();
  const arResult = fixtureResult({ ...defaultControls(fixtureMetadata()), mode: 1 });

  test('analyze and show: formatAnalysis', () => {
    for (const result of [plainResult, arResult]) {
      assertSafe(
        formatAnalysis(hostile(result)),
        formatAnalysis(result),
        `formatAnalysis mode ${result.settings.controls.mode}`,
      );
    }
  });

  test('compare: formatComparison', () => {
    const subject = (label: string, result: AnalysisResult) => ({
      label,
      modelPath: result.model.path,
      controls: result.settings.controls,
      result,
    });
    const comparison: ComparisonResult = {
      kind: 'mosear-lens/comparison',
      schemaVersion: 1,
      createdAt: '2025-01-01T00:00:00.000Z',
      comparing: 'settings',
      clip: { path: plainResult.clip.path, name: plainResult.clip.name },
      subjects: { a: subject('A', plainResult), b: subject('B', arResult) },
      timings: { clipDecodes: 1, totalMs: 3 },
    };
    assertSafe(
      formatComparison(hostile(comparison)),
      formatComparison(comparison),
      'formatComparison',
    );
  });

  test('info: formatModelInfo and formatProviders', () => {
    const model: LoadedModel = {
      ...plainResult.model,
      identity: 'x',
      externalFiles: [],
      optional: { headGate: false, layerLogits: false },
    };
    const onnx: OnnxModelInfo = {
      irVersion: 8,
      producerName: 'pytorch',
      producerVersion: '2.1',
      opsetImports: [{ domain: 'com.microsoft', version: 1 }],
      metadata: new Map(),
      graphBytes: 1,
    };
    const info = (m: LoadedModel, o: OnnxModelInfo) => formatModelInfo(m, o).join('\n');
    assertSafe(
      info(hostile(model), { ...hostile(onnx), metadata: new Map() }),
      info(model, onnx),
      'info',
    );
    const attempts = [
      { provider: 'cuda' as const, ok: false, ms: 1, reason: 'no libcudart' },
      { provider: 'cpu' as const, ok: true, ms: 2 },
    ];
    const providers = (a: typeof attempts) => formatProviders(a, 'linux', '1.20').join('\n');
    assertSafe(providers(hostile(attempts)), providers(attempts), 'formatProviders');
  });

  test('eval and merge: formatBenchmarkSummary', () => {
    const setting: SettingScores = {
      id: 'off',
      title: 'off',
      sweep: {},
      overall: { count: 2, accuracy: 50, weightedF1: 40 },
      bySubset: { consistent: { count: 2, accuracy: 50, weightedF1: 40 } },
      gap: null,
      meanFlaggedHeads: 0,
      confusion: [],
      flips: [],
    };
    const summary: BenchmarkSummary = {
      schema: 'mosear-lens-eval-summary/1',
      manifest: 'manifest.jsonl',
      labels: ['happy', 'sad'],
      clips: 2,
      subsets: ['consistent'],
      failed: [
        { clip: 1, path: 'clip.mp4', checkpoint: 'tiny', code: 'UNREADABLE', message: 'bad' },
      ],
      checkpoints: [
        {
          name: 'tiny',
          fileName: 'tiny.onnx',
          evaluated: 2,
          settings: [setting],
          byAnswer: {},
        },
      ],
    } as unknown as BenchmarkSummary;
    assertSafe(
      formatBenchmarkSummary(hostile(summary)),
      formatBenchmarkSummary(summary),
      'formatBenchmarkSummary',
    );
  });
});

describe('the flagged-head list says its order', () => {
  test('a few heads: by head stat over the threshold, as listed; --all-heads: by layer', () => {
    const meta = fixtureMetadata();
    const base = defaultControls(meta);
    // The share statistic at τ 0 and margin 0 on every layer: each layer flags its leading heads.
    const result = fixtureResult({
      ...base,
      mode: 1,
      ratioKind: 2,
      tau: base.tau.map(() => 0),
      headMargin: 0,
    });
    const flagged = result.intervention.arFlags.flat().filter((v) => v >= 0.5).length;
    assert.ok(flagged > 0 && flagged <= 10, `the fixture flags a few heads, got ${flagged}`);
    const rows = (text: string) =>
      text
        .split('\n')
        .filter((line) => /^\s+\d+\s+\d+\s+[\d.e-]+\s+[>≤] /.test(line))
        .map((line) => line.trim().split(/\s+/));
    const few = formatAnalysis(result);
    assert.match(few, /every flagged head, by head stat − \(1\+m\)·mean:/);
    const gaps = rows(few).map((r) => Number(r[2]) - Number(r[4]));
    assert.deepEqual(
      gaps,
      [...gaps].sort((a, b) => b - a),
      'listed by the gap, largest first',
    );
    const all = formatAnalysis(result, { allHeads: true });
    assert.match(all, /every flagged head \(by layer\):/);
    const layers = rows(all).map((r) => Number(r[0]));
    assert.deepEqual(
      layers,
      [...layers].sort((a, b) => a - b),
    );
  });
});

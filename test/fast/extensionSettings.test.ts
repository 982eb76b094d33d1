import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import {
  controlsFromSettings,
  isVideoPath,
  readSettings,
  restrictedModelProblem,
  settingsFromControls,
  videoGlob,
  type SettingInspection,
} from '../../src/extension/settings';
import { defaultControls } from '../../src/shared/controls';
import { toProps, validMetadataValues } from '../helpers/contractFixture';

const meta = parseContractMetadata(toProps(validMetadataValues()));

/** A fake `inspect()`: key → scopes. */
function source(values: Record<string, SettingInspection>): (key: string) => SettingInspection {
  return (key) => values[key] ?? {};
}

describe('extension settings', () => {
  it('defaults every setting when nothing is set', () => {
    const { settings, problems } = readSettings(source({}), true);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.checkpoint, { path: null, extraPaths: [] });
    assert.deepEqual(settings.runtime, { executionProvider: 'auto', allowFallback: false });
    assert.deepEqual(settings.decode, { decoder: 'auto', ffmpegPath: null });
    assert.deepEqual(settings.ar, {
      mode: null,
      ratioKind: null,
      tau: null,
      headMargin: null,
      alpha: null,
      paiAlpha: null,
      layers: null,
    });
    assert.equal(settings.panel.debounceMs, 250);
    assert.equal(settings.panel.reusePreviewPanel, true);
    assert.equal(settings.panel.answerTokens, 0);
    assert.equal(settings.evaluation.jobs, 1);
    const off = readSettings(
      (key) => (key === 'panel.reusePreviewPanel' ? { workspaceValue: false } : undefined),
      true,
    );
    assert.equal(off.settings.panel.reusePreviewPanel, false);
  });

  it('prefers folder over workspace over user values when trusted', () => {
    const { settings } = readSettings(
      source({
        'decode.ffmpegPath': { globalValue: '/usr/bin/ffmpeg', workspaceValue: './ffmpeg' },
        'ar.alpha': { globalValue: 0.2, workspaceValue: 0.4, workspaceFolderValue: 0.6 },
        'ar.mode': { workspaceValue: 'pai' },
        'ar.ratioKind': { workspaceValue: 'density' },
      }),
      true,
    );
    assert.equal(settings.decode.ffmpegPath, './ffmpeg');
    assert.equal(settings.ar.alpha, 0.6);
    assert.equal(settings.ar.mode, 2);
    assert.equal(settings.ar.ratioKind, 1);
  });

  it('ignores workspace executable and model paths in Restricted Mode, and says so', () => {
    const { settings, problems } = readSettings(
      source({
        'decode.ffmpegPath': { globalValue: '/usr/bin/ffmpeg', workspaceValue: './evil' },
        'checkpoint.path': { workspaceFolderValue: './model.onnx' },
        'checkpoint.extraPaths': { workspaceValue: ['a.onnx'] },
        'ar.alpha': { workspaceValue: 0.4 },
      }),
      false,
    );
    assert.equal(settings.trusted, false);
    assert.equal(settings.decode.ffmpegPath, '/usr/bin/ffmpeg');
    assert.equal(settings.checkpoint.path, null);
    assert.deepEqual(settings.checkpoint.extraPaths, []);
    // AR values are no executable or model path: they still apply.
    assert.equal(settings.ar.alpha, 0.4);
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /workspace value ignored in Restricted Mode/);
  });

  it('rejects out-of-range and mistyped values with a problem, keeping the default', () => {
    const { settings, problems } = readSettings(
      source({
        'ar.alpha': { workspaceValue: 3 },
        'ar.tau': { workspaceValue: 'high' },
        'ar.mode': { workspaceValue: 'loud' },
        'runtime.executionProvider': { workspaceValue: 'tpu' },
        'panel.debounceMs': { workspaceValue: -5 },
        'ar.layers': { workspaceValue: [0, -1] },
        'evaluation.jobs': { workspaceValue: 99 },
        'panel.answerTokens': { workspaceValue: 33 },
      }),
      true,
    );
    assert.equal(settings.ar.alpha, null);
    assert.equal(settings.ar.tau, null);
    assert.equal(settings.ar.mode, null);
    assert.equal(settings.ar.layers, null);
    assert.equal(settings.runtime.executionProvider, 'auto');
    assert.equal(settings.panel.debounceMs, 250);
    assert.equal(settings.evaluation.jobs, 1);
    assert.equal(settings.panel.answerTokens, 0);
    assert.equal(problems.length, 8);
    assert.ok(problems.some((p) => p.startsWith('mosear.ar.alpha: 3 is not a number in [0, 1]')));
  });

  it('turns AR settings into the controls they set, τ spread over the layers', () => {
    const { settings } = readSettings(
      source({ 'ar.tau': { workspaceValue: 0.7 }, 'ar.layers': { workspaceValue: [1, 3] } }),
      true,
    );
    assert.deepEqual(controlsFromSettings(settings.ar, meta), {
      tau: [0.7, 0.7, 0.7, 0.7],
      layers: [0, 1, 0, 1],
    });
    assert.deepEqual(controlsFromSettings(readSettings(source({}), true).settings.ar, meta), {});
  });

  it('stores controls as settings that read back to the same controls', () => {
    const controls = { ...defaultControls(meta), mode: 2 as const, alpha: 0.25 };
    const values = Object.fromEntries(
      settingsFromControls(controls).map(([k, v]) => [k, { workspaceValue: v }]),
    );
    const { settings, problems } = readSettings(source(values), true);
    assert.deepEqual(problems, []);
    const back = controlsFromSettings(settings.ar, meta);
    const { headOverride, ...rest } = controls;
    void headOverride;
    assert.deepEqual(back, rest);
  });
});

describe('video files', () => {
  it('matches the six extensions in any case and nothing else', () => {
    for (const name of ['a.mp4', 'b.MOV', 'c.MkV', 'd.webm', 'e.AVI', 'f.m4v', '/x/y.z/g.Mp4']) {
      assert.ok(isVideoPath(name), name);
    }
    for (const name of ['a.mp3', 'mp4', 'a.mp4.json', 'dir.mp4/file', 'a.onnx', '']) {
      assert.ok(!isVideoPath(name), name);
    }
  });

  it('builds a case-insensitive glob for findFiles', () => {
    assert.equal(
      videoGlob(),
      '**/*.{[mM][pP]4,[mM][oO][vV],[mM][kK][vV],[wW][eE][bB][mM],[aA][vV][iI],[mM]4[vV]}',
    );
  });
});

describe('Restricted Mode checkpoints', () => {
  const shipped = join('/ext', 'models', 'checkpoints');
  it('allows any checkpoint in a trusted workspace', () => {
    assert.equal(restrictedModelProblem('/ws/mine.onnx', shipped, true), undefined);
  });
  it('allows only the shipped checkpoints in Restricted Mode', () => {
    assert.equal(
      restrictedModelProblem(join(shipped, 'mosear-tiny.onnx'), shipped, false),
      undefined,
    );
    assert.match(
      restrictedModelProblem('/ws/mine.onnx', shipped, false) ?? '',
      /^Restricted Mode: only the checkpoints shipped with MoSEAR Lens run .* "mine\.onnx"/,
    );
    assert.ok(restrictedModelProblem(join(shipped, 'sub', 'x.onnx'), shipped, false));
  });
});

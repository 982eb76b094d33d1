// Choosing the decoder (auto | system | wasm, Restricted Mode), and the README's main job on a
// machine with no ffmpeg on PATH: auto picks the bundled wasm decoder, which reproduces the
// committed sample tensors, and the shipped checkpoint predicts what it predicts from the
// system decoder's tensors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { argmax } from '../../src/core/analysis/probabilities';
import { defaultControls } from '../../src/shared/controls';
import type { DecodedClip } from '../../src/core/decode/clipDecoder';
import { isDecodeError } from '../../src/core/decode/decodeError';
import {
  parseDecoderChoice,
  selectClipDecoder,
  type DecoderSelectionOptions,
} from '../../src/core/decode/decoderSelection';
import { findOnPath } from '../../src/core/decode/executableLookup';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
} from '../../src/core/inference/contractModel';
import { readFloat32File } from '../../src/core/tensors/float32File';
import { DECODE_SPEC as SPEC, WASM_WORKER } from '../fixtures/decodeClips';
import { CHECKPOINT_DIR, REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const SAMPLES_DIR = join(REPO_ROOT, 'models', 'samples');
const platform = process.platform;
const systemFfmpeg = findOnPath('ffmpeg', { searchPath: process.env.PATH ?? '', platform });
/** A PATH with no ffmpeg: an empty folder (node itself is not needed: the worker is forked by path). */
const emptyBin = scratchDir('no-ffmpeg-bin');

const options = (extra: Partial<DecoderSelectionOptions>): DecoderSelectionOptions => ({
  choice: 'auto',
  wasm: { workerScript: WASM_WORKER },
  ...extra,
});

describe('decoder selection', () => {
  test('--decoder accepts auto, system and wasm (any case) and names them when it refuses', () => {
    assert.equal(parseDecoderChoice('auto'), 'auto');
    assert.equal(parseDecoderChoice(' WASM '), 'wasm');
    assert.equal(parseDecoderChoice('system'), 'system');
    assert.throws(() => parseDecoderChoice('gpu'), /one of auto, system, wasm; got "gpu"/);
  });

  test('auto with ffmpeg on PATH: the system decoder', () => {
    assert.ok(systemFfmpeg !== undefined, 'these tests need the system ffmpeg on PATH');
    const picked = selectClipDecoder(options({}));
    assert.equal(picked.backend, 'system');
    assert.equal(picked.decoder.backend, 'system');
    assert.match(picked.reason, /system ffmpeg at .*ffmpeg/);
  });

  test('auto with no ffmpeg on PATH: the wasm decoder, and the reason says so', () => {
    const picked = selectClipDecoder(options({ lookup: { searchPath: emptyBin, platform } }));
    assert.equal(picked.backend, 'wasm');
    assert.equal(picked.decoder.backend, 'wasm');
    assert.match(picked.reason, /no ffmpeg\/ffprobe on PATH/);
  });

  test('system with no ffmpeg: FFMPEG_NOT_FOUND, never a silent switch', () => {
    assert.throws(
      () =>
        selectClipDecoder(
          options({ choice: 'system', lookup: { searchPath: emptyBin, platform } }),
        ),
      (e: unknown) =>
        isDecodeError(e, 'FFMPEG_NOT_FOUND') &&
        e.message.includes('apt-get install ffmpeg') &&
        e.message.includes('--decoder wasm'),
    );
  });

  test('auto with a configured ffmpeg path that does not exist: an error, not wasm', () => {
    assert.throws(
      () => selectClipDecoder(options({ system: { ffmpegPath: join(emptyBin, 'ffmpeg') } })),
      (e: unknown) => isDecodeError(e, 'FFMPEG_NOT_FOUND') && e.message.includes(emptyBin),
    );
  });

  test('wasm when asked, even with ffmpeg installed', () => {
    assert.equal(selectClipDecoder(options({ choice: 'wasm' })).backend, 'wasm');
  });

  test('Restricted Mode: always wasm, and no configured ffmpeg path is looked at', () => {
    for (const choice of ['auto', 'system', 'wasm'] as const) {
      const picked = selectClipDecoder(
        options({
          choice,
          restricted: true,
          system: { ffmpegPath: join(emptyBin, 'workspace-supplied-ffmpeg') },
        }),
      );
      assert.equal(picked.backend, 'wasm', choice);
      assert.match(picked.reason, /^Restricted Mode/);
    }
  });

  test('a missing wasm worker is reported when choosing, not at the first clip', () => {
    assert.throws(
      () =>
        selectClipDecoder(
          options({ choice: 'wasm', wasm: { workerScript: join(emptyBin, 'wasmWorker.js') } }),
        ),
      (e: unknown) => isDecodeError(e, 'DECODER_MISSING'),
    );
  });
});

/** One README sample as the manifest lists it. */
interface Sample {
  path: string;
  label: string;
  frames: string;
  audio: string;
}

const samples = readFileSync(join(SAMPLES_DIR, 'manifest.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Sample);

/** Largest |a − b|. */
function maxAbs(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('the main job with no ffmpeg on PATH', () => {
  let model: ContractModel | undefined;
  after(async () => {
    if (model !== undefined) await closeContractModel(model);
  });

  test('auto picks wasm; samples reproduce their committed tensors; predictions match the system decoder', async (t) => {
    const savedPath = process.env.PATH;
    let wasmClips: DecodedClip[];
    try {
      // The process's own PATH, stripped of ffmpeg: selection reads it at call time.
      process.env.PATH = emptyBin;
      const picked = selectClipDecoder({ choice: 'auto', wasm: { workerScript: WASM_WORKER } });
      assert.equal(picked.backend, 'wasm', picked.reason);
      wasmClips = [];
      for (const sample of samples) {
        wasmClips.push(await picked.decoder.decode(join(SAMPLES_DIR, sample.path), SPEC));
      }
    } finally {
      process.env.PATH = savedPath;
    }
    const system = selectClipDecoder({ choice: 'system', wasm: { workerScript: WASM_WORKER } });
    const opened = await openContractModel(join(CHECKPOINT_DIR, 'mosear-tiny.onnx'), {
      intraOpNumThreads: 1,
    });
    model = opened;
    const controls = defaultControls(opened.metadata);
    const labels = opened.metadata.labels;
    const run = async (clip: DecodedClip): Promise<Float32Array> =>
      (await runContractModel(opened, { frames: clip.frames, audio: clip.audio! }, controls)).logits
        .data;
    for (const [i, sample] of samples.entries()) {
      const w = wasmClips[i]!;
      assert.equal(w.backend, 'wasm');
      // Against the Python pipeline's tensors, within the spec's cross-build tolerance.
      const frames = maxAbs(w.frames, await readFloat32File(join(SAMPLES_DIR, sample.frames)));
      const audio = maxAbs(w.audio!, await readFloat32File(join(SAMPLES_DIR, sample.audio)));
      assert.ok(frames <= 1 / 255 && audio <= 1e-4, `${sample.path}: ${frames}, ${audio}`);
      const s = await system.decoder.decode(join(SAMPLES_DIR, sample.path), SPEC);
      assert.equal(s.backend, 'system');
      const [wasmLogits, systemLogits] = [await run(w), await run(s)];
      assert.equal(labels[argmax(wasmLogits)], labels[argmax(systemLogits)], sample.path);
      const logits = maxAbs(wasmLogits, systemLogits);
      assert.ok(logits <= 1e-4, `${sample.path}: logits differ by ${logits}`);
      t.diagnostic(
        `${sample.path}: wasm → ${labels[argmax(wasmLogits)]} (label ${sample.label}); vs committed ` +
          `tensors frames ${frames}, audio ${audio}; logits vs system ${logits}`,
      );
    }
    assert.equal(dirname(WASM_WORKER), join(REPO_ROOT, 'dist', 'decode'));
  });
});

// The TypeScript decode reproduces the tensors the Python pipeline (models/mosear/decode.py)
// produced for committed clips: the golden decodes of test-split clips and the README samples.
// Both sides run the same ffmpeg commands, so with the same ffmpeg the error is 0. The ffmpeg.wasm
// decoder reads the same clips alike, all frames in one command or one command per frame.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { ClipDecodeSpec, DecodedClip } from '../../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { WasmFfmpegDecoder } from '../../src/core/decode/wasmFfmpegDecoder';
import { WASM_WORKER } from '../fixtures/decodeClips';

/** Frames may differ by one 8-bit level (another ffmpeg build); audio by 1e-4. */
const FRAME_TOLERANCE = 1 / 255;
const AUDIO_TOLERANCE = 1e-4;
/** The spec's audio rate (the golden index records shapes, not the rate). */
const SAMPLE_RATE_HZ = 16000;
const REGENERATE =
  'generate them with `cd models && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m research.make_splits samples`';

/** The repository root: the nearest folder above this file with the project's package.json. */
function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes('"name": "mosear-lens"')) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no mosear-lens package.json above ${__dirname}`);
    dir = parent;
  }
}

const root = repoRoot();
const samplesDir = join(root, 'models', 'samples');
const goldenDir = join(samplesDir, 'golden-decodes');
const decoder = new SystemFfmpegDecoder();

/** A raw little-endian float32 file. */
function readF32(path: string): Float32Array {
  assert.ok(existsSync(path), `missing tensor file ${path}`);
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Largest |a − b|; lengths must match. */
function maxAbsError(a: Float32Array, b: Float32Array, what: string): number {
  assert.equal(a.length, b.length, `${what}: length ${a.length} ≠ ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** What the Python pipeline recorded for one clip. */
interface PythonDecode {
  clip: string;
  frames: string;
  audio: string;
  duration_s: number;
  frame_times_s: number[];
  audio_start_s: number;
  has_audio: boolean;
}

/** Compares one TS decode with the Python tensors and metadata; returns the errors. */
function compare(clip: DecodedClip, expected: PythonDecode): { frames: number; audio: number } {
  const name = expected.clip;
  assert.equal(clip.source.durationSeconds, expected.duration_s, `${name}: duration`);
  assert.deepEqual(
    clip.frameTimesSeconds.map((t) => Math.round(t * 1e6) / 1e6),
    expected.frame_times_s,
    `${name}: frame times`,
  );
  assert.equal(
    Math.round(clip.audioStartSeconds * 1e6) / 1e6,
    expected.audio_start_s,
    `${name}: audio start`,
  );
  assert.equal(clip.audio !== null, expected.has_audio, `${name}: has audio`);
  const frames = maxAbsError(clip.frames, readF32(expected.frames), `${name} frames`);
  const audio =
    clip.audio === null ? 0 : maxAbsError(clip.audio, readF32(expected.audio), `${name} audio`);
  assert.ok(frames <= FRAME_TOLERANCE, `${name}: frames max abs error ${frames} > 1/255`);
  assert.ok(audio <= AUDIO_TOLERANCE, `${name}: audio max abs error ${audio} > ${AUDIO_TOLERANCE}`);
  return { frames, audio };
}

/** Decodes a clip with the decoder under test: the system decoder, or wasm both ways (checked equal). */
type Decode = (path: string, spec: ClipDecodeSpec) => Promise<DecodedClip>;

/** Decodes each clip in `folder` and compares it with its Python decode (paths under `folder`). */
async function reproduces(
  t: TestContext,
  folder: string,
  expected: PythonDecode[],
  spec: ClipDecodeSpec,
  decode: Decode = (path, s) => decoder.decode(path, s),
): Promise<void> {
  for (const entry of expected) {
    const clipPath = join(folder, entry.clip);
    assert.ok(existsSync(clipPath), `clip ${clipPath} is missing`);
    const clip = await decode(clipPath, spec);
    const errors = compare(clip, {
      ...entry,
      frames: join(folder, entry.frames),
      audio: join(folder, entry.audio),
    });
    t.diagnostic(`${entry.clip}: frames max abs ${errors.frames}, audio max abs ${errors.audio}`);
  }
}

const wasmOneProcess = new WasmFfmpegDecoder({ workerScript: WASM_WORKER });
const wasmPerFrame = new WasmFfmpegDecoder({ workerScript: WASM_WORKER, frameDecode: 'per-frame' });

/**
 * The wasm decode of a clip all frames in one command, checked bit for bit against the decode
 * one command per frame (what the wasm decoder did before): the same tensors, fewer commands.
 */
const wasmBothWays: Decode = async (path, spec) => {
  const one = await wasmOneProcess.decode(path, spec);
  const each = await wasmPerFrame.decode(path, spec);
  assert.deepEqual(one.frames, each.frames, `${path}: frames, one command vs per frame`);
  assert.deepEqual(one.audio, each.audio, `${path}: audio, one command vs per frame`);
  assert.deepEqual(one.frameFromTail, each.frameFromTail, `${path}: tail rule`);
  // probe, frames, audio against probe, T frames, audio
  assert.equal(one.timings.commands, 3, `${path}: commands, one command`);
  assert.equal(each.timings.commands, 2 + spec.frames, `${path}: commands, per frame`);
  return one;
};

/** The two golden checks, run with `decode`. */
function goldenTests(decode: Decode): void {
  test('test-split clips in models/samples/golden-decodes reproduce within 1/255 and 1e-4', async (t) => {
    const indexPath = join(goldenDir, 'index.json');
    assert.ok(
      existsSync(indexPath),
      `${indexPath} is missing: the Python pipeline's golden decodes are not committed; ${REGENERATE}`,
    );
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {
      spec: string;
      frames_shape: [number, number, number, number];
      audio_shape: [number];
      clips: (Omit<PythonDecode, 'clip'> & { file: string })[];
    };
    assert.equal(index.spec, 'mosear-decode-1');
    assert.equal(index.frames_shape[1], 3);
    assert.ok(index.clips.length > 0, 'the golden index lists no clips');
    const spec: ClipDecodeSpec = {
      frames: index.frames_shape[0],
      height: index.frames_shape[2],
      width: index.frames_shape[3],
      sampleRateHz: SAMPLE_RATE_HZ,
      samples: index.audio_shape[0],
    };
    const clips = index.clips.map(({ file, ...entry }) => ({ ...entry, clip: file }));
    await reproduces(t, goldenDir, clips, spec, decode);
  });

  test('README sample clips in models/samples reproduce their committed tensors', async (t) => {
    const manifestPath = join(samplesDir, 'manifest.jsonl');
    assert.ok(existsSync(manifestPath), `${manifestPath} is missing; ${REGENERATE}`);
    const entries = readFileSync(manifestPath, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Omit<PythonDecode, 'clip'> & { path: string });
    assert.ok(entries.length > 0, 'the samples manifest lists no clips');
    const spec: ClipDecodeSpec = {
      frames: 4,
      height: 64,
      width: 64,
      sampleRateHz: SAMPLE_RATE_HZ,
      samples: 32000,
    };
    const clips = entries.map(({ path, ...entry }) => ({ ...entry, clip: path }));
    await reproduces(t, samplesDir, clips, spec, decode);
  });
}

describe('golden decodes (Python decode.py vs TypeScript)', () => {
  goldenTests((path, spec) => decoder.decode(path, spec));
});

describe('golden decodes (Python decode.py vs ffmpeg.wasm, one command and per frame)', () => {
  goldenTests(wasmBothWays);
});

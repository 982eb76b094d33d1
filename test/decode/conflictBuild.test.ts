// Conflict sets with the real ffmpeg: every written clip probes with a video and an audio
// stream, trimmed to the shorter of its two donors, copied where mp4 takes the streams (PCM audio
// re-encoded); clips without audio or video are skipped with the reason; the manifest parses
// with the project's reader and its checkpoint plan; an existing folder is kept unless allowed,
// and overwriting removes only the earlier set's own clips.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  buildConflictSet,
  type ConflictBuildSummary,
} from '../../src/core/conflicts/conflictBuild';
import { ConflictError } from '../../src/core/conflicts/conflictPairs';
import { readManifest } from '../../src/core/evaluation/manifest';
import { planBenchmark } from '../../src/core/evaluation/benchmarkRun';
import {
  CONFLICT_LABELS as LABELS,
  makeConflictSource,
  streamSeconds,
  streamTypes,
} from '../fixtures/conflictClips';
import { MODEL } from '../helpers/engineFixtures';
import { scratchDir } from '../helpers/tempFiles';

describe('buildConflictSet', () => {
  const dir = scratchDir('conflicts');
  let source: ReturnType<typeof makeConflictSource>;
  let summary: ConflictBuildSummary;
  const out = join(dir, 'video-truth');
  const options = () => ({
    source: source.manifest,
    outDir: out,
    labels: LABELS,
    truth: 'video' as const,
    pairsPerLabel: 2,
    seed: 5,
    overwrite: false,
  });

  before(async () => {
    source = makeConflictSource(dir);
    summary = await buildConflictSet(options());
  });

  test('writes two clips per usable label, each with both streams, trimmed to the shorter', () => {
    // happy (2 clips), sad and neutral (1 each) are usable: 2 pairs each.
    assert.equal(summary.clips.length, 6);
    assert.equal(summary.subset, 'video-aligned');
    for (const clip of summary.clips) {
      const path = join(out, clip.path);
      assert.deepEqual(streamTypes(path).sort(), ['audio', 'video'], clip.path);
      assert.equal(clip.label, clip.videoLabel);
      assert.notEqual(clip.videoLabel, clip.audioLabel);
      const video = source.durations.get(join(out, clip.videoFrom));
      const audio = source.durations.get(join(out, clip.audioFrom));
      assert.ok(video !== undefined && audio !== undefined, clip.path);
      const expected = Math.min(video.video, audio.audio);
      const got = Math.max(streamSeconds(path, 'v'), streamSeconds(path, 'a'));
      assert.ok(Math.abs(got - expected) < 0.1, `${clip.path}: ${got} s, expected ${expected} s`);
      assert.ok(Math.abs(clip.durationSeconds - expected) < 0.1, clip.path);
      // PCM audio cannot go into mp4 by copy: re-encoded; the rest is copied.
      const pcm = join(out, clip.audioFrom) === source.pcmMov;
      assert.equal(clip.encoding, pcm ? 'audio re-encoded' : 'copy', clip.path);
    }
  });

  test('skips the clip without audio and the one without video, with the reason', () => {
    const reasons = new Map(summary.skipped.map((s) => [s.path, s.reason]));
    assert.equal(reasons.get(source.noAudio), 'no audio stream');
    assert.equal(reasons.get(source.audioOnly), 'no video stream');
    assert.equal(summary.notConsistent, 1);
    const csv = readFileSync(summary.skippedCsvPath, 'utf8');
    assert.match(csv, /^kind,path,label,reason\n/);
    assert.match(csv, /silent-angry\.mp4,angry,no audio stream/);
    assert.deepEqual(summary.notes, [
      'angry: no usable consistent clip of this label',
      'worried: no usable consistent clip of this label',
      'surprise: no usable consistent clip of this label',
    ]);
  });

  test('writes a manifest the evaluation reads: conflict clips, then the consistent originals', async () => {
    const entries = await readManifest(out, LABELS);
    assert.deepEqual(
      entries.map((e) => e.subset),
      [...Array<string>(6).fill('video-aligned'), ...Array<string>(4).fill('consistent')],
    );
    for (const e of entries) assert.ok(existsSync(e.path), e.path);
    const planned = await planBenchmark({ manifest: out, models: [MODEL] });
    assert.equal(planned.plan.manifest.clips, 10);
    assert.equal(planned.entries.length, 10);
  });

  test('refuses a non-empty folder unless overwriting, and rebuilds the same set', async () => {
    await assert.rejects(
      buildConflictSet(options()),
      (e: unknown) => e instanceof ConflictError && e.code === 'OUTPUT_EXISTS',
    );
    const before = readFileSync(summary.manifestPath, 'utf8');
    const again = await buildConflictSet({ ...options(), overwrite: true });
    assert.equal(readFileSync(again.manifestPath, 'utf8'), before);
  });

  test("overwriting removes the earlier set's clips it does not write again, nothing else", async () => {
    // The folder holds the six-clip set. Beside it: a user's file in clips/, one named like a
    // conflict clip but listed nowhere, and manifest rows (hand-added) pointing outside clips/.
    const clips = join(out, 'clips');
    const earlier = readdirSync(clips).sort();
    assert.equal(earlier.length, 6);
    const userFiles = ['notes.txt', '0099-video-happy-audio-sad.mp4'];
    for (const f of userFiles) writeFileSync(join(clips, f), "the user's");
    writeFileSync(join(dir, 'outside.mp4'), "the user's");
    const hostile = [
      { path: '../outside.mp4', video_from: 'a', audio_from: 'b' },
      { path: 'clips/notes.txt', video_from: 'a', audio_from: 'b' },
    ];
    appendFileSync(
      join(out, 'manifest.jsonl'),
      hostile.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    const smaller = await buildConflictSet({ ...options(), pairsPerLabel: 1, overwrite: true });
    assert.equal(smaller.clips.length, 3);
    const written = smaller.clips.map((c) => c.path.replace(/^clips\//, ''));
    assert.deepEqual(readdirSync(clips).sort(), [...written, ...userFiles].sort());
    assert.ok(
      earlier.some((f) => !written.includes(f)),
      'some earlier clips were not rewritten',
    );
    assert.ok(existsSync(join(dir, 'outside.mp4')));
  });

  test('puts the label on the audio when the audio carries the truth', async () => {
    const audio = await buildConflictSet({
      ...options(),
      outDir: join(dir, 'audio-truth'),
      truth: 'audio',
      pairsPerLabel: 1,
    });
    assert.equal(audio.clips.length, 3);
    for (const clip of audio.clips) assert.equal(clip.label, clip.audioLabel);
    const entries = await readManifest(audio.manifestPath, LABELS);
    assert.equal(entries.filter((e) => e.subset === 'audio-aligned').length, 3);
  });

  test('a cancel stops the build and leaves no partial clip', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      buildConflictSet({ ...options(), outDir: join(dir, 'cancelled'), signal: controller.signal }),
      (e: unknown) => e instanceof ConflictError && e.code === 'CANCELLED',
    );
    // Cancelled while writing the second clip (ffmpeg killed mid-run or before it starts).
    const midway = new AbortController();
    const outDir = join(dir, 'cancelled-midway');
    await assert.rejects(
      buildConflictSet({
        ...options(),
        outDir,
        signal: midway.signal,
        onProgress: (p) => {
          if (p.stage === 'mux' && p.done === 1) setTimeout(() => midway.abort(), 5);
        },
      }),
      (e: unknown) => e instanceof ConflictError && e.code === 'CANCELLED',
    );
    const left = readdirSync(join(outDir, 'clips'));
    assert.equal(left.filter((f) => f.includes('partial')).length, 0, left.join(', '));
    assert.ok(!existsSync(join(outDir, 'manifest.jsonl')));
  });
});

// Conflict-set planning without processes: seeded pairing (deterministic, order-free, labels
// different, truth on the chosen side), the one-label and no-clip messages, and how a labelled
// source is read (manifest subsets, label subfolders and what they skip).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ConflictError,
  conflictClipName,
  conflictSubset,
  planConflictPairs,
  type SourceClip,
} from '../../src/core/conflicts/conflictPairs';
import { CLIP_EXTENSIONS, readLabelledSource } from '../../src/core/conflicts/labelledClips';
import { buildConflictSet, outputFolderState } from '../../src/core/conflicts/conflictBuild';
import { VIDEO_EXTENSIONS } from '../../src/extension/settings';
import { scratchDir } from '../helpers/tempFiles';

const LABELS = ['neutral', 'angry', 'happy', 'sad', 'worried', 'surprise'];

/** n clips of each of the given labels. */
function clipsOf(labels: number[], n: number): SourceClip[] {
  return labels.flatMap((label) =>
    Array.from({ length: n }, (_, i) => ({ path: `/d/${LABELS[label]}-${i}.mp4`, label })),
  );
}

const key = (pairs: ReturnType<typeof planConflictPairs>) =>
  pairs.map((p) => `${p.truthLabel}:${p.video.path}+${p.audio.path}`);

describe('planConflictPairs', () => {
  const clips = clipsOf([0, 1, 2, 3], 5);

  it('gives the same pairs for the same seed, whatever the order of the clips', () => {
    const options = { truth: 'video' as const, pairsPerLabel: 4, seed: 7 };
    const a = planConflictPairs(clips, LABELS, options);
    const b = planConflictPairs([...clips].reverse(), LABELS, options);
    assert.deepEqual(key(a), key(b));
    assert.notDeepEqual(key(a), key(planConflictPairs(clips, LABELS, { ...options, seed: 8 })));
  });

  it('puts the truth label on the chosen modality and pairs different labels only', () => {
    for (const truth of ['video', 'audio'] as const) {
      const pairs = planConflictPairs(clips, LABELS, { truth, pairsPerLabel: 3, seed: 1 });
      assert.equal(pairs.length, 4 * 3);
      for (const p of pairs) {
        assert.notEqual(p.video.label, p.audio.label);
        assert.equal(p.truthLabel, truth === 'video' ? p.video.label : p.audio.label);
      }
      assert.deepEqual(
        [0, 1, 2, 3].map((l) => pairs.filter((p) => p.truthLabel === l).length),
        [3, 3, 3, 3],
      );
    }
    assert.equal(conflictSubset('video'), 'video-aligned');
    assert.equal(conflictSubset('audio'), 'audio-aligned');
  });

  it('uses each truth donor once before repeating one, and never repeats a pair', () => {
    const pairs = planConflictPairs(clips, LABELS, { truth: 'audio', pairsPerLabel: 5, seed: 3 });
    const happy = pairs.filter((p) => p.truthLabel === 2);
    assert.equal(new Set(happy.map((p) => p.audio.path)).size, 5);
    // Two clips per label: at most 2 × 2 distinct pairs per label with one other label.
    const few = planConflictPairs(clipsOf([0, 1], 2), LABELS, {
      truth: 'video',
      pairsPerLabel: 10,
      seed: 1,
    });
    assert.equal(few.length, 8);
    assert.equal(new Set(key(few)).size, 8);
  });

  it('says when the clips carry one label only, or none', () => {
    assert.throws(
      () =>
        planConflictPairs(clipsOf([2], 3), LABELS, { truth: 'video', pairsPerLabel: 2, seed: 1 }),
      (e: unknown) =>
        e instanceof ConflictError && e.code === 'ONE_LABEL' && /"happy"/.test(e.message),
    );
    assert.throws(
      () => planConflictPairs([], LABELS, { truth: 'video', pairsPerLabel: 2, seed: 1 }),
      (e: unknown) => e instanceof ConflictError && e.code === 'NO_CLIPS',
    );
  });

  it('names clips by number and both labels, safe for any file system', () => {
    const [pair] = planConflictPairs(clipsOf([0, 1], 1), ['a b/c', 'ok'], {
      truth: 'video',
      pairsPerLabel: 1,
      seed: 1,
    });
    assert.ok(pair !== undefined);
    assert.equal(conflictClipName(12, pair, ['a b/c', 'ok']), '0012-video-a_b_c-audio-ok.mp4');
  });
});

describe('readLabelledSource', () => {
  const dir = scratchDir('conflict-source');

  it('reads label subfolders (case ignored) and skips the rest with a reason', async () => {
    const root = join(dir, 'folders');
    for (const [folder, files] of [
      ['Happy', ['a.mp4', 'b.MOV', 'notes.txt']],
      ['sad', ['c.mkv']],
      ['unknown', ['d.mp4']],
    ] as const) {
      mkdirSync(join(root, folder), { recursive: true });
      for (const f of files) writeFileSync(join(root, folder, f), '');
    }
    writeFileSync(join(root, 'loose.mp4'), '');
    const source = await readLabelledSource(root, LABELS);
    assert.equal(source.kind, 'folder');
    assert.deepEqual(
      source.clips.map((c) => [c.path.slice(root.length + 1), c.label, c.consistent]),
      [
        [join('Happy', 'a.mp4'), 2, true],
        [join('Happy', 'b.MOV'), 2, true],
        [join('sad', 'c.mkv'), 3, true],
      ],
    );
    assert.deepEqual(
      source.skipped.map((s) => [s.kind, s.path.slice(root.length + 1)]),
      [
        ['clip', 'loose.mp4'],
        ['folder', 'unknown'],
      ],
    );
    assert.match(source.skipped[1]?.reason ?? '', /not one of the model's labels/);
  });

  it("takes a manifest's consistent rows, or every row when none has a subset", async () => {
    const withSubsets = join(dir, 'm1.jsonl');
    writeFileSync(
      withSubsets,
      [
        '{"path": "a.mp4", "label": "happy", "subset": "consistent"}',
        '{"path": "b.mp4", "label": "sad", "subset": "video-aligned"}',
      ].join('\n'),
    );
    const plain = join(dir, 'm2.csv');
    writeFileSync(plain, 'path,label\na.mp4,happy\nb.mp4,3\n');
    const a = await readLabelledSource(withSubsets, LABELS);
    assert.deepEqual(
      a.clips.map((c) => c.consistent),
      [true, false],
    );
    const b = await readLabelledSource(plain, LABELS);
    assert.deepEqual(
      b.clips.map((c) => [c.label, c.consistent]),
      [
        [2, true],
        [3, true],
      ],
    );
  });

  it('refuses a manifest without consistent rows before running anything', async () => {
    const manifest = join(dir, 'none-consistent.jsonl');
    writeFileSync(manifest, '{"path": "a.mp4", "label": "happy", "subset": "audio-aligned"}\n');
    await assert.rejects(
      buildConflictSet({
        source: manifest,
        outDir: join(dir, 'never'),
        labels: LABELS,
        truth: 'video',
        pairsPerLabel: 1,
        seed: 1,
        overwrite: false,
        ffmpegPath: '/nonexistent/ffmpeg',
      }),
      (e: unknown) => e instanceof ConflictError && /no consistent clip/.test(e.message),
    );
  });

  it('says what a folder without a manifest or label subfolders lacks', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(readLabelledSource(empty, LABELS), /no clips in label subfolders/);
    await assert.rejects(readLabelledSource(join(dir, 'nope'), LABELS), /no manifest or folder/);
  });

  it("knows the output folder's state and reads the same clip extensions as the extension", async () => {
    assert.equal(await outputFolderState(join(dir, 'absent')), 'absent');
    mkdirSync(join(dir, 'out'));
    assert.equal(await outputFolderState(join(dir, 'out')), 'empty');
    writeFileSync(join(dir, 'out', 'x'), '');
    assert.equal(await outputFolderState(join(dir, 'out')), 'non-empty');
    assert.deepEqual([...CLIP_EXTENSIONS], [...VIDEO_EXTENSIONS]);
  });
});

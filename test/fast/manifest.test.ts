import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManifestError, parseManifest, readManifest } from '../../src/core/evaluation/manifest';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const LABELS = ['neutral', 'angry', 'happy', 'sad', 'worried', 'surprise'];

describe('parseManifest', () => {
  it('reads names or indices, resolves paths and keeps optional subsets', () => {
    const text = [
      '{"path": "c-0001-neutral.mp4", "label": "neutral", "subset": "consistent", "e_v": "neutral"}',
      '',
      '{"path": "sub/va-0002.mp4", "label": 3, "subset": "video-aligned"}',
      '{"path": "/abs/x.mp4", "label": "surprise"}',
    ].join('\n');
    const entries = parseManifest(text, '/data/split', LABELS);
    assert.deepEqual(
      entries.map((e) => [e.line, e.path, e.label, e.subset]),
      [
        [1, '/data/split/c-0001-neutral.mp4', 0, 'consistent'],
        [3, '/data/split/sub/va-0002.mp4', 3, 'video-aligned'],
        [4, '/abs/x.mp4', 5, null],
      ],
    );
    assert.equal(entries[1]!.relativePath, 'sub/va-0002.mp4');
  });

  it('names the line of every kind of mistake', () => {
    const bad = (line: string, pattern: RegExp) =>
      assert.throws(
        () => parseManifest(`{"path":"ok.mp4","label":0}\n${line}`, '/d', LABELS, 'm'),
        (e) => {
          assert.ok(e instanceof ManifestError);
          assert.match(e.message, /^m:2: /);
          assert.match(e.message, pattern);
          return true;
        },
      );
    bad('{"path": "a.mp4", "label": "joyful"}', /label "joyful" is not one of/);
    bad('{"path": "a.mp4", "label": 6}', /outside 0…5/);
    bad('{"path": "a.mp4", "label": 1.5}', /label name or an integer/);
    bad('{"label": "sad"}', /"path"/);
    bad('{"path": "a.mp4", "label": "sad", "subset": 3}', /"subset"/);
    bad('[1, 2]', /JSON object/);
    bad('{"path": "a.mp4", "label": ', /not valid JSON/);
    bad('{"path": "ok.mp4", "label": 1}', /listed again \(first on line 1\)/);
  });
});

describe('readManifest', () => {
  it('resolves clips next to the manifest and reports a missing file clearly', async () => {
    const dir = scratchDir('manifest');
    const file = writeTemp(dir, 'manifest.jsonl', Buffer.from('{"path":"a.mp4","label":"sad"}\n'));
    const [entry] = await readManifest(file, LABELS);
    assert.equal(entry!.path, join(dir, 'a.mp4'));
    await assert.rejects(readManifest(join(dir, 'none.jsonl'), LABELS), /no manifest at/);
  });
});

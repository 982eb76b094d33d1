import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ManifestError,
  parseCsvManifest,
  parseManifest,
  readManifest,
} from '../../src/core/evaluation/manifest';
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
    bad('{"path": "", "label": 1}', /"path" must be a non-empty string/);
    bad('{"path": null, "label": 1}', /"path" must be a non-empty string/);
    bad('{"path": "a.mp4"}', /"label" must be a label name or an integer/);
    bad('"a.mp4"', /JSON object/);
  });
});

describe('manifest transcripts', () => {
  it('an optional transcript: a JSONL string or null, a CSV column (empty: none)', () => {
    const jsonl = [
      '{"path": "a.mp4", "label": "sad", "transcript": "Café, 我 😀"}',
      '{"path": "b.mp4", "label": "sad", "transcript": null}',
      '{"path": "c.mp4", "label": "sad"}',
    ].join('\n');
    assert.deepEqual(
      parseManifest(jsonl, '/d', LABELS).map((e) => e.transcript),
      ['Café, 我 😀', null, null],
    );
    assert.throws(
      () => parseManifest('{"path": "a.mp4", "label": 0, "transcript": 3}', '/d', LABELS, 'm'),
      (e: unknown) =>
        e instanceof ManifestError && /m:1: "transcript" must be a string/.test(e.message),
    );
    const csv = ['path,label,Transcript', 'a.mp4,sad,"I said, ""no"""', 'b.mp4,sad,', 'c.mp4,sad'];
    assert.deepEqual(
      parseCsvManifest(csv.join('\n'), '/d', LABELS).map((e) => e.transcript),
      ['I said, "no"', null, null],
    );
  });
});

describe('manifest feature files', () => {
  it('face_features / video_features: .npy paths relative to the manifest (JSONL and CSV)', () => {
    const jsonl = [
      '{"path": "a.mp4", "label": "sad", "face_features": "f/a.face.npy"}',
      '{"path": "b.mp4", "label": "sad", "video_features": "/abs/b.npy", "face_features": null}',
      '{"path": "c.mp4", "label": "sad"}',
    ].join('\n');
    assert.deepEqual(
      parseManifest(jsonl, '/d', LABELS).map((e) => e.features),
      [{ faceMae: '/d/f/a.face.npy' }, { videoMae: '/abs/b.npy' }, undefined],
    );
    assert.throws(
      () => parseManifest('{"path": "a.mp4", "label": 0, "video_features": 1}', '/d', LABELS, 'm'),
      (e: unknown) =>
        e instanceof ManifestError && /m:1: "video_features" must be a path string/.test(e.message),
    );
    const csv = [
      'path,label,face_features,video_features',
      'a.mp4,sad,a.f.npy,a.v.npy',
      'b.mp4,sad,,',
    ];
    assert.deepEqual(
      parseCsvManifest(csv.join('\n'), '/d', LABELS).map((e) => e.features),
      [{ faceMae: '/d/a.f.npy', videoMae: '/d/a.v.npy' }, undefined],
    );
  });
});

describe('parseCsvManifest', () => {
  it('reads the same rows as JSONL: trimmed cells, digit labels as indices, empty subsets none', () => {
    const text = 'Path, label ,subset\r\n"a.mp4" ,sad,\r\nb.mp4,2, consistent \r\n';
    assert.deepEqual(
      parseCsvManifest(text, '/d', LABELS).map((e) => [e.line, e.path, e.label, e.subset]),
      [
        [2, '/d/a.mp4', 3, null],
        [3, '/d/b.mp4', 2, 'consistent'],
      ],
    );
  });

  it('names the file and line of a bad row', () => {
    const bad = (row: string, pattern: RegExp) =>
      assert.throws(
        () => parseCsvManifest(`path,label\nok.mp4,0\n${row}\n`, '/d', LABELS, 'm.csv'),
        (e) => {
          assert.ok(e instanceof ManifestError);
          assert.match(e.message, /^m\.csv:3: /);
          assert.match(e.message, pattern);
          return true;
        },
      );
    bad('a.mp4,joyful', /label "joyful" is not one of/);
    bad('a.mp4,9', /outside 0…5/);
    bad('a.mp4', /"label" must be a label name or an integer/);
    bad(',sad', /"path" must be a non-empty string/);
    bad('ok.mp4,sad', /listed again/);
  });
});

describe('a UTF-8 byte order mark', () => {
  it('is accepted at the start of JSONL and CSV manifests, read from disk', async () => {
    const dir = scratchDir('manifest-bom');
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const jsonl = writeTemp(
      dir,
      'bom.jsonl',
      Buffer.concat([bom, Buffer.from('{"path":"a.mp4","label":"sad"}\n')]),
    );
    const csv = writeTemp(
      dir,
      'bom.csv',
      Buffer.concat([bom, Buffer.from('path,label\na.mp4,sad\n')]),
    );
    for (const file of [jsonl, csv]) {
      const entries = await readManifest(file, LABELS);
      assert.deepEqual(
        entries.map((e) => [e.path, e.label]),
        [[join(dir, 'a.mp4'), 3]],
        file,
      );
    }
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

// A clip's transcript: subtitle text without cue numbers, timings, headers and tags; sidecar
// precedence (.txt, .srt, .vtt; extension replaced before appended); given text first.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  plainText,
  readSidecarTranscript,
  resolveTranscript,
  sidecarPaths,
  subtitleText,
} from '../../src/core/engine/transcriptSource';
import { scratchDir } from '../helpers/tempFiles';

const SRT = `\uFEFF1
00:00:01,000 --> 00:00:02,500
<i>I can't</i> believe

2
00:00:03,000 --> 00:00:04,000 X1:10 X2:20
{\\an8}it happened &amp; again.
Twice &#233;&#x4E2D;.

`;

const VTT = `WEBVTT - a title
Kind: captions

NOTE a comment
spanning lines

STYLE
::cue { color: red }

intro
00:00.000 --> 00:01.000 align:start
<v Roger>Hello <c.loud>there</c>,<00:00.500> friend

00:01.000 --> 00:02.000
ça va ? 😀
`;

describe('subtitle text', () => {
  it('SubRip: cue numbers, timings and tags dropped, entities decoded, lines joined', () => {
    assert.equal(subtitleText(SRT, false), "I can't believe it happened & again. Twice é中.");
  });

  it('WebVTT: header, NOTE and STYLE blocks, cue ids and voice/class/time tags dropped', () => {
    assert.equal(subtitleText(VTT, true), 'Hello there, friend ça va ? 😀');
  });

  it('CRLF line ends and blank input', () => {
    assert.equal(subtitleText(SRT.replaceAll('\n', '\r\n'), false).startsWith("I can't"), true);
    assert.equal(subtitleText('', false), '');
    assert.equal(subtitleText('WEBVTT\n\n', true), '');
  });

  it('plain text: BOM dropped, lines joined by one space, ends trimmed', () => {
    assert.equal(
      plainText('\uFEFF  first line \r\n\n second\tline  \n'),
      'first line second\tline',
    );
  });
});

describe('transcript sources', () => {
  it('sidecar paths: .txt, .srt, .vtt; the extension replaced, then appended', () => {
    const names = sidecarPaths(join('/clips', 'a.b.mp4')).map((p) => p.path);
    assert.deepEqual(
      names,
      ['a.b.txt', 'a.b.mp4.txt', 'a.b.srt', 'a.b.mp4.srt', 'a.b.vtt', 'a.b.mp4.vtt'].map((n) =>
        join('/clips', n),
      ),
    );
  });

  it('precedence: given text, then .txt, then .srt, then .vtt, else none', async () => {
    const dir = scratchDir('transcripts');
    const clip = join(dir, 'clip.mp4');
    writeFileSync(clip, '');
    assert.deepEqual(await resolveTranscript({ clipPath: clip, given: undefined, sidecar: true }), {
      text: undefined,
      source: 'none',
    });
    writeFileSync(join(dir, 'clip.vtt'), 'WEBVTT\n\n00:00.000 --> 00:01.000\nfrom vtt\n');
    assert.deepEqual(await readSidecarTranscript(clip), {
      text: 'from vtt',
      source: 'sidecar-vtt',
    });
    writeFileSync(join(dir, 'clip.mp4.srt'), '1\n00:00:00,000 --> 00:00:01,000\nfrom srt\n');
    assert.deepEqual(await readSidecarTranscript(clip), {
      text: 'from srt',
      source: 'sidecar-srt',
    });
    writeFileSync(join(dir, 'clip.txt'), 'from txt\n');
    assert.deepEqual(await readSidecarTranscript(clip), {
      text: 'from txt',
      source: 'sidecar-txt',
    });
    const given = { text: 'typed', source: 'typed' } as const;
    assert.deepEqual(await resolveTranscript({ clipPath: clip, given, sidecar: true }), given);
    assert.deepEqual(
      await resolveTranscript({ clipPath: clip, given: undefined, sidecar: false }),
      {
        text: undefined,
        source: 'none',
      },
    );
  });
});

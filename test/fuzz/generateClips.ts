// The fuzz tier's clips: mutations of the shipped samples (models/samples/*.mp4) and of a few
// clips rendered here with the system ffmpeg (a .webm, an .mkv, an .avi), written under a scratch
// folder (.tmp/ when the tier runs; nothing is committed). A fixed seed makes every run write the
// same bytes. Seven classes, at least 30 clips each: byte flips, truncations, container
// box/header edits (MP4 boxes, EBML elements, AVI chunks), absurd sizes and durations,
// zero-length streams, concatenations, planted playlists.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seeded } from '../helpers/seededRandom';

/** The mutation classes, in the order the tally prints them. */
export const MUTATION_CLASSES = [
  'byte-flip',
  'truncation',
  'header-edit',
  'absurd-value',
  'zero-length',
  'concatenation',
  'playlist',
] as const;
export type MutationClass = (typeof MUTATION_CLASSES)[number];

/** One generated clip. */
export interface FuzzClip {
  mutationClass: MutationClass;
  /** What was done, for failure messages ("stsz size=0 in sample-consistent-happy.mp4"). */
  recipe: string;
  path: string;
}

/** Clips per class (the issue asks for at least 30). */
export const CLIPS_PER_CLASS = 32;

interface Source {
  name: string;
  ext: string;
  bytes: Buffer;
  kind: 'mp4' | 'ebml' | 'avi';
}

function render(dir: string, name: string, args: string[]): string {
  const out = join(dir, name);
  // Bit-exact: no encoder version, random segment UID or creation time, so reruns write the same bytes.
  const exact = ['-fflags', '+bitexact', '-flags', '+bitexact', '-map_metadata', '-1'];
  execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args, ...exact, out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return out;
}

const LAVFI_VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=1'];
const LAVFI_AUDIO = ['-f', 'lavfi', '-i', 'sine=f=440:d=1:sample_rate=16000'];

/** The three rendered sources: VP8/Vorbis .webm, H.264/MP3 .mkv, MJPEG/PCM .avi (1 s, 64×48). */
function renderSources(dir: string): Source[] {
  const made: [string, Source['kind'], string[]][] = [
    ['rendered.webm', 'ebml', ['-c:v', 'libvpx', '-deadline', 'realtime', '-c:a', 'libvorbis']],
    ['rendered.mkv', 'ebml', ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'libmp3lame']],
    ['rendered.avi', 'avi', ['-c:v', 'mjpeg', '-q:v', '5', '-c:a', 'pcm_s16le']],
  ];
  return made.map(([name, kind, codec]) => {
    const path = render(dir, name, [...LAVFI_VIDEO, ...LAVFI_AUDIO, ...codec, '-shortest']);
    return { name, ext: name.slice(name.lastIndexOf('.')), bytes: readFileSync(path), kind };
  });
}

/** An MP4 box: where it starts, its size and header length, its type. */
interface Box {
  type: string;
  offset: number;
  size: number;
  header: number;
}

const MP4_CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'udta']);

/** Every box of an MP4, depth first (containers' children included). */
export function mp4Boxes(bytes: Buffer, start = 0, end = bytes.length): Box[] {
  const boxes: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    let size = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    let header = 8;
    if (size === 1 && offset + 16 <= end) {
      size = Number(bytes.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) size = end - offset;
    if (size < header || offset + size > end) break;
    boxes.push({ type, offset, size, header });
    if (MP4_CONTAINERS.has(type)) boxes.push(...mp4Boxes(bytes, offset + header, offset + size));
    offset += size;
  }
  return boxes;
}

/** The first box of `type`, or throws (the shipped samples have all the boxes used here). */
function box(bytes: Buffer, type: string, nth = 0): Box {
  const found = mp4Boxes(bytes).filter((b) => b.type === type)[nth];
  if (found === undefined) throw new Error(`no ${type} box #${nth}`);
  return found;
}

/** Offset of an EBML element id (first occurrence), or throws. */
function ebmlElement(bytes: Buffer, id: number[]): number {
  const at = bytes.indexOf(Buffer.from(id));
  if (at < 0) throw new Error(`no EBML element ${Buffer.from(id).toString('hex')}`);
  return at;
}

/** Offset of an AVI chunk or list type (first occurrence), or throws. */
function aviChunk(bytes: Buffer, fourcc: string): number {
  const at = bytes.indexOf(Buffer.from(fourcc, 'latin1'));
  if (at < 0) throw new Error(`no AVI chunk ${fourcc}`);
  return at;
}

const EBML_IDS: Record<string, number[]> = {
  EBML: [0x1a, 0x45, 0xdf, 0xa3],
  DocType: [0x42, 0x82],
  Segment: [0x18, 0x53, 0x80, 0x67],
  Info: [0x15, 0x49, 0xa9, 0x66],
  Tracks: [0x16, 0x54, 0xae, 0x6b],
  Cluster: [0x1f, 0x43, 0xb6, 0x75],
  TimecodeScale: [0x2a, 0xd7, 0xb1],
  Duration: [0x44, 0x89],
  PixelWidth: [0xb0],
  SimpleBlock: [0xa3],
};

/** Generates every class's clips into `dir` (created) and returns them. */
export function generateFuzzClips(dir: string, samplesDir: string, seed = 13): FuzzClip[] {
  mkdirSync(dir, { recursive: true });
  const random = seeded(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

  const samples: Source[] = [
    'sample-consistent-happy',
    'sample-video-aligned-sad',
    'sample-audio-aligned-surprise',
  ].map((name) => ({
    name: `${name}.mp4`,
    ext: '.mp4',
    bytes: readFileSync(join(samplesDir, `${name}.mp4`)),
    kind: 'mp4' as const,
  }));
  const rendered = renderSources(dir);
  const sources = [...samples, ...rendered];
  const mp4s = samples;
  const ebmls = rendered.filter((s) => s.kind === 'ebml');
  const avi = rendered.find((s) => s.kind === 'avi')!;

  const clips: FuzzClip[] = [];
  const counter = new Map<MutationClass, number>();
  const emit = (mutationClass: MutationClass, recipe: string, ext: string, bytes: Buffer): void => {
    const n = (counter.get(mutationClass) ?? 0) + 1;
    counter.set(mutationClass, n);
    const path = join(dir, `${mutationClass}-${String(n).padStart(2, '0')}${ext}`);
    writeFileSync(path, bytes);
    clips.push({ mutationClass, recipe, path });
  };
  const u32 = (bytes: Buffer, at: number, value: number): Buffer => {
    const copy = Buffer.from(bytes);
    if (at + 4 <= copy.length) copy.writeUInt32BE(value >>> 0, at);
    return copy;
  };

  // Byte flips: 1–64 random bytes XORed with a random non-zero byte.
  for (let i = 0; i < CLIPS_PER_CLASS; i++) {
    const source = pick(sources);
    const copy = Buffer.from(source.bytes);
    const flips = 1 + int(64);
    for (let f = 0; f < flips; f++) copy[int(copy.length)]! ^= 1 + int(255);
    emit('byte-flip', `${flips} flips in ${source.name}`, source.ext, copy);
  }

  // Truncations: inside the first 64 bytes, the header region, and anywhere.
  for (let i = 0; i < CLIPS_PER_CLASS; i++) {
    const source = pick(sources);
    const length = source.bytes.length;
    const at = [int(64), int(Math.min(length, 4096)), int(length)][i % 3]!;
    emit(
      'truncation',
      `${source.name} cut at ${at}/${length}`,
      source.ext,
      source.bytes.subarray(0, at),
    );
  }

  // Container box/header edits: sizes and types of MP4 boxes, EBML element sizes and ids,
  // AVI chunk sizes and fourccs.
  const mp4Targets = [
    'moov',
    'mvhd',
    'tkhd',
    'mdhd',
    'hdlr',
    'stsd',
    'stts',
    'stsc',
    'stsz',
    'stco',
    'mdat',
    'ftyp',
  ];
  const sizeEdits: [string, (b: Box) => number][] = [
    ['size=0', () => 0],
    ['size=7', () => 7],
    ['size=max', () => 0xffffffff],
    ['size+1', (b) => b.size + 1],
    ['size-9', (b) => Math.max(0, b.size - 9)],
  ];
  for (let i = 0; i < 20; i++) {
    const source = pick(mp4s);
    const target = mp4Targets[i % mp4Targets.length]!;
    const b = box(source.bytes, target);
    if (i % 4 === 3) {
      const copy = Buffer.from(source.bytes);
      copy.write(pick(['free', 'xxxx', 'moov', '\0\0\0\0']), b.offset + 4, 'latin1');
      emit('header-edit', `${target} type renamed in ${source.name}`, '.mp4', copy);
    } else {
      const [label, value] = pick(sizeEdits);
      emit(
        'header-edit',
        `${target} ${label} in ${source.name}`,
        '.mp4',
        u32(source.bytes, b.offset, value(b)),
      );
    }
  }
  const ebmlTargets = ['EBML', 'DocType', 'Segment', 'Info', 'Tracks', 'Cluster'];
  for (let i = 0; i < 7; i++) {
    const source = ebmls[i % ebmls.length]!;
    const name = ebmlTargets[i % ebmlTargets.length]!;
    const id = EBML_IDS[name]!;
    const at = ebmlElement(source.bytes, id);
    const copy = Buffer.from(source.bytes);
    const edit = i % 3;
    if (edit === 0)
      copy[at + id.length] = 0xff; // size vint: 1-byte "unknown"
    else if (edit === 1)
      copy[at + id.length] = 0x01; // size vint: an 8-byte length, junk after
    else copy[at] = 0x00; // the id's first byte: not a valid EBML id
    emit('header-edit', `EBML ${name} edit ${edit} in ${source.name}`, source.ext, copy);
  }
  for (const [fourcc, delta] of [
    ['RIFF', 4],
    ['hdrl', -4],
    ['avih', 4],
    ['strh', 4],
    ['strf', 4],
    ['movi', -4],
  ] as const) {
    const at = aviChunk(avi.bytes, fourcc) + delta;
    emit(
      'header-edit',
      `AVI ${fourcc} size=max in ${avi.name}`,
      '.avi',
      u32Le(avi.bytes, at, 0xffffffff),
    );
  }

  // Absurd sizes and durations: timescales, durations, frame sizes, sample counts and deltas.
  const absurd = [0, 1, 0x7fffffff, 0xffffffff, 0x80000000];
  const mp4Fields: [string, string, number][] = [
    ['mvhd', 'timescale', 12],
    ['mvhd', 'duration', 16],
    ['mdhd', 'timescale', 12],
    ['mdhd', 'duration', 16],
    ['tkhd', 'width', 76],
    ['tkhd', 'height', 80],
    ['stts', 'sample_delta', 16],
    ['stsz', 'sample_count', 8],
    ['elst', 'segment_duration', 8],
    ['stsd', 'width/height', 40],
  ];
  for (let i = 0; i < 20; i++) {
    const source = pick(mp4s);
    const [type, field, at] = mp4Fields[i % mp4Fields.length]!;
    const value = pick(absurd);
    const b = box(source.bytes, type);
    emit(
      'absurd-value',
      `${type}.${field}=${value} in ${source.name}`,
      '.mp4',
      u32(source.bytes, b.offset + b.header + at, value),
    );
  }
  const doubles = [1e300, -1, Number.NaN, 0, Number.POSITIVE_INFINITY];
  for (let i = 0; i < 6; i++) {
    const source = ebmls[i % ebmls.length]!;
    const copy = Buffer.from(source.bytes);
    if (i < 4) {
      const at = ebmlElement(copy, EBML_IDS.Duration!) + 3; // id, size 0x88, then the float64
      const value = doubles[i]!;
      if (copy[at - 1] === 0x88) copy.writeDoubleBE(value, at);
      else copy.writeFloatBE(value, at);
      emit('absurd-value', `EBML Duration=${value} in ${source.name}`, source.ext, copy);
    } else {
      const at = ebmlElement(copy, EBML_IDS.TimecodeScale!) + 4;
      copy[at] = 0xff;
      emit('absurd-value', `EBML TimecodeScale byte=0xff in ${source.name}`, source.ext, copy);
    }
  }
  // AVI main header (avih: µs per frame, …, total frames, streams, …, width, height) and stream header.
  const avih = aviChunk(avi.bytes, 'avih') + 8;
  const strh = aviChunk(avi.bytes, 'strh') + 8;
  for (const [label, at, value] of [
    ['avih.microSecPerFrame', avih, 0xffffffff],
    ['avih.totalFrames', avih + 16, 0x7fffffff],
    ['avih.width', avih + 32, 0xffffffff],
    ['strh.scale=0', strh + 20, 0],
    ['strh.rate', strh + 24, 0xffffffff],
    ['strh.length', strh + 32, 0x7fffffff],
  ] as const) {
    emit('absurd-value', `AVI ${label} in ${avi.name}`, '.avi', u32Le(avi.bytes, at, value));
  }

  // Zero-length streams: empty files, headers whose sample tables say nothing, 0-frame renders.
  for (const ext of ['.mp4', '.mov', '.mkv', '.webm', '.avi']) {
    emit('zero-length', `empty ${ext}`, ext, Buffer.alloc(0));
  }
  for (const source of mp4s) {
    for (const [type, at] of [
      ['stsz', 8],
      ['stco', 4],
      ['stts', 4],
      ['stsc', 4],
    ] as const) {
      const b = box(source.bytes, type);
      emit(
        'zero-length',
        `${type} count=0 in ${source.name}`,
        '.mp4',
        u32(source.bytes, b.offset + b.header + at, 0),
      );
    }
    const mdat = box(source.bytes, 'mdat');
    const headerOnly = Buffer.concat([
      source.bytes.subarray(0, mdat.offset),
      Buffer.from([0, 0, 0, 8, 0x6d, 0x64, 0x61, 0x74]),
    ]);
    emit('zero-length', `mdat emptied in ${source.name}`, '.mp4', headerOnly);
  }
  const zeroRenders: [string, string[]][] = [
    ['zero.mp4', ['-c:v', 'libx264', '-c:a', 'aac']],
    ['zero.mov', ['-c:v', 'mpeg4', '-c:a', 'pcm_s16le']],
    ['zero.mkv', ['-c:v', 'libx264', '-c:a', 'libmp3lame']],
    ['zero.webm', ['-c:v', 'libvpx', '-c:a', 'libvorbis']],
    ['zero.avi', ['-c:v', 'mjpeg', '-c:a', 'pcm_s16le']],
  ];
  for (const [name, codec] of zeroRenders) {
    const ext = name.slice(name.lastIndexOf('.'));
    // No video frame at all; and the audio trimmed to no samples.
    const noFrames = render(dir, `src-noframes-${name}`, [
      ...LAVFI_VIDEO,
      ...LAVFI_AUDIO,
      ...codec,
      '-frames:v',
      '0',
    ]);
    emit('zero-length', `0 video frames (${name})`, ext, readFileSync(noFrames));
    const noAudio = render(dir, `src-noaudio-${name}`, [
      ...LAVFI_VIDEO,
      ...LAVFI_AUDIO,
      ...codec,
      '-t',
      '0.5',
      '-af',
      'atrim=end_sample=0',
    ]);
    emit('zero-length', `audio trimmed to nothing (${name})`, ext, readFileSync(noAudio));
  }

  // Concatenations: every ordered pair of sources, a source twice and thrice, junk around one.
  for (const first of sources) {
    for (const second of sources) {
      if (first === second) continue;
      emit(
        'concatenation',
        `${first.name} + ${second.name}`,
        first.ext,
        Buffer.concat([first.bytes, second.bytes]),
      );
    }
  }
  const junk = Buffer.from(Array.from({ length: 4096 }, () => int(256)));
  emit(
    'concatenation',
    `${samples[0]!.name} ×3`,
    '.mp4',
    Buffer.concat([samples[0]!.bytes, samples[0]!.bytes, samples[0]!.bytes]),
  );
  emit(
    'concatenation',
    `junk + ${samples[1]!.name}`,
    '.mp4',
    Buffer.concat([junk, samples[1]!.bytes]),
  );

  // Planted playlists, named like clips, pointing at a real clip by absolute path (the leak the
  // issue reproduced), by relative path and by URL.
  const target = join(samplesDir, 'sample-consistent-happy.mp4');
  // An MPEG-TS segment, as HLS expects: a playlist naming it would decode without the guard.
  const segment = render(dir, 'segment.ts', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=64x48:r=10:d=2',
    '-c:v',
    'mpeg2video',
    '-f',
    'mpegts',
  ]);
  const hls = (uri: string, eol = '\n'): string =>
    ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXTINF:2.0,', uri, '#EXT-X-ENDLIST', ''].join(eol);
  const master = (uri: string): string => `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\n${uri}\n`;
  const templates: [string, string][] = [
    ['HLS, absolute path', hls(target)],
    ['HLS, absolute path to a .ts', hls(segment)],
    ['HLS, file: URL', hls(`file:${target}`)],
    ['HLS, relative path', hls('segment.ts')],
    ['HLS, http URL', hls('http://127.0.0.1:9/clip.ts')],
    ['HLS, CRLF', hls(segment, '\r\n')],
    ['HLS with a BOM', `\uFEFF${hls(target)}`],
    ['HLS master playlist', master(target)],
    ['ffconcat, relative path', 'ffconcat version 1.0\nfile rendered.webm\n'],
    ['ffconcat, absolute path', `ffconcat version 1.0\nfile '${target}'\n`],
    [
      'DASH manifest',
      `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet><Representation id="1"><BaseURL>${target}</BaseURL></Representation></AdaptationSet></Period></MPD>\n`,
    ],
    ['SMIL playlist', `<smil><body><video src="${target}"/></body></smil>\n`],
  ];
  const extensions = ['.mp4', '.mkv', '.webm', '.avi', '.mov'];
  for (let i = 0; i < CLIPS_PER_CLASS + 1; i++) {
    const [label, text] = templates[i % templates.length]!;
    const ext = extensions[i % extensions.length]!;
    emit('playlist', `${label} as ${ext}`, ext, Buffer.from(text, 'utf8'));
  }
  return clips;
}

/** A copy with a little-endian uint32 written at `at` (AVI's byte order). */
function u32Le(bytes: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  if (at >= 0 && at + 4 <= copy.length) copy.writeUInt32LE(value >>> 0, at);
  return copy;
}

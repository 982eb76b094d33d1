// Where a clip's transcript comes from for a model with a `transcript` prompt slot (CONTRACT.md
// §3.1): given text (the CLI's --transcript, typed in the panel, a manifest row) first, else a
// sidecar file next to the clip (.txt, else the text of .srt, else .vtt), else none (the slot
// keeps its default). The result records which (`settings.transcriptSource`).
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { TranscriptSource } from '../../protocol/analysisResult';

/** The prompt slot a transcript fills. */
export const TRANSCRIPT_SLOT = 'transcript';

/** A transcript given with the request, and who gave it. */
export interface GivenTranscript {
  text: string;
  source: Extract<TranscriptSource, 'cli' | 'typed' | 'manifest'>;
}

/** A transcript and where it came from. */
export interface FoundTranscript {
  text: string;
  source: TranscriptSource;
}

const SIDECARS = [
  { ext: '.txt', source: 'sidecar-txt' },
  { ext: '.srt', source: 'sidecar-srt' },
  { ext: '.vtt', source: 'sidecar-vtt' },
] as const;

/** Sidecars are small text files; anything larger is not a transcript. */
const MAX_SIDECAR_BYTES = 1024 * 1024;

/**
 * The sidecar paths of a clip in precedence order: for each kind (.txt, .srt, .vtt) the clip's
 * name with its extension replaced (`a.mp4` → `a.txt`), then appended (`a.mp4.txt`).
 */
export function sidecarPaths(clipPath: string): { path: string; source: TranscriptSource }[] {
  const dir = dirname(clipPath);
  const name = basename(clipPath);
  const stem = name.slice(0, name.length - extname(name).length);
  return SIDECARS.flatMap(({ ext, source }) => {
    const names = stem === name ? [name + ext] : [stem + ext, name + ext];
    return names.map((n) => ({ path: join(dir, n), source }));
  });
}

/** The first sidecar that exists, its text cleaned (subtitles: cue text only); else undefined. */
export async function readSidecarTranscript(
  clipPath: string,
): Promise<FoundTranscript | undefined> {
  for (const { path, source } of sidecarPaths(clipPath)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      continue;
    }
    if (bytes.length > MAX_SIDECAR_BYTES) continue;
    const raw = new TextDecoder('utf-8').decode(bytes);
    const text =
      source === 'sidecar-txt' ? plainText(raw) : subtitleText(raw, source === 'sidecar-vtt');
    return { text, source };
  }
  return undefined;
}

/**
 * The transcript of a run: the given one, else a sidecar (when `sidecar`), else none (the slot
 * keeps its default).
 */
export async function resolveTranscript(options: {
  clipPath: string;
  given: GivenTranscript | undefined;
  sidecar: boolean;
}): Promise<FoundTranscript | { text: undefined; source: 'none' }> {
  if (options.given !== undefined) return options.given;
  const found = options.sidecar ? await readSidecarTranscript(options.clipPath) : undefined;
  return found ?? { text: undefined, source: 'none' };
}

/** A .txt transcript: BOM dropped, lines joined by single spaces, ends trimmed. */
export function plainText(raw: string): string {
  return joinLines(raw.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/));
}

const TIMING = /-->/;
const VTT_BLOCKS = /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/;

/**
 * The spoken text of SubRip (.srt) or WebVTT (.vtt) subtitles: cue numbers and identifiers,
 * timing lines, the WEBVTT header and NOTE/STYLE/REGION blocks dropped; tags (`<i>`, `<c.x>`,
 * `<00:01.000>`, `{\an8}`) stripped, entities decoded; cue lines joined by spaces in order.
 */
export function subtitleText(raw: string, vtt: boolean): string {
  const blocks = raw
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .reduce<string[][]>(
      (acc, line) => {
        if (line.trim() === '') acc.push([]);
        else acc[acc.length - 1]!.push(line);
        return acc;
      },
      [[]],
    )
    .filter((b) => b.length > 0);
  const lines: string[] = [];
  for (const block of blocks) {
    const first = block[0]!;
    if (vtt && (/^WEBVTT(?:[ \t]|$)/.test(first) || VTT_BLOCKS.test(first))) continue;
    const timing = block.findIndex((l) => TIMING.test(l));
    // A block without a timing line is not a cue (a stray line or a header's continuation).
    if (timing === -1 || timing > 1) continue;
    for (const line of block.slice(timing + 1)) lines.push(cueText(line));
  }
  return joinLines(lines);
}

/** One cue line without its markup. */
function cueText(line: string): string {
  return decodeEntities(line.replace(/<[^>]*>/g, '').replace(/\{\\[^}]*\}/g, ''));
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = {
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: '\u00a0',
    lrm: '\u200e',
    rlm: '\u200f',
  };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body.startsWith('#x') || body.startsWith('#X')) {
      return safeCodePoint(parseInt(body.slice(2), 16)) ?? whole;
    }
    if (body.startsWith('#')) return safeCodePoint(parseInt(body.slice(1), 10)) ?? whole;
    return named[body.toLowerCase()] ?? whole;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

function joinLines(lines: readonly string[]): string {
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

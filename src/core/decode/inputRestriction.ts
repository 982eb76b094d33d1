// Keeps ffmpeg to the clip file itself, in both backends. ffmpeg's playlist and script demuxers
// (hls, concat, dash, imf, …) open further files named inside the input — by absolute path, too
// — so a "clip" that is an HLS playlist renamed .mp4 could pull another local file into an
// analysis. `-protocol_whitelist file` alone does not stop that (the other file is a file), so
// every command also gets an explicit list of the container demuxers a clip may be read with,
// and files whose first bytes are a playlist or a concat script are refused before any process.
import { DecodeError } from './decodeError';

/**
 * The demuxers a clip may be opened with (ffmpeg's `format_whitelist`; a name matches any of a
 * demuxer's comma-separated names, so `mov` admits "mov,mp4,m4a,3gp,3g2,mj2"). Video containers
 * and raw video streams, plus the audio-only containers so those still fail as NO_VIDEO. None of
 * them opens another file (mov's external data references stay off, ffmpeg's default).
 */
export const ALLOWED_INPUT_FORMATS: readonly string[] = [
  'mov',
  'matroska',
  'avi',
  'flv',
  'mpegts',
  'mpeg',
  'mpegvideo',
  'm4v',
  'h264',
  'hevc',
  'h263',
  'mjpeg',
  'ivf',
  'obu',
  'vc1',
  'ogg',
  'asf',
  'mxf',
  'nut',
  'rm',
  'dv',
  'gif',
  'apng',
  'yuv4mpegpipe',
  'wav',
  'w64',
  'mp3',
  'aac',
  'flac',
  'aiff',
  'caf',
];

/** Input options that confine a command to the local file in one of the allowed formats. */
export const INPUT_RESTRICTION_ARGS: readonly string[] = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  ALLOWED_INPUT_FORMATS.join(','),
];

/**
 * A spec argument list (mosearDecode1.ts, which mirrors decode.py) with the input restriction
 * inserted before every `-i` (ffmpeg; the one-process frame command opens the clip once per
 * frame) or at the front (ffprobe: its format options are global).
 */
export function restrictInput(args: readonly string[]): string[] {
  if (!args.includes('-i')) return [...INPUT_RESTRICTION_ARGS, ...args];
  return args.flatMap((a) => (a === '-i' ? [...INPUT_RESTRICTION_ARGS, a] : [a]));
}

/** How many leading bytes `playlistKind` looks at. */
export const SNIFF_BYTES = 4096;

/**
 * What kind of playlist or script the file's first bytes are, or null for anything else. Mirrors
 * the probes of ffmpeg's hls, concat, dash and imf demuxers (a BOM and leading blanks tolerated).
 */
export function playlistKind(head: Uint8Array): string | null {
  const text = new TextDecoder('utf-8', { fatal: false })
    .decode(head.subarray(0, SNIFF_BYTES))
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (text.startsWith('#EXTM3U')) return 'an HLS (M3U8) playlist';
  if (/^ffconcat\s+version/i.test(text)) return 'an ffconcat script';
  if (text.startsWith('<')) {
    if (/<MPD[\s>]/.test(text)) return 'a DASH manifest';
    if (/<CompositionPlaylist[\s>]/.test(text)) return 'an IMF composition playlist';
    if (/<smil[\s>]/i.test(text)) return 'a SMIL playlist';
  }
  return null;
}

/** The PLAYLIST error for a file whose first bytes are `kind`. */
export function playlistError(kind: string, name: string, path: string): DecodeError {
  return new DecodeError(
    'PLAYLIST',
    `"${name}" is ${kind}, not a video clip: MoSEAR Lens decodes only the clip file itself and ` +
      'never opens the files a playlist or script names. Analyse the video file it points to.',
    path,
  );
}

/** Throws PLAYLIST when `head` (the file's first bytes) is a playlist or a concat script. */
export function refusePlaylist(head: Uint8Array, name: string, path: string): void {
  const kind = playlistKind(head);
  if (kind !== null) throw playlistError(kind, name, path);
}

/** ffmpeg's words when a file's format is not on the list (a playlist the sniff missed, …). */
export function isFormatRefusal(stderr: string): boolean {
  return stderr.includes('Format not on whitelist');
}

/** The UNREADABLE message for a file ffmpeg detected as a format outside the list. */
export function formatRefusedMessage(name: string): string {
  return (
    `Cannot decode "${name}": ffmpeg detected a format that is not a video container MoSEAR ` +
    'Lens reads (playlists, scripts and image sequences are refused; containers such as mp4, ' +
    'mov, mkv, webm, avi, flv, ts, mpeg, ogg, wmv and mxf are read).'
  );
}

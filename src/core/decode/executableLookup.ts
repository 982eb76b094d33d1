// Finds ffmpeg and ffprobe: a configured path or a search of PATH by hand (no `which`, no shell).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { DecodeError } from './decodeError';

/** Where to look for an executable; defaults come from the current process. */
export interface LookupEnvironment {
  /** The PATH string to search. */
  searchPath: string;
  platform: NodeJS.Platform;
  /** Windows only: executable extensions (PATHEXT). */
  pathExt?: string | undefined;
}

/** The running process's PATH, platform and PATHEXT. */
export function processLookupEnvironment(): LookupEnvironment {
  return {
    searchPath: process.env.PATH ?? process.env.Path ?? '',
    platform: process.platform,
    pathExt: process.env.PATHEXT,
  };
}

/** True for a regular file that this process may execute (on Windows: one that exists). */
function isExecutableFile(path: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Candidate file names for a command: on Windows each PATHEXT extension unless one is given. */
function candidateNames(name: string, env: LookupEnvironment): string[] {
  if (env.platform !== 'win32') return [name];
  const extensions = (env.pathExt ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '');
  const hasExtension = extensions.some((e) => name.toLowerCase().endsWith(e.toLowerCase()));
  return hasExtension ? [name] : [...extensions.map((e) => name + e.toLowerCase()), name];
}

/**
 * Finds a command on PATH by hand (no `which`, no shell): each PATH entry, in order, is checked
 * for an executable regular file. Relative PATH entries are ignored (they would depend on the
 * current directory).
 */
export function findOnPath(name: string, env: LookupEnvironment): string | undefined {
  for (const entry of env.searchPath.split(env.platform === 'win32' ? ';' : delimiter)) {
    const dir = entry.replace(/^"(.*)"$/, '$1');
    if (dir === '' || !isAbsolute(dir)) continue;
    for (const candidate of candidateNames(name, env)) {
      const full = join(dir, candidate);
      if (isExecutableFile(full, env.platform)) return full;
    }
  }
  return undefined;
}

const INSTALL_HINT =
  'Install it (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg; ' +
  'Windows: winget install ffmpeg), or set the path to the ffmpeg executable explicitly.';

/** The two executables a system decode needs. */
export interface FfmpegExecutables {
  ffmpeg: string;
  ffprobe: string;
}

/**
 * Resolves ffmpeg and ffprobe: an explicit path must exist and be executable; otherwise PATH.
 * With only an explicit ffmpeg path, ffprobe is looked for next to it first. Missing → a
 * FFMPEG_NOT_FOUND error that says how to install ffmpeg.
 */
export function resolveFfmpegExecutables(
  explicit: { ffmpegPath?: string | undefined; ffprobePath?: string | undefined },
  env: LookupEnvironment,
): FfmpegExecutables {
  const resolveOne = (name: 'ffmpeg' | 'ffprobe', configured: string | undefined): string => {
    if (configured !== undefined && configured !== '') {
      if (isExecutableFile(configured, env.platform)) return configured;
      throw new DecodeError(
        'FFMPEG_NOT_FOUND',
        `${name} was not found at the configured path "${configured}" (no executable file there). ${INSTALL_HINT}`,
      );
    }
    if (name === 'ffprobe' && explicit.ffmpegPath !== undefined && explicit.ffmpegPath !== '') {
      const dir = dirname(explicit.ffmpegPath);
      for (const candidate of candidateNames('ffprobe', env)) {
        if (isExecutableFile(join(dir, candidate), env.platform)) return join(dir, candidate);
      }
    }
    const found = findOnPath(name, env);
    if (found !== undefined) return found;
    throw new DecodeError(
      'FFMPEG_NOT_FOUND',
      `${name} is needed to decode video clips but was not found on PATH. ${INSTALL_HINT}`,
    );
  };
  return {
    ffmpeg: resolveOne('ffmpeg', explicit.ffmpegPath),
    ffprobe: resolveOne('ffprobe', explicit.ffprobePath),
  };
}

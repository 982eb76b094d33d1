// `mosear-lens conflicts`: builds a conflict set (the video of one consistent clip with the audio
// of another of a different label) from a labelled manifest or folder, with a manifest ready for
// `mosear-lens eval` (src/core/conflicts).
import { readCheckedModelFile } from '../core/contract/graphCheck';
import { buildConflictSet, type ConflictBuildSummary } from '../core/conflicts/conflictBuild';
import { TRUTH_MODALITIES } from '../core/conflicts/conflictPairs';
import { flag, parseChoice, parseCommandLine, parseIndex, single } from './commandLine';
import { UsageError } from './exitCodes';
import { terminalLines } from './terminalText';

export const CONFLICTS_USAGE = `usage:
  mosear-lens conflicts <manifest | folder> --truth video|audio --out <dir> [options]
      pairs consistent clips of different labels and writes new clips with the video of one and
      the audio of the other (ffmpeg: streams copied where the container takes them, trimmed to
      the shorter), plus <dir>/manifest.jsonl (the new clips in subset video-aligned or
      audio-aligned, then the consistent originals) and <dir>/skipped.csv. The source is a
      manifest (its "consistent" rows; every row when none has a subset), a folder with one, or
      a folder of label subfolders (<folder>/<label>/<clip>.mp4, every clip consistent)
    --truth video|audio     which modality carries the new clip's label (required)
    --out <dir>             the folder to write (refused when it exists and is not empty)
    --pairs <n>             conflict clips per label (default 10)
    --seed <n>              the pairing's seed (default 1): the same seed, the same pairs
    --model <file.onnx>     the checkpoint whose labels the source uses (default: the shipped
                            mosear-tiny)
    --overwrite             write into an existing non-empty folder; an earlier set's clips
                            (those its manifest.jsonl lists in clips/) that the new set does
                            not write again are removed, other files are left alone
    --ffmpeg <path>         the ffmpeg executable (default: on PATH; ffprobe next to it or on PATH)
    --quiet                 no progress lines`;

/** What the conflicts command needs from main. */
export interface ConflictsEnvironment {
  defaultModel: string;
  usage: string;
}

/** Parses the command line, builds the set, prints what was written and left out. */
export async function conflictsCommand(
  argv: string[],
  signal: AbortSignal,
  env: ConflictsEnvironment,
): Promise<void> {
  const parsed = parseCommandLine(argv, {
    truth: { type: 'string' },
    out: { type: 'string' },
    pairs: { type: 'string' },
    seed: { type: 'string' },
    model: { type: 'string' },
    overwrite: { type: 'boolean' },
    ffmpeg: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    console.log(env.usage);
    return;
  }
  const [source] = parsed.positionals;
  if (source === undefined || parsed.positionals.length > 1) {
    throw new UsageError('conflicts takes one manifest or folder');
  }
  const truthText = single(parsed, 'truth');
  if (truthText === undefined) {
    throw new UsageError('conflicts needs --truth video|audio (which modality carries the label)');
  }
  const outDir = single(parsed, 'out');
  if (outDir === undefined) throw new UsageError('conflicts needs --out <dir>');
  const pairsText = single(parsed, 'pairs');
  const pairsPerLabel = pairsText === undefined ? 10 : parseIndex(pairsText, 'pairs');
  if (pairsPerLabel < 1) throw new UsageError('--pairs: at least 1');
  const seedText = single(parsed, 'seed');
  const quiet = flag(parsed, 'quiet');
  const { metadata } = await readCheckedModelFile(single(parsed, 'model') ?? env.defaultModel);
  const summary = await buildConflictSet({
    source,
    outDir,
    labels: metadata.labels,
    truth: parseChoice(truthText, 'truth', TRUTH_MODALITIES),
    pairsPerLabel,
    seed: seedText === undefined ? 1 : parseIndex(seedText, 'seed'),
    overwrite: flag(parsed, 'overwrite'),
    ffmpegPath: single(parsed, 'ffmpeg'),
    signal,
    onProgress: quiet
      ? undefined
      : (p) => {
          if (p.done < p.total) console.error(`${p.stage} ${p.done + 1}/${p.total}`);
        },
  });
  console.log(conflictSummaryLines(summary).join('\n'));
}

/** The summary as terminal lines: counts, encodings, notes and every skipped item. */
export function conflictSummaryLines(summary: ConflictBuildSummary): string[] {
  const encodings = new Map<string, number>();
  for (const c of summary.clips) encodings.set(c.encoding, (encodings.get(c.encoding) ?? 0) + 1);
  const lines = [
    `${summary.clips.length} conflict clips (${summary.subset}: the label is the ${summary.truth}'s), ` +
      `${summary.consistent} consistent originals, seed ${summary.seed}`,
    `streams: ${[...encodings].map(([e, n]) => `${n} ${e}`).join(', ') || 'none written'}`,
  ];
  if (summary.notConsistent > 0) {
    lines.push(`${summary.notConsistent} clips of other subsets were not used as donors`);
  }
  for (const note of summary.notes) lines.push(`note: ${note}`);
  if (summary.skipped.length > 0) {
    lines.push(`skipped ${summary.skipped.length} (also in ${summary.skippedCsvPath}):`);
    for (const s of summary.skipped) lines.push(`  ${s.kind} ${s.path}: ${s.reason}`);
  }
  lines.push(`wrote ${summary.manifestPath}`);
  return lines.map((l) => terminalLines(l));
}

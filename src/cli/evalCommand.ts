// `mosear-lens eval` and `mosear-lens merge`: evaluate checkpoints on a labelled manifest (with
// optional τ/α sweeps, parallel lanes, shards) into a run folder that resumes after a cancel or a
// crash, and join the shards of a cluster job array into one run equal to a single-machine run;
// `--choice` evaluates a setting chosen on another run (`mosear-lens choose`, chooseCommand.ts).
import { basename, dirname, resolve } from 'node:path';
import {
  BenchmarkError,
  isTransient,
  parseShard,
  type ClipRecord,
} from '../core/evaluation/benchmarkRecords';
import { mergeRunDirectories, writeRunDirectory } from '../core/evaluation/benchmarkMerge';
import {
  readRunDirectory,
  runBenchmark,
  type BenchmarkProgress,
} from '../core/evaluation/benchmarkRun';
import { summarizeBenchmark } from '../core/evaluation/benchmarkSummary';
import { DecodeCache, systemDecoderIdentity } from '../core/evaluation/decodeCache';
import { readManifest } from '../core/evaluation/manifest';
import { parseSweep, SweepError } from '../core/evaluation/evaluationSettings';
import { SystemFfmpegDecoder } from '../core/decode/systemFfmpegDecoder';
import { writeRunSummary } from '../core/evaluation/runSummaryFiles';
import { flag, parseChoice, parseCommandLine, parseIndex, repeated, single } from './commandLine';
import { RATIO_KIND_NAMES, type RatioKind } from '../protocol/contract';
import { UsageError } from './exitCodes';
import { terminalLines } from './terminalText';
import { evaluationReportFor } from './htmlReportFile';
import { durationText } from '../shared/durationText';
import { formatBenchmarkSummary, planChoiceLines, planNoEffectWarnings } from './benchmarkReport';
import { readChoiceFile } from '../core/evaluation/settingChoice';
import type { BenchmarkSummary } from '../protocol/evaluationSummary';
import {
  RELIANCE_FILES,
  runCounterfactualBenchmark,
  writeRelianceFiles,
} from '../core/evaluation/counterfactualBenchmark';
import { formatReliance } from './relianceReport';
import { formatImbalanceSummary } from './imbalanceCommand';
import {
  IMBALANCE_FILES,
  runImbalanceBenchmark,
  writeImbalanceFiles,
} from '../core/evaluation/imbalanceBenchmark';
import { parseAudioRepeats } from '../protocol/imbalance';

/** Where the eval command finds its helpers. */
export interface EvalEnvironment {
  workerScript: string;
  defaultModels: string[];
  /** Folder for decoded tensors shared by runs (undefined: no cache). */
  decodeCacheDir: string | undefined;
}

export const EVAL_USAGE = `usage:
  mosear-lens eval <manifest | folder> [options]
      evaluates checkpoints on a labelled clip list (JSONL or CSV: path, label, optional subset;
      a folder stands for its manifest.jsonl or manifest.csv) in the settings off, AR (checkpoint
      defaults) and PAI-style, plus any sweep points
    --model <file.onnx>     a checkpoint; repeat to compare (default: both shipped checkpoints)
    --sweep tau[=a:b:step]  AR with one τ on every layer per point (default range: the
                            checkpoint's mosear.tau_sweep for its ratio kind); values v1,v2,… too
    --sweep alpha[=a:b:step]  AR with each α (default 0:1:0.1); two sweeps make a grid
    --ratio-kind raw|density|share  the statistic of the sweep points (default: each
                            checkpoint's own; another kind needs --sweep tau)
    --fixed-heads <run dir>[:share]  adds "AR, fixed heads" after AR: the heads that run
                            folder's AR flagged in at least share (default 0.5) of its clips
                            forced on, all others off (choose on one manifest, test on another)
    --choice <choice.json>  evaluate off and the setting chosen by \`choose\` (once; its
                            checkpoint: --model or the path in the file, same sha256 or refused);
                            warns when this manifest is the one it was chosen on
    --jobs <n>              clips in flight at once, each lane with its own inference workers
    --shard <k/n>           evaluate only clips i with i mod n = k − 1 (a job array's task)
    --counterfactuals       after the evaluation, swap each clip's audio and frames with one clip
                            of each other label (that label's first consistent clip), silence and
                            grey beside, under off and the checkpoint's defaults: per subset how
                            often the answer follows the audio or the video, per layer Spearman ρ
                            of the off run's audio share against the audio-swap drop (bootstrap
                            interval); writes counterfactuals.json, counterfactuals.csv and
                            counterfactual-layers.csv (recomputed on every run; not with --shard)
    --audio-repeat <k,k,…>  after the evaluation, the token-imbalance probe: every clip with its
                            audio token repeated k times (contract 1.2's audio_repeat; 1 always
                            runs), under off: accuracy per subset and the audio-aligned −
                            video-aligned gap per k; writes imbalance.json and imbalance.csv
                            (not with --shard; a checkpoint without the input is refused)
    --out <dir>             run folder: plan.json, records.jsonl (appended as clips finish, so
                            a re-run resumes), summary.json and CSV tables (default eval-out)
    --ffmpeg <path>         the ffmpeg executable (default: on PATH)
    --no-cache              decode every clip (default: reuse decodes under .tmp/decode-cache)
    --quiet                 no progress lines
  mosear-lens choose <run folder> [--checkpoint <name>] [--rule <rule>] [--out <choice.json>]
      applies a stated rule to a finished evaluation and writes the chosen setting with every
      candidate's score (default <run folder>/choice.<checkpoint>.<rule>.json); prints the
      decision table
    --rule ar-defaults      (default) maximise video-aligned accuracy subject to audio-aligned
                            and consistent accuracy each dropping ≤ 0.5 points against off; ties:
                            higher mean, fewer flagged heads, smaller α (needs CA-MER subsets)
    --rule best-mean        maximise the mean accuracy over the subsets; ties: fewer flagged
                            heads, smaller α
    --rule fixed-heads      AR on a fixed head set: heads AR flagged in ≥ half of the clips
                            forced on, all others off (instead of per-clip detection)
  mosear-lens merge <shard dir>… --out <dir>
      joins the run folders of all n shards of one evaluation into one run folder (refuses
      missing, repeated or unfinished shards) and writes its summary`;

function progressLine(p: BenchmarkProgress): string {
  const eta = p.etaMs === null ? '' : `, about ${durationText(p.etaMs)} left`;
  const resumed = p.resumed > 0 ? ` (${p.resumed} from an earlier run)` : '';
  const failed = p.failed > 0 ? `, ${p.failed} unreadable` : '';
  return `  ${p.done}/${p.total} clips${resumed}${failed}, ${durationText(p.elapsedMs)}${eta}`;
}

/** Default share of clips a head needs to join a fixed head set. */
const DEFAULT_FIXED_SHARE = 0.5;

/** `<run dir>[:share]` of --fixed-heads (a trailing `:number` is the share, 0–1). */
export function parseFixedHeads(text: string): { runDir: string; minShare: number } {
  const match = /^(.+):([0-9]*\.?[0-9]+)$/.exec(text);
  if (match === null) {
    if (text.trim() === '') throw new UsageError('--fixed-heads needs a run folder');
    return { runDir: text, minShare: DEFAULT_FIXED_SHARE };
  }
  const minShare = Number(match[2]);
  if (!(minShare >= 0 && minShare <= 1)) {
    throw new UsageError(`--fixed-heads: the share ${match[2]} must lie in [0, 1]`);
  }
  return { runDir: match[1] as string, minShare };
}

/** Writes summary.json, the CSV tables and report.html (the Evaluate panel, offline) of a run folder. */
async function writeSummary(dir: string, summary: BenchmarkSummary): Promise<void> {
  const title = basename(dirname(summary.manifest)) || basename(summary.manifest);
  await writeRunSummary(dir, summary, await evaluationReportFor(summary, title));
}

/** `mosear-lens eval`. */
export async function evalCommand(
  argv: string[],
  signal: AbortSignal,
  env: EvalEnvironment,
): Promise<void> {
  const parsed = parseCommandLine(argv, {
    model: { type: 'string', multiple: true },
    sweep: { type: 'string', multiple: true },
    'ratio-kind': { type: 'string' },
    'fixed-heads': { type: 'string' },
    choice: { type: 'string' },
    jobs: { type: 'string' },
    shard: { type: 'string' },
    out: { type: 'string' },
    ffmpeg: { type: 'string' },
    'no-cache': { type: 'boolean' },
    counterfactuals: { type: 'boolean' },
    'audio-repeat': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    console.log(EVAL_USAGE);
    return;
  }
  const counterfactuals = flag(parsed, 'counterfactuals');
  if (counterfactuals && single(parsed, 'shard') !== undefined) {
    throw new UsageError('--counterfactuals runs on the whole manifest: leave out --shard');
  }
  const repeatText = single(parsed, 'audio-repeat');
  if (repeatText !== undefined && single(parsed, 'shard') !== undefined) {
    throw new UsageError('--audio-repeat runs on the whole manifest: leave out --shard');
  }
  const repeats = repeatText === undefined ? undefined : parseAudioRepeats(repeatText, Infinity);
  if (typeof repeats === 'string') throw new UsageError(`--audio-repeat: ${repeats}`);
  const [manifest, ...extra] = parsed.positionals;
  if (manifest === undefined || extra.length > 0) {
    throw new UsageError('eval takes one manifest or folder');
  }
  const jobsText = single(parsed, 'jobs');
  const jobs = jobsText === undefined ? 1 : parseIndex(jobsText, 'jobs');
  if (jobs < 1 || jobs > 64) throw new UsageError('--jobs must be in 1…64');
  const shardText = single(parsed, 'shard');
  const quiet = flag(parsed, 'quiet');
  const log = (line: string) => {
    if (!quiet) console.error(terminalLines(line));
  };
  let sweeps;
  try {
    sweeps = repeated(parsed, 'sweep').map(parseSweep);
  } catch (error) {
    if (error instanceof SweepError) throw new UsageError(`--sweep: ${error.message}`);
    throw error;
  }
  const kindText = single(parsed, 'ratio-kind');
  const ratioKind =
    kindText === undefined
      ? undefined
      : (RATIO_KIND_NAMES.indexOf(
          parseChoice(kindText, 'ratio-kind', RATIO_KIND_NAMES),
        ) as RatioKind);
  const fixedText = single(parsed, 'fixed-heads');
  const fixedHeads = fixedText === undefined ? undefined : parseFixedHeads(fixedText);
  const choiceFile = single(parsed, 'choice');
  const choice = choiceFile === undefined ? undefined : await readChoiceFile(choiceFile);
  const models = repeated(parsed, 'model');
  if (
    choice !== undefined &&
    (sweeps.length > 0 || ratioKind !== undefined || models.length > 1 || fixedHeads !== undefined)
  ) {
    throw new UsageError(
      '--choice evaluates one chosen setting: no --sweep, --ratio-kind or --fixed-heads, at most one --model',
    );
  }
  const outDir = resolve(single(parsed, 'out') ?? 'eval-out');
  const decoder = new SystemFfmpegDecoder({
    ffmpegPath: single(parsed, 'ffmpeg'),
    maxParallelProcesses: jobs,
  });
  const cache =
    flag(parsed, 'no-cache') || env.decodeCacheDir === undefined
      ? undefined
      : new DecodeCache(env.decodeCacheDir, await systemDecoderIdentity(decoder));

  let lastLine = 0;
  const outcome = await runBenchmark({
    manifest,
    models:
      models.length > 0
        ? models
        : choice === undefined
          ? env.defaultModels
          : [choice.checkpoint.path],
    sweeps,
    ...(choice === undefined ? {} : { choice }),
    ...(ratioKind === undefined ? {} : { ratioKind }),
    ...(fixedHeads === undefined ? {} : { fixedHeads }),
    jobs,
    ...(shardText === undefined ? {} : { shard: parseShard(shardText) }),
    outDir,
    workerScript: env.workerScript,
    decoder,
    ...(cache === undefined ? {} : { decodeCache: cache }),
    signal,
    // Warnings go to stderr even with --quiet: a sweep of no-ops is a wrong experiment.
    onPlan: (p) => {
      for (const line of [...planChoiceLines(p), ...planNoEffectWarnings(p)])
        console.error(terminalLines(line));
    },
    onProgress: (p) => {
      if (p.done === p.total || performance.now() - lastLine > 5000) {
        lastLine = performance.now();
        log(progressLine(p));
      }
    },
    onRecord: (r: ClipRecord) => {
      if (!r.ok) log(`  ${r.path}: ${r.error.message}`);
    },
  });
  const { plan } = outcome;
  if (outcome.cancelled) {
    log(`cancelled: ${outcome.progress.done}/${outcome.progress.total} clips kept in ${outDir}`);
    log('run the same command again to resume');
    throw Object.assign(new BenchmarkError('interrupted'), { code: 'CANCELLED' });
  }
  const summary = summarizeBenchmark(
    plan,
    outcome.entries,
    outcome.records,
    outcome.progress.total,
  );
  await writeSummary(outDir, summary);
  if (!quiet) process.stdout.write(formatBenchmarkSummary(summary));
  log(
    `wrote ${outDir} (plan.json, records.jsonl, summary.json, CSV tables, report.html` +
      `${choice === undefined ? '' : ', choice.json'})`,
  );
  if (counterfactuals) {
    let lastCounterfactualLine = 0;
    const reliance = await runCounterfactualBenchmark({
      manifest,
      models: plan.checkpoints.map((c) => c.path),
      workerScript: env.workerScript,
      decoder,
      ...(cache === undefined ? {} : { decodeCache: cache }),
      jobs,
      signal,
      onProgress: (p) => {
        if (p.done === p.total || performance.now() - lastCounterfactualLine > 5000) {
          lastCounterfactualLine = performance.now();
          log(`  counterfactuals ${p.checkpoint}: ${p.done}/${p.total} clips`);
        }
      },
    });
    await writeRelianceFiles(outDir, reliance);
    if (!quiet) process.stdout.write(formatReliance(reliance));
    log(`wrote ${Object.values(RELIANCE_FILES).join(', ')} in ${outDir}`);
  }
  if (repeats !== undefined) {
    let lastImbalanceLine = 0;
    const imbalance = await runImbalanceBenchmark({
      manifest,
      models: plan.checkpoints.map((c) => c.path),
      repeats,
      workerScript: env.workerScript,
      decoder,
      ...(cache === undefined ? {} : { decodeCache: cache }),
      jobs,
      signal,
      onProgress: (p) => {
        if (p.done === p.total || performance.now() - lastImbalanceLine > 5000) {
          lastImbalanceLine = performance.now();
          log(`  audio repeat: ${p.done}/${p.total} clips`);
        }
      },
    });
    await writeImbalanceFiles(outDir, imbalance);
    if (!quiet) process.stdout.write(formatImbalanceSummary(imbalance));
    log(`wrote ${Object.values(IMBALANCE_FILES).join(', ')} in ${outDir}`);
  }
  const transient = new Set(outcome.records.filter(isTransient).map((r) => r.clip)).size;
  if (transient > 0) {
    log(
      `${transient} clip(s) failed for a reason outside the clip (a worker crash or time-out, ` +
        'retried twice): run the same command again to retry them',
    );
  }
}

/** `mosear-lens merge`. */
export async function mergeCommand(argv: string[]): Promise<void> {
  const parsed = parseCommandLine(argv, {
    out: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    console.log(EVAL_USAGE);
    return;
  }
  const out = single(parsed, 'out');
  if (out === undefined) throw new UsageError('merge needs --out <dir>');
  if (parsed.positionals.length === 0) throw new UsageError('merge needs the shard folders');
  const merged = await mergeRunDirectories(parsed.positionals);
  const dir = resolve(out);
  const existing = await readRunDirectory(dir);
  if (existing.plan !== null)
    throw new UsageError(`${dir} already holds a run; choose an empty folder`);
  await writeRunDirectory(dir, merged);
  const entries = await readManifest(merged.plan.manifest.path, merged.plan.labels);
  const summary = summarizeBenchmark(merged.plan, entries, merged.records, entries.length);
  await writeSummary(dir, summary);
  if (!flag(parsed, 'quiet')) process.stdout.write(formatBenchmarkSummary(summary));
  console.error(`merged ${parsed.positionals.length} shard(s) into ${dir}`);
}

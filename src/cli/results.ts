// `npm run results`: evaluate the committed checkpoints on the committed CA-MER-synth test split
// with onnxruntime-node (the standard settings, then the modality counterfactuals, then the
// token-imbalance probe) and write the three generated sections of models/RESULTS.md (results,
// reliance, imbalance). `--check` regenerates them in memory and fails when the file differs (the
// "results" tier of `npm test`); `--only imbalance` regenerates or checks that section alone.
import { readFile, stat } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ContractMetadata } from '../protocol/contract';
import { isCaMerSubset } from '../core/analysis/metrics';
import { ContractError } from '../core/contract/contractError';
import { DecodeError, SystemFfmpegDecoder } from '../core/decode';
import type { ClipErrorRecord, ClipOkRecord } from '../core/evaluation/benchmarkRecords';
import { runBenchmark } from '../core/evaluation/benchmarkRun';
import { writeFileAtomic } from '../core/io/atomicWrite';
import { checkpointRunsOf } from '../core/evaluation/benchmarkSummary';
import { DecodeCache, systemDecoderIdentity } from '../core/evaluation/decodeCache';
import { ManifestError } from '../core/evaluation/manifest';
import { summarizeCheckpoint, type CheckpointSummary } from '../core/evaluation/splitSummary';
import { OnnxModelError } from '../core/onnx/modelProto';
import {
  MarkerError,
  diffSummary,
  findMarkedSection,
  replaceMarkedSection,
} from '../core/reports/markedSection';
import {
  RESULTS_BEGIN_MARKER,
  RESULTS_END_MARKER,
  resultsMarkdown,
  type ReportCheckpoint,
  type ResultsReport,
} from '../core/reports/resultsMarkdown';
import { CA_MER_SUBSETS, type CaMerSubset } from '../protocol/evaluationSummary';
import { runCounterfactualBenchmark } from '../core/evaluation/counterfactualBenchmark';
import {
  RELIANCE_BEGIN_MARKER,
  RELIANCE_END_MARKER,
  relianceMarkdown,
} from '../core/reports/relianceMarkdown';
import {
  IMBALANCE_BEGIN_MARKER,
  IMBALANCE_END_MARKER,
  imbalanceMarkdown,
} from '../core/reports/imbalanceMarkdown';
import { runImbalanceBenchmark } from '../core/evaluation/imbalanceBenchmark';

/** The repository root: dist/cli/results.js lives two folders below it. */
const packageRoot = resolve(__dirname, '..', '..');
const DEFAULTS = {
  manifest: join(packageRoot, 'models', 'data', 'ca-mer-synth', 'test', 'manifest.jsonl'),
  checkpoints: join(packageRoot, 'models', 'checkpoints'),
  out: join(packageRoot, 'models', 'RESULTS.md'),
  cacheDir: join(packageRoot, '.tmp', 'decode-cache'),
};
/** The checkpoints the results cover, in table order (baseline first). */
const CHECKPOINT_NAMES = ['emotion-llama-tiny', 'mosear-tiny'] as const;
/** One thread per session: onnxruntime's results then do not depend on the machine's cores. */
const INTRA_OP_THREADS = 1;
/**
 * The k of the imbalance section and its checkpoint: the Python duplication table's checkpoint,
 * and four of its seven k (1 … 64), which keep the section's cost in the results tier small.
 */
const IMBALANCE_REPEATS = [1, 4, 16, 32];
const IMBALANCE_CHECKPOINTS = ['emotion-llama-tiny'];

const FILE_HEADER = `# Results on CA-MER-synth

The section between the markers below is generated from the committed checkpoints
(\`models/checkpoints/\`) and the committed test split (\`models/data/ca-mer-synth/test/\`) by
\`npm run results\` (Node, onnxruntime-node), and CI fails when it is stale. Sections outside the
markers are written by hand or by the Python pipeline under \`models/\` and are not checked by CI.

`;

/** A mistake the user can fix, or missing inputs: printed without a stack trace. */
class ResultsError extends Error {}

interface ResultsArgs {
  manifest: string;
  checkpoints: string;
  out: string;
  check: boolean;
  json: string | undefined;
  jobs: number;
  cacheDir: string | undefined;
  quiet: boolean;
  /** Only this section (regenerated or checked alone). */
  only: 'imbalance' | undefined;
}

const USAGE = `usage: npm run results -- [options]   (or: node dist/cli/results.js [options])

Evaluates ${CHECKPOINT_NAMES.map((n) => `${n}.onnx`).join(' and ')} on the test split (intervention
off, AR at the checkpoint's defaults, PAI-style) and the modality counterfactuals (eval
--counterfactuals), and writes the two generated sections of RESULTS.md.

  --manifest <file>     test split manifest (JSONL)  [models/data/ca-mer-synth/test/manifest.jsonl]
  --checkpoints <dir>   folder with the checkpoints  [models/checkpoints]
  --out <file>          the RESULTS.md to update     [models/RESULTS.md]
  --check               regenerate in memory; exit 1 with a diff summary when --out differs
  --json <file>         also write the raw numbers (per-clip predictions, summaries) as JSON
  --jobs <n>            clips decoded and run at once (default 2)
  --no-cache            decode every clip (default: reuse decodes under .tmp/decode-cache/)
  --cache-dir <dir>     where decoded tensors are cached
  --only imbalance      only the token-imbalance section (the audio token repeated k times)
  --quiet               no progress lines`;

function parseArgs(argv: string[]): ResultsArgs {
  const args: ResultsArgs = {
    manifest: DEFAULTS.manifest,
    checkpoints: DEFAULTS.checkpoints,
    out: DEFAULTS.out,
    check: false,
    json: undefined,
    jobs: 2,
    cacheDir: DEFAULTS.cacheDir,
    quiet: false,
    only: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ResultsError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      case '--manifest':
        args.manifest = resolve(value());
        break;
      case '--checkpoints':
        args.checkpoints = resolve(value());
        break;
      case '--out':
        args.out = resolve(value());
        break;
      case '--json':
        args.json = resolve(value());
        break;
      case '--check':
        args.check = true;
        break;
      case '--jobs': {
        const text = value();
        const n = Number(text);
        if (!Number.isInteger(n) || n < 1 || n > 64) {
          throw new ResultsError(`--jobs must be an integer in 1…64, got "${text}"`);
        }
        args.jobs = n;
        break;
      }
      case '--no-cache':
        args.cacheDir = undefined;
        break;
      case '--cache-dir':
        args.cacheDir = resolve(value());
        break;
      case '--quiet':
        args.quiet = true;
        break;
      case '--only': {
        const text = value();
        if (text !== 'imbalance') throw new ResultsError(`--only: "${text}" is not imbalance`);
        args.only = text;
        break;
      }
      default:
        throw new ResultsError(`unknown argument "${flag}" (try --help)`);
    }
  }
  return args;
}

/** A path as the report shows it: relative to the repository, with forward slashes. */
function displayPath(path: string): string {
  const rel = relative(packageRoot, path);
  return (rel === '' || isAbsolute(rel) ? path : rel).split(sep).join('/');
}

/** The command that regenerates the section with these arguments. */
function regenerateCommand(args: ResultsArgs): string {
  const extra: string[] = [];
  if (args.manifest !== DEFAULTS.manifest) extra.push('--manifest', displayPath(args.manifest));
  if (args.checkpoints !== DEFAULTS.checkpoints) {
    extra.push('--checkpoints', displayPath(args.checkpoints));
  }
  if (args.out !== DEFAULTS.out) extra.push('--out', displayPath(args.out));
  return extra.length === 0 ? 'npm run results' : `npm run results -- ${extra.join(' ')}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Checks the inputs exist before anything slow starts, naming every missing one. */
async function checkInputs(args: ResultsArgs): Promise<string[]> {
  const files = CHECKPOINT_NAMES.map((n) => join(args.checkpoints, `${n}.onnx`));
  const missing: string[] = [];
  for (const file of [...files, args.manifest]) {
    if (!(await exists(file))) missing.push(displayPath(file));
  }
  if (missing.length > 0) {
    throw new ResultsError(
      `cannot produce the results: missing ${missing.join(', ')}.\n` +
        'The checkpoints and the test split are committed by the model pipeline (models/Makefile, ' +
        'models/research/make_splits.py); without them there is nothing to check.',
    );
  }
  return files;
}

/** The built inference worker (dist/core/inferenceWorker.js). */
const WORKER_SCRIPT = join(__dirname, '..', 'core', 'inferenceWorker.js');

/**
 * Evaluates through the same runner as `mosear-lens eval` (one source of truth): the standard
 * settings off, AR at the checkpoint's defaults and PAI-style, one intra-op thread per session.
 */
async function evaluate(
  args: ResultsArgs,
): Promise<{ report: ResultsReport; json: unknown; reliance: string }> {
  const files = await checkInputs(args);
  const started = performance.now();
  const log = (line: string) => {
    if (!args.quiet) console.error(line);
  };
  const decoder = new SystemFfmpegDecoder({ maxParallelProcesses: args.jobs });
  const cache =
    args.cacheDir === undefined
      ? undefined
      : new DecodeCache(args.cacheDir, await systemDecoderIdentity(decoder));
  log(
    `results: ${files.length} checkpoints × 3 settings on ${displayPath(args.manifest)}; ` +
      `${cache === undefined ? 'no cache' : `cache ${displayPath(cache.dir)}`}`,
  );
  let lastReport = performance.now();
  const outcome = await runBenchmark({
    manifest: args.manifest,
    models: files,
    jobs: args.jobs,
    intraOpThreads: INTRA_OP_THREADS,
    workerScript: WORKER_SCRIPT,
    decoder,
    ...(cache === undefined ? {} : { decodeCache: cache }),
    onProgress: (p) => {
      if (performance.now() - lastReport > 10_000 || p.done === p.total) {
        lastReport = performance.now();
        log(`  ${p.done}/${p.total} clips, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    },
  });
  const { plan, entries, records } = outcome;
  const failure = records.find((r): r is ClipErrorRecord => !r.ok);
  if (failure !== undefined) {
    throw new ResultsError(`${failure.path}: ${failure.error.message}`);
  }
  const subsets: CaMerSubset[] = entries.map((e) => {
    if (!isCaMerSubset(e.subset)) {
      throw new ResultsError(
        `${displayPath(args.manifest)}:${e.line}: subset must be one of ` +
          `${CA_MER_SUBSETS.join(', ')}, got ${JSON.stringify(e.subset)}`,
      );
    }
    return e.subset;
  });
  const clipCounts = {} as Record<CaMerSubset, number>;
  for (const s of CA_MER_SUBSETS) {
    clipCounts[s] = subsets.filter((v) => v === s).length;
    if (clipCounts[s] === 0)
      throw new ResultsError(`${displayPath(args.manifest)} has no ${s} clips`);
  }

  const truth = { labels: entries.map((e) => e.label), subsets, classes: plan.labels.length };
  const checkpoints: ReportCheckpoint[] = [];
  const jsonCheckpoints: unknown[] = [];
  for (const [n, c] of plan.checkpoints.entries()) {
    const ok = records.filter((r): r is ClipOkRecord => r.ok && r.checkpoint === c.name);
    const clipRuns = checkpointRunsOf(
      ok,
      c.settings.map((s) => s.id),
    );
    const runs = clipRuns.settings;
    const summary: CheckpointSummary = summarizeCheckpoint(truth, clipRuns);
    const meta = outcome.metadata[n] as ContractMetadata;
    const settings = c.settings.map(({ id, title, controls, sweep }) => ({
      id,
      title,
      controls,
      sweep,
    }));
    checkpoints.push({
      name: c.name,
      file: displayPath(c.path),
      layers: meta.architecture.layers,
      heads: meta.architecture.heads,
      recommendedMode: meta.arDefaults.mode,
      settings,
      summary,
    });
    jsonCheckpoints.push({
      name: c.name,
      file: displayPath(c.path),
      settings,
      summary,
      clips: entries.map((e, i) => ({
        path: e.relativePath,
        predictions: Object.fromEntries(c.settings.map((s, k) => [s.id, runs[k]?.predictions[i]])),
        flaggedHeads: Object.fromEntries(
          c.settings.map((s, k) => [s.id, runs[k]?.flaggedHeads[i]]),
        ),
      })),
    });
  }
  // Modality counterfactuals on the same clips (the reliance section): `--jobs` lanes, one thread
  // per session.
  log(
    'results: modality counterfactuals (audio and frames swapped with one clip of each other label)',
  );
  let lastCounterfactual = performance.now();
  const relianceSummary = await runCounterfactualBenchmark({
    manifest: args.manifest,
    models: files,
    workerScript: WORKER_SCRIPT,
    decoder,
    ...(cache === undefined ? {} : { decodeCache: cache }),
    cores: INTRA_OP_THREADS,
    jobs: args.jobs,
    onProgress: (p) => {
      if (performance.now() - lastCounterfactual > 10_000 || p.done === p.total) {
        lastCounterfactual = performance.now();
        log(
          `  ${p.checkpoint}: ${p.done}/${p.total} clips, ${((performance.now() - started) / 1000).toFixed(0)} s`,
        );
      }
    },
  });
  const unrun = relianceSummary.checkpoints.flatMap((c) => c.clips).find((c) => c.problem !== null);
  if (unrun !== undefined) throw new ResultsError(`${unrun.path}: ${unrun.problem ?? ''}`);
  const silent = outcome.clipsWithoutAudio;
  const report: ResultsReport = {
    command: regenerateCommand(args),
    manifest: displayPath(args.manifest),
    clipCounts,
    decodeSpec: plan.decodeSpec,
    decoder: 'system ffmpeg',
    onnxruntimeNodeVersion: outcome.onnxruntimeVersion,
    executionProvider: 'CPU',
    intraOpThreads: INTRA_OP_THREADS,
    clipsWithoutAudio: silent,
    checkpoints,
  };
  const json = {
    schema: 'mosear-lens-results/1',
    command: report.command,
    manifest: report.manifest,
    clipCounts,
    clipsWithoutAudio: silent,
    decodeSpec: report.decodeSpec,
    runtime: {
      onnxruntimeNode: report.onnxruntimeNodeVersion,
      executionProvider: report.executionProvider,
      intraOpThreads: INTRA_OP_THREADS,
    },
    labels: plan.labels,
    clips: entries.map((e, i) => ({ path: e.relativePath, label: e.label, subset: subsets[i] })),
    checkpoints: jsonCheckpoints,
    reliance: relianceSummary,
  };
  const reliance = relianceMarkdown(
    relianceSummary,
    displayPath(args.manifest),
    regenerateCommand(args),
  );
  return { report, json, reliance };
}

/**
 * The token-imbalance section: every test clip with the audio token repeated k times (contract
 * 1.2's `audio_repeat`), off, `--jobs` lanes with one thread per session.
 */
async function evaluateImbalance(args: ResultsArgs): Promise<{ command: string; text: string }> {
  const files = (await checkInputs(args)).filter((f) =>
    IMBALANCE_CHECKPOINTS.some((n) => f.endsWith(`${n}.onnx`)),
  );
  const started = performance.now();
  const decoder = new SystemFfmpegDecoder({ maxParallelProcesses: args.jobs });
  const cache =
    args.cacheDir === undefined
      ? undefined
      : new DecodeCache(args.cacheDir, await systemDecoderIdentity(decoder));
  if (!args.quiet) {
    console.error(`results: token imbalance, k ${IMBALANCE_REPEATS.join(', ')}`);
  }
  const summary = await runImbalanceBenchmark({
    manifest: args.manifest,
    models: files,
    repeats: IMBALANCE_REPEATS,
    workerScript: WORKER_SCRIPT,
    decoder,
    ...(cache === undefined ? {} : { decodeCache: cache }),
    cores: INTRA_OP_THREADS,
    jobs: args.jobs,
  });
  const unrun = summary.checkpoints.flatMap((c) => c.clips).find((c) => c.problem !== null);
  if (unrun !== undefined) throw new ResultsError(`${unrun.path}: ${unrun.problem ?? ''}`);
  if (!args.quiet) {
    console.error(
      `results: token imbalance in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const command = regenerateCommand(args);
  return { command, text: imbalanceMarkdown(summary, displayPath(args.manifest), command) };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const sections: { begin: string; end: string; generated: string }[] = [];
  let command = regenerateCommand(args);
  if (args.only === undefined) {
    const { report, json, reliance } = await evaluate(args);
    command = report.command;
    if (args.json !== undefined) {
      mkdirSync(dirname(args.json), { recursive: true });
      await writeFileAtomic(args.json, `${JSON.stringify(json, null, 1)}\n`);
    }
    sections.push(
      { begin: RESULTS_BEGIN_MARKER, end: RESULTS_END_MARKER, generated: resultsMarkdown(report) },
      { begin: RELIANCE_BEGIN_MARKER, end: RELIANCE_END_MARKER, generated: reliance },
    );
  }
  const imbalance = await evaluateImbalance(args);
  sections.push({
    begin: IMBALANCE_BEGIN_MARKER,
    end: IMBALANCE_END_MARKER,
    generated: imbalance.text,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const current = await readIfExists(args.out);
  const outName = displayPath(args.out);

  if (args.check) {
    for (const { begin, end, generated: fresh } of sections) {
      const section = current === undefined ? undefined : findMarkedSection(current, begin, end);
      if (current === undefined || section === undefined) {
        console.error(
          `results: ${outName} ${current === undefined ? 'does not exist' : `has no "${begin}" section`}; ` +
            `run \`${command}\` and commit it.`,
        );
        process.exitCode = 1;
        return;
      }
      if (section.inner !== fresh) {
        console.error(`results: ${outName} is stale (regenerated in ${seconds} s).`);
        const lineOffset = section.before.split('\n').length - 1;
        console.error(diffSummary(section.inner, fresh, { lineOffset }));
        console.error(`Run \`${command}\` and commit ${outName}.`);
        process.exitCode = 1;
        return;
      }
    }
    console.log(`results: ${outName} is up to date (regenerated in ${seconds} s)`);
    return;
  }

  const next = sections.reduce(
    (text, { begin, end, generated: fresh }) => replaceMarkedSection(text, begin, end, fresh),
    current ?? FILE_HEADER,
  );
  if (next === current) {
    console.log(`results: ${outName} unchanged (${seconds} s)`);
    return;
  }
  await writeFileAtomic(args.out, next);
  console.log(
    `results: ${current === undefined ? 'created' : 'updated'} ${outName} (${seconds} s)`,
  );
}

main().catch((error: unknown) => {
  const known =
    error instanceof ResultsError ||
    error instanceof ManifestError ||
    error instanceof MarkerError ||
    error instanceof ContractError ||
    error instanceof OnnxModelError ||
    error instanceof DecodeError;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`results: ${message}`);
  if (!known && error instanceof Error && error.stack) console.error(error.stack);
  process.exitCode = 1;
});

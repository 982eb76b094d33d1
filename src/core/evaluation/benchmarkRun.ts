// Evaluates checkpoints on a labelled manifest: every clip decoded once per decode spec, every
// setting of every checkpoint run on it in that checkpoint's inference worker, one record per
// (clip, checkpoint) appended to `<out>/records.jsonl` as it is produced. A re-run with the same
// plan resumes (finished clips skipped); unreadable clips become error records and never stop
// the run. A worker crash or time-out is retried at once (at most twice); a clip that still fails
// gets a transient record, which a re-run retries. `jobs` lanes work on different clips at once,
// each with its own worker per checkpoint. Each row feeds its own prompt and features: a model
// with a `transcript` slot gets the row's transcript column (none: the slot's default), a model
// with FaceMAE / VideoMAE inputs the row's `.npy` files (none: zeros); no sidecar is read, and
// the record says what was fed (a bad feature file is that row's error record).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ContractMetadata, RatioKind } from '../../protocol/contract';
import type { EvaluationProgress } from '../../protocol/evaluationMessages';
import { softmax, argmax } from '../analysis/probabilities';
import { tokenAttentionSummary } from '../analysis/tokenAttention';
import { uapPerLayer } from '../analysis/uap';
import { ContractError } from '../contract/contractError';
import { readCheckedModelFile } from '../contract/graphCheck';
import { readExternalDataLocations } from '../onnx/graphProto';
import { resolveRunLayout } from '../contract/runLayout';
import type { PieceEncoder } from '../contract/sentencePieceTemplate';
import { featureDimsOf } from '../contract/signature';
import type { FeatureInputName } from '../contract/names';
import { loadPromptTokenizer } from '../tokenizer/promptTokenizer';
import { manifestFeatures, resolveFeatures } from '../engine/featureSource';
import { TRANSCRIPT_SLOT } from '../engine/transcriptSource';
import type { RunLayout } from '../../protocol/contract';
import {
  clipDecodeSpecFromContract,
  silentAudio,
  type ClipDecodeSpec,
  type ClipDecoder,
} from '../decode/clipDecoder';
import type { RunReply, WorkerEvent } from '../inference/workerClient';
import { WorkerPool, type WorkerPoolOptions } from '../inference/workerPool';
import type { SessionSettings } from '../../protocol/workerMessages';
import { writeFileAtomic } from '../io/atomicWrite';
import {
  BENCHMARK_SCHEMA,
  BenchmarkError,
  FinishedClips,
  MAX_RETRIES,
  RETRIED_ERROR_CODES,
  TRANSIENT_ERROR_CODES,
  isTransient,
  normalisePlan,
  parsePlan,
  parseRecords,
  planKey,
  settleRecords,
  shardClips,
  sortRecords,
  type BenchmarkPlan,
  type ClipErrorRecord,
  type ClipOkRecord,
  type ClipRecord,
  type Shard,
} from './benchmarkRecords';
import { decodedClipFacts, type CachedTensors, type DecodeCache } from './decodeCache';
import { choiceSettings, evaluationSettings, type SweepRequest } from './evaluationSettings';
import type { SettingChoice } from '../../protocol/settingChoice';
import { readManifest, locateManifest, type ManifestEntry } from './manifest';
import { isOn } from '../../shared/onOff';
import { layerRatioStatistics } from '../../shared/flagRule';
import { countTokens } from '../contract/metadata';
import { encodeHeadMask, fixedHeadSetOf, significant, type FixedHeadSet } from './headMaps';

/** File names inside a run directory. */
export const PLAN_FILE = 'plan.json';
export const RECORDS_FILE = 'records.jsonl';
/** The choice file an evaluation of a chosen setting keeps (`eval --choice`). */
export const CHOICE_FILE = 'choice.json';

/** How far a run has got: the Evaluate panel's progress message carries it as is. */
export type BenchmarkProgress = EvaluationProgress;

/** What to evaluate and where to keep it. */
export interface BenchmarkOptions {
  /** A JSONL or CSV manifest, or a folder holding one. */
  manifest: string;
  /** Checkpoints (their label sets must match). */
  models: string[];
  sweeps?: SweepRequest[];
  /** The statistic of the sweep points (default: each checkpoint's own). */
  ratioKind?: RatioKind;
  /**
   * Adds "AR, fixed heads" after AR: per checkpoint, the heads that run folder's AR setting
   * flagged in at least `minShare` of its clips (fixedHeadSetOf).
   */
  fixedHeads?: { runDir: string; minShare: number };
  /**
   * A setting chosen on another evaluation (`mosear-lens choose`): the one checkpoint runs `off`
   * and that setting only (no sweeps), and its file must have the choice's sha256.
   */
  choice?: SettingChoice;
  /** Clips in flight at once (default 1). */
  jobs?: number;
  shard?: Shard;
  /** Run directory (plan.json, records.jsonl); undefined keeps everything in memory. */
  outDir?: string;
  /** The built inference worker script. */
  workerScript: string;
  decoder: ClipDecoder;
  /** Decoded tensors on disk, shared between runs. */
  decodeCache?: DecodeCache;
  /** Decoded tensors in memory (e.g. across sweep steps in one process). */
  tensorMemory?: Map<string, CachedTensors | Error>;
  /**
   * What earlier runs of a (clip, checkpoint, prompt, controls) gave, in memory: a later
   * evaluation in this process (a sweep step) runs only the settings it has not seen, so a step
   * costs one `session.run` per clip instead of re-running off, AR and PAI-style.
   */
  runMemory?: RunMemory;
  /**
   * Inference workers kept across evaluations in one process (a sweep's steps): the run takes
   * its lanes from here and leaves them running, so a later step finds their sessions open.
   * The caller disposes them; their options (not `workerScript`, `onWorkerEvent`) start the
   * workers. Undefined: the run starts its own and shuts them down at the end.
   */
  lanes?: BenchmarkLanes;
  /** Intra-op threads per session (default 1: numbers then do not depend on the machine). */
  intraOpThreads?: number;
  signal?: AbortSignal;
  /** The plan, once built and before any clip runs (e.g. to warn of settings without effect). */
  onPlan?: (plan: BenchmarkPlan) => void;
  onProgress?: (progress: BenchmarkProgress) => void;
  onRecord?: (record: ClipRecord) => void;
  /** What happens to the inference workers' processes (starts, exits, output), for logs. */
  onWorkerEvent?: (event: WorkerEvent) => void;
}

/** A finished (or cancelled) run. */
export interface BenchmarkOutcome {
  plan: BenchmarkPlan;
  /**
   * Every record of the shard that counts (resumed ones included; transient failures a later
   * record replaced left out: settleRecords), in (clip, checkpoint) order.
   */
  records: ClipRecord[];
  entries: ManifestEntry[];
  cancelled: boolean;
  progress: BenchmarkProgress;
  /** Each checkpoint's contract metadata, in plan order. */
  metadata: ContractMetadata[];
  /** Clips fed silence because they have no audio stream. */
  clipsWithoutAudio: number;
  /** As the inference workers reported it ("unknown" when no worker ran). */
  onnxruntimeVersion: string;
}

/** Feeds a file to `hash` in chunks (a multi-gigabyte checkpoint is never in memory at once). */
async function hashFileInto(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** The sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(hash, path);
  return hash.digest('hex');
}

/** Checkpoint hashes of this process, by the files' paths, sizes and times (see below). */
const checkpointHashes = new Map<string, string>();

/**
 * A checkpoint's sha256, hex: its .onnx file, then each file its initializers' data lives in
 * (external data, by location, relative to the model's folder), so new weights behind an
 * unchanged graph file are another checkpoint (a run folder does not resume them with old
 * records, and a chosen setting does not carry over). For a model that holds its weights this
 * is the file's sha256. Reading a 7B checkpoint takes a while, and planning an evaluation asks
 * more than once (the Evaluate command, then its run), so the hash is kept while none of the
 * files' size, modification or change times moves.
 */
export async function checkpointSha256(path: string): Promise<string> {
  const locations = [...(await readExternalDataLocations(path))].sort();
  const files = [path, ...locations.map((location) => resolve(dirname(path), location))];
  const stats = await Promise.all(files.map((file) => stat(file).catch(() => null)));
  const key = JSON.stringify(
    files.map((file, i) => [file, stats[i]?.size, stats[i]?.mtimeMs, stats[i]?.ctimeMs]),
  );
  const known = stats.every((s) => s !== null) ? checkpointHashes.get(key) : undefined;
  if (known !== undefined) return known;
  const hash = createHash('sha256');
  await hashFileInto(hash, path);
  for (const [i, location] of locations.entries()) {
    const file = files[i + 1]!;
    hash.update(`\0${location}\0`);
    await hashFileInto(hash, file).catch((error: unknown) => {
      const why = error instanceof Error ? error.message : String(error);
      throw new BenchmarkError(
        `the checkpoint ${path} keeps its weights in ${file}, which cannot be read: ${why}`,
      );
    });
  }
  const digest = hash.digest('hex');
  checkpointHashes.set(key, digest);
  return digest;
}

interface LoadedCheckpoint {
  path: string;
  identity: string;
  meta: ContractMetadata;
  spec: ClipDecodeSpec;
  specKey: string;
  /** A `sentencepiece` model's tokenizer (the rows' transcripts are tokenized with it). */
  tokenizer: PieceEncoder | undefined;
  /** The FaceMAE / VideoMAE inputs the graph declares, with their D (CONTRACT.md §1b). */
  featureDims: Partial<Record<FeatureInputName, number>>;
}

/** Builds a run's plan: reads the manifest and every checkpoint's metadata. */
export async function planBenchmark(
  options: Pick<
    BenchmarkOptions,
    | 'manifest'
    | 'models'
    | 'sweeps'
    | 'ratioKind'
    | 'shard'
    | 'intraOpThreads'
    | 'fixedHeads'
    | 'choice'
  >,
): Promise<{ plan: BenchmarkPlan; entries: ManifestEntry[]; checkpoints: LoadedCheckpoint[] }> {
  if (options.models.length === 0) throw new BenchmarkError('no checkpoint to evaluate');
  const { choice } = options;
  if (
    choice !== undefined &&
    (options.models.length > 1 ||
      (options.sweeps ?? []).length > 0 ||
      options.fixedHeads !== undefined)
  ) {
    throw new BenchmarkError(
      'a chosen setting is evaluated alone: one checkpoint, no sweep, no fixed head set',
    );
  }
  const checkpoints: LoadedCheckpoint[] = [];
  const planned: BenchmarkPlan['checkpoints'] = [];
  const source =
    options.fixedHeads === undefined ? null : await fixedHeadSource(options.fixedHeads);
  for (const modelPath of options.models) {
    const path = resolve(modelPath);
    const info = await stat(path).catch(() => {
      throw new BenchmarkError(`the checkpoint ${path} does not exist`);
    });
    const { metadata: meta, graph } = await readCheckedModelFile(path);
    if (planned.some((p) => p.name === meta.checkpoint.name)) {
      throw new BenchmarkError(`two checkpoints are named "${meta.checkpoint.name}"`);
    }
    const sha256 = await checkpointSha256(path);
    if (choice !== undefined) checkChoiceCheckpoint(choice, path, meta.checkpoint.name, sha256);
    const spec = clipDecodeSpecFromContract(meta);
    checkpoints.push({
      path,
      identity: JSON.stringify([path, info.size, info.mtimeMs]),
      meta,
      spec,
      specKey: JSON.stringify(spec),
      tokenizer: await loadPromptTokenizer(path, meta),
      featureDims: featureDimsOf(meta, graph.inputs),
    });
    planned.push({
      path,
      fileName: basename(path),
      name: meta.checkpoint.name,
      sha256,
      settings:
        choice === undefined
          ? evaluationSettings(
              meta,
              options.sweeps ?? [],
              options.ratioKind,
              source?.(meta.checkpoint.name),
            )
          : choiceSettings(meta, choice),
    });
  }
  const first = checkpoints[0] as LoadedCheckpoint;
  const labels = first.meta.labels;
  for (const c of checkpoints) {
    const other = c.meta.labels;
    if (other.length !== labels.length || other.some((l, i) => l !== labels[i])) {
      // The checkpoints, not the command line, disagree: a model problem.
      throw new ContractError(
        `${c.path} has labels [${other.join(', ')}], ${first.path} has ` +
          `[${labels.join(', ')}]: one evaluation needs checkpoints with one label set ` +
          '(models/CONTRACT.md §3, mosear.labels)',
      );
    }
  }
  const manifestPath = await locateManifest(options.manifest);
  const entries = await readManifest(manifestPath, labels);
  const plan: BenchmarkPlan = normalisePlan({
    schema: BENCHMARK_SCHEMA,
    manifest: { path: manifestPath, sha256: await sha256File(manifestPath), clips: entries.length },
    labels: [...labels],
    decodeSpec: first.meta.decode.spec,
    executionProvider: 'cpu',
    intraOpThreads: options.intraOpThreads ?? 1,
    checkpoints: planned,
    shard: options.shard ?? { index: 1, count: 1 },
  });
  return { plan, entries, checkpoints };
}

/** The fixed head set of each checkpoint, read from an evaluated run folder. */
async function fixedHeadSource(
  choice: NonNullable<BenchmarkOptions['fixedHeads']>,
): Promise<(checkpoint: string) => FixedHeadSet> {
  const dir = resolve(choice.runDir);
  const { plan, records } = await readRunDirectory(dir);
  if (plan === null) throw new BenchmarkError(`${dir} holds no evaluation (no ${PLAN_FILE})`);
  return (checkpoint) => {
    try {
      return fixedHeadSetOf(plan, settleRecords(records), checkpoint, choice.minShare);
    } catch (error) {
      if (error instanceof RangeError) {
        throw new BenchmarkError(`cannot choose fixed heads from ${dir}: ${error.message}`);
      }
      throw error;
    }
  };
}

/** Refuses a checkpoint other than the one a choice was made for (by name and sha256). */
function checkChoiceCheckpoint(
  choice: SettingChoice,
  path: string,
  name: string,
  sha256: string,
): void {
  const wanted = choice.checkpoint;
  if (name !== wanted.name || sha256 !== wanted.sha256) {
    throw new BenchmarkError(
      `the setting was chosen for ${wanted.name} (${wanted.fileName}, sha256 ` +
        `${wanted.sha256.slice(0, 12)}…); ${path} is ${name}, sha256 ${sha256.slice(0, 12)}…: ` +
        'evaluate a choice with the very checkpoint it was chosen for',
    );
  }
}

/** Reads a run directory's plan and records (missing files: null plan, no records). */
export async function readRunDirectory(
  dir: string,
): Promise<{ plan: BenchmarkPlan | null; records: ClipRecord[]; validBytes: number }> {
  let planText: string;
  try {
    planText = await readFile(join(dir, PLAN_FILE), 'utf8');
  } catch {
    return { plan: null, records: [], validBytes: 0 };
  }
  const plan = parsePlan(planText, join(dir, PLAN_FILE), dir);
  let text = '';
  try {
    text = await readFile(join(dir, RECORDS_FILE), 'utf8');
  } catch {
    // no records yet
  }
  return { plan, ...parseRecords(text, join(dir, RECORDS_FILE)) };
}

/** An error's code: its `code`, else its class name. */
function errorCode(error: unknown): string {
  return typeof (error as { code?: unknown } | null)?.code === 'string'
    ? (error as { code: string }).code
    : error instanceof Error
      ? error.name
      : 'ERROR';
}

/** The record of a failure; one whose code is not the clip's fault is marked transient. */
function errorRecord(
  entry: ManifestEntry,
  clip: number,
  checkpoint: string | null,
  error: unknown,
): ClipErrorRecord {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return {
    schema: BENCHMARK_SCHEMA,
    clip,
    path: entry.relativePath,
    checkpoint,
    ok: false,
    error: { code, message },
    ...(TRANSIENT_ERROR_CODES.has(code) ? { transient: true } : {}),
  };
}

/** Runs `attempt`, again after a crash or a time-out (MAX_RETRIES more times at most). */
async function withRetries<T>(
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted || retry >= MAX_RETRIES || !RETRIED_ERROR_CODES.has(errorCode(error))) {
        throw error;
      }
    }
  }
}

/** Where a run's records go: memory, and `records.jsonl` when the run has a folder. */
interface RecordLog {
  /** The records so far: those resumed from the folder, then each one appended. */
  records: ClipRecord[];
  append(record: ClipRecord): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a run's folder: a new one gets the plan; one holding the same plan (and shard) resumes
 * with its records; one holding another evaluation is refused. No folder: records in memory only.
 */
async function openRecordLog(outDir: string | undefined, plan: BenchmarkPlan): Promise<RecordLog> {
  if (outDir === undefined) {
    return { records: [], append: async () => {}, close: async () => {} };
  }
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const existing = await readRunDirectory(dir);
  let records: ClipRecord[] = [];
  if (existing.plan !== null) {
    if (
      planKey(existing.plan) !== planKey(plan) ||
      JSON.stringify(existing.plan.shard) !== JSON.stringify(plan.shard)
    ) {
      throw new BenchmarkError(
        `${dir} holds a different evaluation (manifest, checkpoints, settings or shard ` +
          'differ): choose another --out folder or delete it',
      );
    }
    records = existing.records;
    // Drop a line a crash cut short before appending after it.
    await truncate(join(dir, RECORDS_FILE), existing.validBytes).catch(() => undefined);
  } else {
    await writeFileAtomic(join(dir, PLAN_FILE), `${JSON.stringify(plan, null, 1)}\n`);
  }
  const handle = await open(join(dir, RECORDS_FILE), 'a');
  let chain = Promise.resolve();
  return {
    records,
    append: (r) => {
      chain = chain.then(() => handle.appendFile(`${JSON.stringify(r)}\n`));
      return chain;
    },
    close: async () => {
      await chain;
      await handle.close();
    },
  };
}

/** Counts a run's clips for its progress messages. */
class RunProgress {
  private done: number;
  private readonly failedClips: Set<number>;

  constructor(
    private readonly startedMs: number,
    private readonly total: number,
    private readonly resumed: number,
    records: readonly ClipRecord[],
  ) {
    this.done = resumed;
    this.failedClips = new Set(
      settleRecords(records)
        .filter((r) => !r.ok && !isTransient(r))
        .map((r) => r.clip),
    );
  }

  recorded(record: ClipRecord): void {
    if (!record.ok) this.failedClips.add(record.clip);
  }

  clipDone(): void {
    this.done++;
  }

  now(): BenchmarkProgress {
    const elapsedMs = performance.now() - this.startedMs;
    const fresh = this.done - this.resumed;
    return {
      done: this.done,
      total: this.total,
      resumed: this.resumed,
      failed: this.failedClips.size,
      elapsedMs,
      etaMs: fresh === 0 ? null : (elapsedMs / fresh) * (this.total - this.done),
    };
  }
}

/** What evaluating one clip needs to know about the run. */
interface RunContext {
  options: BenchmarkOptions;
  plan: BenchmarkPlan;
  entries: ManifestEntry[];
  checkpoints: LoadedCheckpoint[];
  finished: FinishedClips;
  emit: (record: ClipRecord) => Promise<void>;
}

/** A clip's tensors for one decode spec: from memory, the decode cache, or the decoder. */
async function clipTensors(
  options: BenchmarkOptions,
  entry: ManifestEntry,
  spec: ClipDecodeSpec,
): Promise<CachedTensors> {
  const key = `${entry.path}\n${JSON.stringify(spec)}`;
  const remembered = options.tensorMemory?.get(key);
  if (remembered instanceof Error) throw remembered;
  if (remembered !== undefined) return remembered;
  let tensors = await options.decodeCache?.get(entry.path, spec);
  if (tensors === undefined) {
    const decoded = await options.decoder.decode(entry.path, spec, options.signal);
    tensors = { frames: decoded.frames, audio: decoded.audio, clip: decodedClipFacts(decoded) };
    await options.decodeCache?.put(entry.path, spec, tensors);
  }
  options.tensorMemory?.set(key, tensors);
  return tensors;
}

/** The session every benchmark run of a checkpoint uses (CPU, the plan's thread count). */
function sessionSettings(c: LoadedCheckpoint, plan: BenchmarkPlan): SessionSettings {
  return {
    modelPath: c.path,
    modelIdentity: c.identity,
    providers: ['cpu'],
    intraOpNumThreads: plan.intraOpThreads,
    graphOptimizationLevel: 'all',
  };
}

/** What one setting's run gave a record (the `off` setting also its per-layer summaries). */
export interface RememberedRun {
  prediction: number;
  probabilities: number[];
  flaggedHeads: number;
  flagMask: string;
  off?: Pick<ClipOkRecord, 'uap' | 'tokenAttention'> & { headStatistics: number[] };
}

/** Runs remembered across evaluations in one process, by clip, checkpoint, prompt and controls. */
export type RunMemory = Map<string, RememberedRun>;

/** The record parts of one run's outputs (`isOff`: also the `off` setting's summaries). */
function rememberRun(
  c: LoadedCheckpoint,
  layout: RunLayout,
  statisticKind: RatioKind,
  outputs: RunReply['runs'][number]['outputs'],
  isOff: boolean,
): RememberedRun {
  const { layers: L, heads: Hh } = c.meta.architecture;
  return {
    prediction: argmax(outputs.logits.data),
    probabilities: Array.from(softmax(outputs.logits.data)),
    flaggedHeads: outputs.ar_flags.data.reduce((n, f) => n + (isOn(f) ? 1 : 0), 0),
    flagMask: encodeHeadMask(outputs.ar_flags.data),
    ...(isOff
      ? {
          off: {
            headStatistics: offHeadStatistics(c.meta, outputs.modality_mass.data, statisticKind),
            uap: uapPerLayer(outputs.modality_mass.data, L, Hh),
            tokenAttention: tokenAttentionSummary(outputs.token_attention.data, layout, L, Hh),
          },
        }
      : {}),
  };
}

/** The record of one checkpoint's runs (every setting, `off` first) on one clip. */
function okRecord(
  c: LoadedCheckpoint,
  clip: number,
  entry: ManifestEntry,
  tensors: CachedTensors,
  runs: readonly RememberedRun[],
  fed: Pick<ClipOkRecord, 'prompt' | 'featureSources'>,
): ClipOkRecord {
  const off = runs[0]?.off;
  if (off === undefined) throw new Error('the worker returned no runs');
  return {
    schema: BENCHMARK_SCHEMA,
    clip,
    path: entry.relativePath,
    checkpoint: c.meta.checkpoint.name,
    ok: true,
    silenceUsed: tensors.audio === null,
    predictions: runs.map((r) => r.prediction),
    probabilities: runs.map((r) => r.probabilities),
    flaggedHeads: runs.map((r) => r.flaggedHeads),
    flagMasks: runs.map((r) => r.flagMask),
    headStatistics: off.headStatistics,
    uap: off.uap,
    tokenAttention: off.tokenAttention,
    ...fed,
  };
}

/**
 * What a row feeds a checkpoint besides the clip: its prompt (the transcript column in a
 * `transcript` slot) and its FaceMAE / VideoMAE files (zeros where none), with what the record
 * keeps of them. Throws (EngineError, ContractError) naming the row's bad file or transcript.
 */
async function rowInputs(c: LoadedCheckpoint, entry: ManifestEntry) {
  const hasSlot = c.meta.prompt.slots?.[TRANSCRIPT_SLOT] !== undefined;
  const slots =
    hasSlot && entry.transcript !== null ? { [TRANSCRIPT_SLOT]: entry.transcript } : undefined;
  const run = resolveRunLayout(c.meta, {
    ...(slots === undefined ? {} : { slots }),
    ...(c.tokenizer === undefined ? {} : { tokenizer: c.tokenizer }),
  });
  const features = await resolveFeatures({
    clipPath: entry.path,
    dims: c.featureDims,
    given: manifestFeatures(entry.features ?? {}),
    sidecar: false,
    modelName: c.meta.checkpoint.name,
  });
  const fed: Pick<ClipOkRecord, 'prompt' | 'featureSources'> = {
    ...(hasSlot
      ? {
          prompt: {
            transcriptSource: slots === undefined ? ('none' as const) : ('manifest' as const),
            tokens: run.layout.total,
          },
        }
      : {}),
    ...(features === undefined ? {} : { featureSources: features.sources }),
  };
  const vectors = features?.vectors ?? {};
  return {
    run,
    fed,
    features: Object.keys(vectors).length === 0 ? {} : { features: vectors },
  };
}

/** The `off` run's head statistic per head (flat l·Hh + h), 4 significant digits. */
function offHeadStatistics(
  meta: ContractMetadata,
  modalityMass: ArrayLike<number>,
  kind: RatioKind,
): number[] {
  const { layers: L, heads: Hh } = meta.architecture;
  const counts = {
    visualTokens: countTokens(meta.tokenLayout, 'visual'),
    audioTokens: countTokens(meta.tokenLayout, 'audio'),
  };
  return Array.from({ length: L }, (_, l) =>
    layerRatioStatistics(modalityMass, l, Hh, kind, counts).headStatistics.map((s) =>
      significant(s),
    ),
  ).flat();
}

/** Runs one checkpoint's settings on a decoded clip and emits its record (or error record). */
async function evaluateCheckpoint(
  ctx: RunContext,
  pool: WorkerPool,
  clip: number,
  c: LoadedCheckpoint,
  tensors: CachedTensors,
): Promise<void> {
  const { signal } = ctx.options;
  const entry = ctx.entries[clip] as ManifestEntry;
  const name = c.meta.checkpoint.name;
  const planned = ctx.plan.checkpoints.find((p) => p.name === name);
  if (planned === undefined) throw new Error(`no plan for checkpoint ${name}`);
  let audio = tensors.audio;
  if (audio === null) {
    if (!c.meta.audio.optional) {
      await ctx.emit(
        errorRecord(entry, clip, name, {
          code: 'NO_AUDIO',
          message: `${entry.relativePath} has no audio stream and ${name} needs audio`,
        }),
      );
      return;
    }
    audio = silentAudio(c.spec, tensors.clip.source.durationSeconds);
  }
  try {
    const row = await rowInputs(c, entry);
    const inputs = {
      frames: tensors.frames,
      audio,
      promptIds: row.run.promptIds,
      ...row.features,
    };
    const controls = planned.settings.map((s) => s.controls);
    // The head statistic of the `off` setting's ratio kind (the checkpoint's default).
    const kind = planned.settings[0]?.controls.ratioKind ?? c.meta.arDefaults.ratioKind;
    const memory = ctx.options.runMemory;
    const keys = controls.map((ctl) =>
      JSON.stringify([
        entry.path,
        c.specKey,
        c.identity,
        inputs.promptIds,
        row.fed.featureSources ?? null,
        ctl,
      ]),
    );
    const runs = keys.map((k, i) => {
      const known = memory?.get(k);
      return known !== undefined && (i > 0 || known.off !== undefined) ? known : undefined;
    });
    const missing = runs.flatMap((r, i) => (r === undefined ? [i] : []));
    if (missing.length > 0) {
      // A crashed or timed-out worker is replaced by the next request: try again on the new one.
      const reply = await withRetries(signal, () =>
        pool.workerFor(c.path).run(
          sessionSettings(c, ctx.plan),
          inputs,
          missing.map((i) => controls[i]!),
          signal,
        ),
      );
      missing.forEach((i, k) => {
        const outputs = reply.runs[k]?.outputs;
        if (outputs === undefined) throw new Error('the worker returned too few runs');
        runs[i] = rememberRun(c, row.run.layout, kind, outputs, i === 0);
        memory?.set(keys[i]!, runs[i]);
      });
    }
    await ctx.emit(okRecord(c, clip, entry, tensors, runs as RememberedRun[], row.fed));
  } catch (error) {
    if (signal?.aborted) throw error;
    await ctx.emit(errorRecord(entry, clip, name, error));
  }
}

/** Every unfinished checkpoint on one clip, decoding once per decode spec. */
async function evaluateClip(ctx: RunContext, pool: WorkerPool, clip: number): Promise<void> {
  const entry = ctx.entries[clip] as ManifestEntry;
  const decoded = new Map<string, CachedTensors>();
  for (const c of ctx.checkpoints) {
    if (ctx.finished.has(clip, c.meta.checkpoint.name)) continue;
    let tensors = decoded.get(c.specKey);
    if (tensors === undefined) {
      try {
        tensors = await withRetries(ctx.options.signal, () =>
          clipTensors(ctx.options, entry, c.spec),
        );
      } catch (error) {
        if (ctx.options.signal?.aborted) throw error;
        // The clip itself is unreadable (or its decoder failed): one record for the clip.
        await ctx.emit(errorRecord(entry, clip, null, error));
        return;
      }
      decoded.set(c.specKey, tensors);
    }
    await evaluateCheckpoint(ctx, pool, clip, c, tensors);
  }
}

/**
 * Works through the pending clips in lanes, one worker pool (a worker per checkpoint) each;
 * returns whether the run was cancelled. A cancelled clip is neither counted nor recorded.
 */
async function runLanes(
  ctx: RunContext,
  pools: WorkerPool[],
  pending: readonly number[],
  onClipDone: () => void,
): Promise<boolean> {
  const { signal } = ctx.options;
  let next = 0;
  await Promise.all(
    pools.map(async (pool) => {
      while (next < pending.length && !signal?.aborted) {
        const clip = pending[next++] as number;
        try {
          await evaluateClip(ctx, pool, clip);
        } catch (error) {
          if (signal?.aborted) return;
          throw error;
        }
        onClipDone();
      }
    }),
  );
  return signal?.aborted ?? false;
}

/** One worker pool per lane (a worker per checkpoint in each), kept across evaluations. */
export class BenchmarkLanes {
  private readonly pools: WorkerPool[] = [];

  constructor(private readonly options: WorkerPoolOptions) {}

  /** The first `count` lanes, started as needed (a worker's process starts with its first request). */
  take(count: number): WorkerPool[] {
    while (this.pools.length < count) this.pools.push(new WorkerPool(this.options));
    return this.pools.slice(0, count);
  }

  /** The onnxruntime-node version a started worker reported (undefined before any started). */
  onnxruntimeVersion(): string | undefined {
    return this.pools.map((p) => p.onnxruntimeVersion()).find((v) => v !== undefined);
  }

  /** Shuts down every lane's workers. */
  async dispose(): Promise<void> {
    const all = this.pools.splice(0);
    await Promise.all(all.map((p) => p.dispose()));
  }
}

/** Runs (or resumes) an evaluation. */
export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const started = performance.now();
  const { plan, entries, checkpoints } = await planBenchmark(options);
  options.onPlan?.(plan);
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  const log = await openRecordLog(options.outDir, plan);
  const { records } = log;
  if (options.outDir !== undefined && options.choice !== undefined) {
    // The whole choice (its candidates too) stays beside the run it led to.
    await writeFileAtomic(
      join(resolve(options.outDir), CHOICE_FILE),
      `${JSON.stringify(options.choice, null, 1)}\n`,
    );
  }

  const shardIndices = shardClips(entries.length, plan.shard);
  const finished = new FinishedClips(records);
  const names = checkpoints.map((c) => c.meta.checkpoint.name);
  const pending = shardIndices.filter((i) => !finished.clipDone(i, names));
  const progress = new RunProgress(
    started,
    shardIndices.length,
    shardIndices.length - pending.length,
    records,
  );
  options.onProgress?.(progress.now());

  const ctx: RunContext = {
    options,
    plan,
    entries,
    checkpoints,
    finished,
    emit: async (record) => {
      records.push(record);
      progress.recorded(record);
      await log.append(record);
      options.onRecord?.(record);
    },
  };
  const lanes =
    options.lanes ??
    new BenchmarkLanes({
      workerScript: options.workerScript,
      ...(options.onWorkerEvent === undefined ? {} : { onEvent: options.onWorkerEvent }),
    });
  let cancelled: boolean;
  let onnxruntimeVersion: string;
  try {
    const pools = lanes.take(Math.min(jobs, Math.max(1, pending.length)));
    cancelled = await runLanes(ctx, pools, pending, () => {
      progress.clipDone();
      options.onProgress?.(progress.now());
    });
    onnxruntimeVersion = lanes.onnxruntimeVersion() ?? 'unknown';
  } finally {
    if (options.lanes === undefined) await lanes.dispose();
    await log.close();
  }
  const sorted = sortRecords(settleRecords(records), names);
  const silent = new Set(sorted.filter((r) => r.ok && r.silenceUsed).map((r) => r.clip));
  return {
    plan,
    records: sorted,
    entries,
    cancelled,
    progress: progress.now(),
    metadata: checkpoints.map((c) => c.meta),
    clipsWithoutAudio: silent.size,
    onnxruntimeVersion,
  };
}

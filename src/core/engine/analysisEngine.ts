// The analysis engine: clip file + checkpoint + intervention settings → AnalysisResult. Decodes
// through a ClipDecoder (cached in memory), runs the requested intervention and `ar_mode` 0 in
// the checkpoint's inference worker, analyses both runs. The CLI, the extension and the tests
// all call this; the host passes in paths (the worker script, ffmpeg) and cancellation.
import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type {
  AnalysisResult,
  FrameThumbnail,
  GeneratedAnswer,
  ModelInfo,
  TranscriptSource,
} from '../../protocol/analysisResult';
import { MAX_ANSWER_TOKENS } from '../../protocol/analysisResult';
import type { ArControls, ContractMetadata } from '../../protocol/contract';
import {
  EXECUTION_PROVIDERS,
  type ExecutionProviderChoice,
  type ExecutionProviderName,
  type ProviderAttempt,
} from '../../protocol/executionProviders';
import { ContractError } from '../contract/contractError';
import {
  AUDIO_REPEAT_INPUT,
  GREEDY_TOKEN_OUTPUT,
  HEAD_GATE_INPUT,
  LAYER_LOGITS_OUTPUT,
  type FeatureInputName,
} from '../contract/names';
import { defaultControls } from '../../shared/controls';
import { validateControls } from '../contract/controls';
import { readCheckedModelFile } from '../contract/graphCheck';
import { readExternalDataLocations } from '../onnx/graphProto';
import { repeatAudio, resolveRunLayout, type ResolvedRun } from '../contract/runLayout';
import type { PieceEncoder } from '../contract/sentencePieceTemplate';
import { decodeIds } from '../tokenizer/pieceText';
import { loadPromptTokenizer } from '../tokenizer/promptTokenizer';
import {
  clipDecodeSpecFromContract,
  silentAudio,
  type ClipDecoder,
  type DecodedClip,
} from '../decode/clipDecoder';
import { SystemFfmpegDecoder } from '../decode/systemFfmpegDecoder';
import type { GraphOptimizationLevel } from '../inference/contractModel';
import { providerChain, providerPlatformProblem } from '../inference/executionProviders';
import type { WorkerEvent } from '../inference/workerClient';
import { WorkerPool } from '../inference/workerPool';
import type {
  RunInputs,
  SessionReport,
  SessionSettings,
  WorkerRunOutput,
} from '../../protocol/workerMessages';
import { ClipCache, type StoredDecodes } from './clipCache';
import { EngineError } from './engineError';
import {
  runCounterfactuals,
  type CounterfactualRequest,
  type VariantInputs,
} from './counterfactualRun';
import type { CounterfactualResult } from '../../protocol/counterfactualResult';
import { assembleAnalysisResult } from './resultAssembly';
import { frameThumbnails } from './thumbnails';
import { resolveTranscript, TRANSCRIPT_SLOT, type GivenTranscript } from './transcriptSource';
import { resolveFeatures, type GivenFeatures, type ResolvedFeatures } from './featureSource';
import { featureDimsOf } from '../contract/signature';

/** How the engine finds its helpers and bounds its work. */
export interface AnalysisEngineOptions {
  /** The built inference worker script (dist/core/inferenceWorker.js). */
  workerScript: string;
  /** Decoder to use; default: the system ffmpeg (at `ffmpegPath`, else on PATH). */
  decoder?: ClipDecoder;
  ffmpegPath?: string | undefined;
  /** Name and version written into results (default "mosear-lens", "0.0.0"). */
  toolName?: string;
  toolVersion?: string;
  /** Decoded clips kept in memory (default 8). */
  clipCacheEntries?: number;
  /** Requests that may wait per checkpoint's worker (default 8). */
  maxQueued?: number;
  /** Time limit of one worker request (default 120 s). */
  requestTimeoutMs?: number;
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Cores the sessions share (default: all). */
  cores?: number;
  /** Extra environment for worker processes (tests). */
  workerEnv?: Record<string, string>;
  onWorkerEvent?: (event: WorkerEvent) => void;
  /** Platform whose providers `auto` tries (default: this one). */
  platform?: NodeJS.Platform;
}

/** One analysis to do. */
export interface AnalyzeRequest {
  clipPath: string;
  modelPath: string;
  /** Intervention controls; fields left out come from the checkpoint's `mosear.ar_defaults`. */
  controls?: Partial<ArControls>;
  /** Prompt ids (default: the checkpoint's default prompt; contract 1 only: 1.1 sets slots). */
  promptIds?: number[];
  /**
   * Contract 1.1: prompt slot values by slot name (e.g. `transcript`); unset slots take the
   * metadata's defaults (CONTRACT.md §3.1). A model without the slot refuses it.
   */
  slots?: Record<string, string>;
  /**
   * Contract 1.1: the clip's transcript as given (the CLI, the panel, a manifest row); fills the
   * `transcript` slot, and the result records its source.
   */
  transcript?: GivenTranscript;
  /** Contract 1.1: with no transcript given, read a sidecar next to the clip (default false). */
  transcriptSidecar?: boolean;
  /**
   * A model with feature inputs (CONTRACT.md §1b): FaceMAE / VideoMAE `.npy` files (the CLI, a
   * manifest row); the others are read from sidecars (featureSource.ts) or are zeros.
   */
  features?: GivenFeatures;
  /** Read feature sidecars next to the clip (default: as `transcriptSidecar`). */
  featureSidecar?: boolean;
  /**
   * Contract 1.1: `head_gate` [L][Hh] fed to both runs (1 keeps a head, 0 removes it; default
   * all ones). Refused unless all ones for a graph without the input.
   */
  headGate?: number[][];
  /**
   * Contract 1.2: `audio_repeat` k fed to both runs (default 1): the audio token repeated k
   * times, N grows by k − 1 and |A| = k (CONTRACT.md §1c). Refused for a graph without the
   * input unless 1, and above `mosear.audio.repeat_max`.
   */
  audioRepeat?: number;
  executionProvider?: ExecutionProviderChoice;
  /** With an explicit provider: fall back to the platform's next ones when it does not open. */
  allowFallback?: boolean;
  /** Embed the frames as PNG thumbnails (default true). */
  thumbnails?: boolean;
  /** Decoded clips to take before decoding (an evaluation's decode cache, same decoder). */
  storedDecodes?: StoredDecodes;
  /**
   * Greedy answer tokens to generate under off and the intervention (0 or absent: none; at most
   * MAX_ANSWER_TOKENS). Needs a graph with `greedy_token` (CONTRACT.md §2a).
   */
  answerTokens?: number;
}

/** A checkpoint's file identity and validated metadata. */
export interface LoadedModel extends ModelInfo {
  /**
   * Path, size and mtime of the file and of each external data file its weights live in:
   * changes when any of them does (re-exported weights behind an unchanged .onnx included).
   */
  identity: string;
  /** The external data files the graph names (absolute paths; none for a self-contained file). */
  externalFiles: string[];
  /** Contract 1.1's optional `head_gate` input and `layer_logits` output, where declared. */
  optional: {
    headGate: boolean;
    layerLogits: boolean;
    greedyToken?: boolean;
    /** The feature inputs the graph declares, with their D (CONTRACT.md §1b). */
    featureDims?: Partial<Record<FeatureInputName, number>>;
    /** Contract 1.2's `audio_repeat` input. */
    audioRepeat?: boolean;
  };
}

/** The model facts a result records (the loaded model without its cache key). */
export function modelInfoOf(model: LoadedModel): ModelInfo {
  return {
    path: model.path,
    fileName: model.fileName,
    sizeBytes: model.sizeBytes,
    modifiedMs: model.modifiedMs,
    metadata: model.metadata,
  };
}

/** The controls of a request: the checkpoint's defaults with the request's fields on top. */
export function resolveControls(
  meta: ContractMetadata,
  partial: Partial<ArControls> = {},
): ArControls {
  const controls: ArControls = { ...defaultControls(meta) };
  for (const [key, value] of Object.entries(partial) as [keyof ArControls, unknown][]) {
    if (value !== undefined)
      (controls as unknown as Record<string, unknown>)[key] = structuredClone(value);
  }
  try {
    validateControls(meta, controls);
  } catch (error) {
    if (error instanceof ContractError) throw new EngineError('BAD_SETTINGS', error.message);
    throw error;
  }
  controls.tau.forEach((v, l) => {
    if (!Number.isFinite(v)) {
      throw new EngineError(
        'BAD_SETTINGS',
        `ar_tau: value ${l} must be finite, got ${v} (disable the layer instead)`,
      );
    }
  });
  return controls;
}

/** The run's layout and prompt (CONTRACT.md §3.3); a slot or prompt the model refuses is BAD_SETTINGS. */
function resolveRun(
  meta: ContractMetadata,
  request: Pick<AnalyzeRequest, 'slots' | 'promptIds'>,
  tokenizer: PieceEncoder | undefined,
): ResolvedRun {
  try {
    return resolveRunLayout(meta, {
      ...(request.slots === undefined ? {} : { slots: request.slots }),
      ...(request.promptIds === undefined ? {} : { promptIds: request.promptIds }),
      ...(tokenizer === undefined ? {} : { tokenizer }),
    });
  } catch (error) {
    if (error instanceof ContractError) throw new EngineError('BAD_SETTINGS', error.message);
    throw error;
  }
}

/**
 * The run's slot values with the transcript filled, and where it came from (CONTRACT.md §3.1):
 * given, else a sidecar (when asked), else none. Recorded only for a model with a `transcript`
 * slot, and not when a caller sets the slot directly through `slots`.
 */
async function transcriptSlots(
  meta: ContractMetadata,
  request: AnalyzeRequest,
): Promise<{ slots: Record<string, string> | undefined; source?: TranscriptSource }> {
  const hasSlot = meta.prompt.slots?.[TRANSCRIPT_SLOT] !== undefined;
  // A manifest's transcript column serves the models that have the slot; the others ignore it.
  const given =
    request.transcript?.source === 'manifest' && !hasSlot ? undefined : request.transcript;
  const withGiven =
    given === undefined ? request.slots : { ...request.slots, [TRANSCRIPT_SLOT]: given.text };
  // Without the slot a given transcript is refused by the layout, naming the model's slots.
  if (!hasSlot || (given === undefined && request.slots?.[TRANSCRIPT_SLOT] !== undefined)) {
    return { slots: withGiven };
  }
  const found = await resolveTranscript({
    clipPath: request.clipPath,
    given,
    sidecar: request.transcriptSidecar ?? false,
  });
  return {
    slots: found.text === undefined ? withGiven : { ...withGiven, [TRANSCRIPT_SLOT]: found.text },
    source: found.source,
  };
}

/** A requested `head_gate` as [L·Hh] float32 (undefined: all ones, the graph's default). */
function headGateOf(
  meta: ContractMetadata,
  gate: number[][] | undefined,
): Float32Array | undefined {
  if (gate === undefined) return undefined;
  const { layers: L, heads: Hh } = meta.architecture;
  if (gate.length !== L || gate.some((row) => row.length !== Hh)) {
    throw new EngineError('BAD_SETTINGS', `head_gate: expected ${L} layers × ${Hh} heads`);
  }
  const flat = gate.flat();
  if (!flat.every((g) => Number.isFinite(g))) {
    throw new EngineError('BAD_SETTINGS', 'head_gate: every value must be finite');
  }
  return Float32Array.from(flat);
}

/** A request's `answerTokens` checked against the model: 0 (none) or 1 … MAX_ANSWER_TOKENS. */
function checkAnswerTokens(model: LoadedModel, tokens: number | undefined): number {
  if (tokens === undefined || tokens === 0) return 0;
  if (!Number.isInteger(tokens) || tokens < 0 || tokens > MAX_ANSWER_TOKENS) {
    throw new EngineError(
      'BAD_SETTINGS',
      `answer tokens: expected an integer from 0 to ${MAX_ANSWER_TOKENS}, got ${tokens}`,
    );
  }
  if (model.optional.greedyToken !== true) {
    throw new EngineError(
      'BAD_SETTINGS',
      `generation unavailable: the checkpoint ${model.fileName} has no ${GREEDY_TOKEN_OUTPUT} output (CONTRACT.md §2a)`,
    );
  }
  return tokens;
}

/** The `greedy_token` of a run (checkAnswerTokens made sure the graph declares it). */
function greedyOf(out: WorkerRunOutput): number {
  const id = out.outputs.greedy_token?.data[0];
  if (id === undefined) throw new ContractError(`the run has no ${GREEDY_TOKEN_OUTPUT} output`);
  return id;
}

/**
 * Greedy generation (CONTRACT.md §2a): each branch's token is appended to the prompt ids (the
 * last text segment, after the template's end) and the model runs again with the same controls,
 * so the intervention acts at every generated position, until EOS or `maxTokens`. While both
 * branches agree, one worker request runs both controls on the shared ids.
 */
export async function generateAnswer(args: {
  model: LoadedModel;
  /** One worker request: a run per controls entry on the prompt ids followed by `ids`. */
  step: (ids: number[], controls: ArControls[]) => Promise<WorkerRunOutput[]>;
  controls: ArControls;
  /** The analysis' own runs, whose `greedy_token` is each branch's first token. */
  first: { off: WorkerRunOutput; intervention: WorkerRunOutput };
  maxTokens: number;
}): Promise<GeneratedAnswer> {
  const vocab = args.model.metadata.prompt.vocab;
  const eosIndex = vocab.indexOf('</s>');
  const eos = eosIndex >= 0 ? eosIndex : 2;
  type Branch = { ids: number[]; controls: ArControls; stoppedAt?: 'eos' | 'max-tokens' };
  const off: Branch = { ids: [], controls: { ...args.controls, mode: 0 } };
  const ar: Branch = { ids: [], controls: args.controls };
  const take = (branch: Branch, token: number) => {
    if (token === eos) branch.stoppedAt = 'eos';
    else if (branch.ids.push(token) >= args.maxTokens) branch.stoppedAt = 'max-tokens';
  };
  take(off, greedyOf(args.first.off));
  take(ar, greedyOf(args.first.intervention));
  for (;;) {
    const live = [off, ar].filter((b) => b.stoppedAt === undefined);
    if (live.length === 0) break;
    const shared =
      live.length === 2 &&
      off.ids.length === ar.ids.length &&
      off.ids.every((t, i) => t === ar.ids[i]);
    const groups = shared ? [live] : live.map((b) => [b]);
    for (const group of groups) {
      // With mode 0 requested both branches are the same run: one is enough.
      const same = group.length === 2 && args.controls.mode === 0;
      const runs = await args.step(
        group[0]!.ids,
        (same ? group.slice(0, 1) : group).map((b) => b.controls),
      );
      group.forEach((b, i) => take(b, greedyOf(runs[same ? 0 : i]!)));
    }
  }
  const branch = (b: Branch) => ({
    ids: b.ids,
    text: decodeIds(vocab, b.ids),
    stoppedAt: b.stoppedAt ?? 'max-tokens',
  });
  return { off: branch(off), intervention: branch(ar), maxTokens: args.maxTokens };
}

/** An `ar_mode` 0 run kept for re-runs of its clip, and the provider that ran it. */
interface KeptBaseline {
  run: WorkerRunOutput;
  provider: string;
}

/** A request resolved for running: see AnalysisEngine.prepare. */
interface PreparedRequest {
  /** The checkpoint; with `audioRepeat` k ≠ 1 its metadata is the run's (repeatAudio). */
  model: LoadedModel;
  /** `audio_repeat` k (1: not fed beyond the graph's default). */
  audioRepeat: number;
  controls: ArControls;
  run: ResolvedRun;
  /** The transcript slot's value source (transcriptSlots). */
  transcript: Awaited<ReturnType<typeof transcriptSlots>>;
  headGate: Float32Array | undefined;
  /** The FaceMAE / VideoMAE vectors and their sources (undefined: no feature inputs). */
  features: ResolvedFeatures | undefined;
  choice: ExecutionProviderChoice;
  allowFallback: boolean;
  decoded: Awaited<ReturnType<ClipCache['get']>>;
  clip: DecodedClip;
  audio: Float32Array;
  /** The worker's session settings, as the warm-up opened them (the runs use the same). */
  settings: SessionSettings;
  /** The session's open ahead of the run (undefined: it was open, on its way, or failed). */
  warmed: Promise<SessionReport | undefined>;
}

/** Gated session runs on one prepared clip and checkpoint (AnalysisEngine.gatedRunner). */
export interface GatedRunner {
  model: LoadedModel;
  /** The request's controls, resolved against the checkpoint's defaults. */
  controls: ArControls;
  /** One worker request: a run per controls entry with this gate (undefined: all ones). */
  run(
    gate: Float32Array | undefined,
    controls: ArControls[],
    signal?: AbortSignal,
    keep?: boolean,
  ): Promise<WorkerRunOutput[]>;
}

/** A run's feature inputs for the worker (none given: the graph's default, zeros). */
function featureInputs(features: ResolvedFeatures | undefined): Pick<RunInputs, 'features'> {
  return features === undefined || Object.keys(features.vectors).length === 0
    ? {}
    : { features: features.vectors };
}

/** [L·Hh] → [L][Hh] (the form a request's and a result's `headGate` take). */
function nestGate(gate: Float32Array, L: number, Hh: number): number[][] {
  return Array.from({ length: L }, (_, l) => Array.from(gate.subarray(l * Hh, (l + 1) * Hh)));
}

/** Baselines kept per decoded clip (checkpoints × prompts × providers). */
const MAX_BASELINES_PER_CLIP = 4;

/**
 * A checkpoint's identity: the .onnx file's path, size and mtime, and each external data file's
 * (statted synchronously like the file itself: a re-run checks them every time; a missing one
 * counts as a change, and opening the session then says what is missing).
 */
function fileIdentity(
  path: string,
  info: { size: number; mtimeMs: number },
  externalFiles: readonly string[],
): string {
  const external = externalFiles.map((file) => {
    try {
      const s = statSync(file);
      return [file, s.size, s.mtimeMs];
    } catch {
      return [file, null, null];
    }
  });
  return JSON.stringify([path, info.size, info.mtimeMs, ...external]);
}
/** Runs analyses; holds the decoded-clip cache and one inference worker per checkpoint. */
export class AnalysisEngine {
  private readonly decoder: ClipDecoder;
  private readonly clips: ClipCache;
  private readonly pool: WorkerPool;
  private readonly models = new Map<string, LoadedModel>();
  /** Each model's prompt tokenizer by identity (loaded on its first run). */
  private readonly tokenizers = new Map<string, Promise<PieceEncoder | undefined>>();
  /** PNGs of a decoded clip's frames, made once per decode (re-runs reuse them). */
  private readonly thumbnails = new WeakMap<DecodedClip, FrameThumbnail[]>();
  /** `ar_mode` 0 runs by decoded clip (they go with it when the clip cache drops the clip). */
  private readonly baselines = new WeakMap<DecodedClip, Map<string, KeptBaseline>>();
  private readonly platform: NodeJS.Platform;

  constructor(private readonly options: AnalysisEngineOptions) {
    this.decoder = options.decoder ?? new SystemFfmpegDecoder({ ffmpegPath: options.ffmpegPath });
    this.clips = new ClipCache(
      this.decoder,
      options.ffmpegPath ?? '',
      options.clipCacheEntries ?? 8,
    );
    this.platform = options.platform ?? process.platform;
    this.pool = new WorkerPool({
      workerScript: options.workerScript,
      ...(options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued }),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.cores === undefined ? {} : { cores: options.cores }),
      ...(options.workerEnv === undefined ? {} : { env: options.workerEnv }),
      onEvent: (event) => {
        options.onWorkerEvent?.(event);
      },
    });
  }

  /**
   * Reads and validates a checkpoint's metadata and graph signature (cached until the file
   * changes); operators and the IR version are checked when a session opens.
   */
  async model(modelPath: string): Promise<LoadedModel> {
    const path = resolve(modelPath);
    let info: { size: number; mtimeMs: number; isFile(): boolean };
    try {
      // Sync on purpose: every re-run checks the file, and an awaited stat costs two thread
      // hops — 10–20 ms on a loaded machine, as much as a tiny model's whole run (perf-log.md).
      info = statSync(path);
    } catch {
      throw new EngineError('MODEL_NOT_FOUND', `The model file "${path}" does not exist.`);
    }
    if (!info.isFile()) throw new EngineError('MODEL_NOT_FOUND', `"${path}" is not a file.`);
    const known = this.models.get(path);
    if (known !== undefined && known.identity === fileIdentity(path, info, known.externalFiles)) {
      return known;
    }
    const { metadata, graph } = await readCheckedModelFile(path);
    const externalFiles = (await readExternalDataLocations(path)).map((location) =>
      resolve(dirname(path), location),
    );
    const identity = fileIdentity(path, info, externalFiles);
    const v11 = metadata.contract !== '1';
    const model: LoadedModel = {
      path,
      fileName: basename(path),
      sizeBytes: info.size,
      modifiedMs: info.mtimeMs,
      metadata,
      identity,
      externalFiles,
      optional: {
        headGate: v11 && graph.inputs.some((i) => i.name === HEAD_GATE_INPUT),
        layerLogits: v11 && graph.outputs.some((o) => o.name === LAYER_LOGITS_OUTPUT),
        greedyToken: v11 && graph.outputs.some((o) => o.name === GREEDY_TOKEN_OUTPUT),
        featureDims: featureDimsOf(metadata, graph.inputs),
        audioRepeat:
          metadata.contract === '1.2' && graph.inputs.some((i) => i.name === AUDIO_REPEAT_INPUT),
      },
    };
    this.models.set(path, model);
    return model;
  }

  /**
   * The model's prompt tokenizer, loaded once per model file (a `sentencepiece` model's
   * tokenizer.model, SHA-256 checked; undefined for the others). A missing or mismatched file is
   * a ContractError naming it; a failed load is retried on the next call.
   */
  promptTokenizer(model: LoadedModel): Promise<PieceEncoder | undefined> {
    let loading = this.tokenizers.get(model.identity);
    if (loading === undefined) {
      loading = loadPromptTokenizer(model.path, model.metadata);
      this.tokenizers.set(model.identity, loading);
      loading.catch(() => this.tokenizers.delete(model.identity));
    }
    return loading;
  }

  /**
   * What every run of a request needs: the checkpoint, the resolved controls and layout, the
   * decoded clip (cached) and its audio (silence where the model allows it).
   */
  private async prepare(request: AnalyzeRequest, signal?: AbortSignal): Promise<PreparedRequest> {
    const loaded = await this.model(request.modelPath);
    const audioRepeat = request.audioRepeat ?? 1;
    let meta: ContractMetadata;
    try {
      meta = repeatAudio(loaded.metadata, audioRepeat);
    } catch (error) {
      if (error instanceof ContractError) throw new EngineError('BAD_SETTINGS', error.message);
      throw error;
    }
    const model = meta === loaded.metadata ? loaded : { ...loaded, metadata: meta };
    const choice = request.executionProvider ?? 'auto';
    const allowFallback = request.allowFallback ?? false;
    // The worker starts and opens the session while the prompt resolves and the clip decodes.
    // The worker first: its pool's share of the cores counts it (sessionSettings).
    const worker = this.pool.workerFor(model.path);
    const settings = this.sessionSettings(model, choice, allowFallback);
    const warmed = worker.warm(settings, signal);
    const controls = resolveControls(meta, request.controls);
    const transcript = await transcriptSlots(meta, request);
    const slots = transcript.slots;
    const tokenizer = await this.promptTokenizer(model);
    const run = resolveRun(
      meta,
      { ...request, ...(slots === undefined ? {} : { slots }) },
      tokenizer,
    );
    const headGate = headGateOf(meta, request.headGate);
    const features = await resolveFeatures({
      clipPath: request.clipPath,
      dims: model.optional.featureDims ?? {},
      given: request.features,
      sidecar: request.featureSidecar ?? request.transcriptSidecar ?? false,
      modelName: model.fileName,
    });

    const spec = clipDecodeSpecFromContract(meta);
    const decoded = await this.clips.get(request.clipPath, spec, signal, request.storedDecodes);
    const clip = decoded.clip;
    let audio = clip.audio;
    if (audio === null) {
      if (!meta.audio.optional) {
        throw new EngineError(
          'NO_AUDIO',
          `"${basename(clip.source.path)}" has no audio stream, and ${model.fileName} needs audio ` +
            '(its metadata does not mark audio as optional).',
        );
      }
      audio = silentAudio(spec, clip.source.durationSeconds);
    }
    return {
      model,
      audioRepeat,
      controls,
      run,
      transcript,
      headGate,
      features,
      choice,
      allowFallback,
      decoded,
      clip,
      audio,
      settings,
      warmed,
    };
  }

  /** The key of a kept `ar_mode` 0 run: the inputs it depends on, the gate included. */
  private baselineKey(p: PreparedRequest, gate: number[][] | null): string {
    // The vectors, not only their files: an edited .npy is another input.
    const features =
      p.features === undefined
        ? null
        : [p.features.sources, Object.values(p.features.vectors).map((x) => Array.from(x))];
    return JSON.stringify([
      p.model.identity,
      p.choice,
      p.allowFallback,
      p.run.promptIds,
      gate,
      features,
      p.audioRepeat,
    ]);
  }

  /** Keeps an `ar_mode` 0 run for re-runs of its clip (a few per clip; the oldest go first). */
  private keepBaseline(clip: DecodedClip, key: string, kept: KeptBaseline): void {
    const map = this.baselines.get(clip) ?? new Map<string, KeptBaseline>();
    map.delete(key);
    map.set(key, kept);
    while (map.size > MAX_BASELINES_PER_CLIP) map.delete(map.keys().next().value!);
    this.baselines.set(clip, map);
  }

  /**
   * Contract 1.1: a runner of gated session runs on one clip and checkpoint (head knockout,
   * src/core/engine/knockout.ts). Each call of `run` is one worker request (cancelled by its
   * signal); its `ar_mode` 0 runs come from, and with `keep` go into, the kept baselines, under a
   * key that includes the gate. A gate that is not all ones is refused by a graph without
   * `head_gate` (buildFeeds); knockout.ts says why before it gets there.
   */
  async gatedRunner(request: AnalyzeRequest, signal?: AbortSignal): Promise<GatedRunner> {
    const p = await this.prepare(request, signal);
    const meta = p.model.metadata;
    const worker = this.pool.workerFor(p.model.path);
    const { settings } = p;
    const session = await worker.open(settings, signal);
    const { layers: L, heads: Hh } = meta.architecture;
    const run = async (
      gate: Float32Array | undefined,
      controls: ArControls[],
      runSignal?: AbortSignal,
      keep = false,
    ): Promise<WorkerRunOutput[]> => {
      const key = this.baselineKey(p, gate === undefined ? null : nestGate(gate, L, Hh));
      const kept = this.baselines.get(p.clip)?.get(key);
      const reuse = kept !== undefined && kept.provider === session.provider;
      const todo = controls.filter((c) => !(reuse && c.mode === 0));
      const outputs: WorkerRunOutput[] = [];
      if (todo.length > 0) {
        const reply = await worker.run(
          settings,
          {
            frames: p.clip.frames,
            audio: p.audio,
            promptIds: p.run.promptIds,
            ...(gate === undefined ? {} : { headGate: gate }),
            ...featureInputs(p.features),
            ...(p.audioRepeat === 1 ? {} : { audioRepeat: p.audioRepeat }),
          },
          todo,
          runSignal ?? signal,
        );
        outputs.push(...reply.runs);
        const base = todo.findIndex((c) => c.mode === 0);
        const baseRun = reply.runs[base];
        if (keep && base >= 0 && baseRun !== undefined) {
          this.keepBaseline(p.clip, key, { run: baseRun, provider: reply.session.provider });
        }
      }
      let next = 0;
      return controls.map((c) => {
        if (reuse && c.mode === 0) return kept.run;
        const out = outputs[next++];
        if (out === undefined) throw new Error('the worker returned fewer runs than requested');
        return out;
      });
    };
    return { model: p.model, controls: p.controls, run };
  }

  /** Analyses a clip with a checkpoint: the requested intervention and `ar_mode` 0. */
  async analyze(request: AnalyzeRequest, signal?: AbortSignal): Promise<AnalysisResult> {
    const startedAt = performance.now();
    const p = await this.prepare(request, signal);
    const {
      model,
      controls,
      run,
      transcript,
      headGate,
      features,
      choice,
      allowFallback,
      decoded,
      clip,
      audio,
    } = p;
    const promptIds = run.promptIds;
    const answerTokens = checkAnswerTokens(model, request.answerTokens);

    // The `ar_mode` 0 run depends only on the inputs (CONTRACT.md §2: mode 0 flags nothing and
    // changes nothing), so a re-run of this clip with new settings reuses it.
    const baselineKey = this.baselineKey(p, request.headGate ?? null);
    const known = controls.mode === 0 ? undefined : this.baselines.get(clip)?.get(baselineKey);
    const runs =
      controls.mode === 0 || known !== undefined
        ? [controls]
        : [controls, { ...controls, mode: 0 as const }];
    const inferenceStarted = performance.now();
    const worker = this.pool.workerFor(model.path);
    const { settings } = p;
    const inputs = {
      frames: clip.frames,
      audio,
      promptIds,
      ...(headGate === undefined ? {} : { headGate }),
      ...featureInputs(features),
      ...(p.audioRepeat === 1 ? {} : { audioRepeat: p.audioRepeat }),
    };
    let reply = await worker.run(settings, inputs, runs, signal);
    let intervention = reply.runs[0];
    let baseline = reply.runs[runs.length - 1];
    let baselineReused = false;
    if (known !== undefined && known.provider === reply.session.provider) {
      baseline = known.run;
      baselineReused = true;
    } else if (known !== undefined) {
      // The session now runs on another provider than the kept baseline's: run both again.
      reply = await worker.run(settings, inputs, [controls, { ...controls, mode: 0 }], signal);
      [intervention, baseline] = [reply.runs[0], reply.runs[1]];
    }
    const inferenceMs = performance.now() - inferenceStarted;
    if (intervention === undefined || baseline === undefined) {
      throw new Error(`the worker returned ${reply.runs.length} runs for ${runs.length} requested`);
    }
    // CONTRACT.md §2: a variable N must be the run's.
    for (const out of [intervention, baseline]) {
      const N = out.outputs.token_attention.dims[2];
      if (N !== run.layout.total || out.outputs.token_attention_before.dims[2] !== N) {
        throw new ContractError(
          `${model.fileName}: token_attention has ${N} key positions, the run's layout ${run.layout.total} (CONTRACT.md §2, §3.3)`,
        );
      }
    }
    if (!baselineReused) {
      // A clip's baselines under a few checkpoints and prompts; the oldest go first.
      this.keepBaseline(clip, baselineKey, { run: baseline, provider: reply.session.provider });
    }
    const generatedAnswer =
      answerTokens === 0
        ? undefined
        : await generateAnswer({
            model,
            step: async (ids, runControls) =>
              (
                await worker.run(
                  settings,
                  { ...inputs, promptIds: [...promptIds, ...ids] },
                  runControls,
                  signal,
                )
              ).runs,
            controls,
            first: { off: baseline, intervention },
            maxTokens: answerTokens,
          });
    const result = assembleAnalysisResult({
      tool: {
        name: this.options.toolName ?? 'mosear-lens',
        version: this.options.toolVersion ?? '0.0.0',
        onnxruntime: worker.onnxruntimeVersion ?? 'unknown',
      },
      model: modelInfoOf(model),
      clip,
      file: decoded,
      silenceUsed: clip.audio === null,
      audioSamples: audio.length,
      layout: run.layout,
      settings: {
        controls,
        promptIds,
        executionProvider: choice,
        allowFallback,
        ...(transcript.slots === undefined ? {} : { slots: { ...transcript.slots } }),
        ...(transcript.source === undefined ? {} : { transcriptSource: transcript.source }),
        ...(request.headGate === undefined ? {} : { headGate: structuredClone(request.headGate) }),
        ...(features === undefined ? {} : { featureSources: structuredClone(features.sources) }),
        ...(p.audioRepeat === 1 ? {} : { audioRepeat: p.audioRepeat }),
      },
      runtime: {
        provider: reply.session.provider,
        attempts: reply.session.attempts,
        intraOpNumThreads: reply.session.intraOpNumThreads,
        graphOptimizationLevel: reply.session.graphOptimizationLevel,
      },
      intervention: intervention.outputs,
      baseline: baseline.outputs,
      thumbnails: (request.thumbnails ?? true) ? this.thumbnailsOf(clip) : [],
      timings: {
        decodeMs: decoded.ms,
        decodeCached: decoded.cached,
        // The session may have opened ahead of the run (prepare's warm-up).
        sessionOpenMs: reply.session.openMs || ((await p.warmed)?.openMs ?? 0),
        inferenceMs,
        sessionRunMs: reply.runs.map((r) => r.runMs),
        sessionRuns: reply.runs.length,
        baselineReused,
      },
      startedAt,
    });
    return generatedAnswer === undefined ? result : { ...result, generatedAnswer };
  }

  /**
   * Modality counterfactuals of a clip (counterfactualRun.ts): the clip as it is, its audio
   * silenced and swapped, its frames grey and swapped, its transcript removed (1.1), each under
   * off and the intervention, with a verdict from the swaps. Partners: `request.partners`, or the
   * given clips, or chosen automatically from a manifest or the clip's folder.
   */
  async counterfactuals(
    request: CounterfactualRequest,
    signal?: AbortSignal,
  ): Promise<CounterfactualResult> {
    return runCounterfactuals(
      {
        metadata: async (modelPath) => (await this.model(modelPath)).metadata,
        analyze: (r, s) =>
          this.analyze(
            {
              clipPath: r.clipPath,
              modelPath: r.modelPath,
              thumbnails: false,
              ...(r.controls === undefined ? {} : { controls: r.controls }),
              ...(r.slots === undefined ? {} : { slots: r.slots }),
              ...(r.transcript === undefined ? {} : { transcript: r.transcript }),
              ...(r.transcriptSidecar === undefined
                ? {}
                : { transcriptSidecar: r.transcriptSidecar }),
              // The variants feed the features' default (zeros), so the clip as it is does too.
              featureSidecar: false,
              ...(r.headGate === undefined ? {} : { headGate: r.headGate }),
              ...(r.executionProvider === undefined
                ? {}
                : { executionProvider: r.executionProvider }),
              ...(r.allowFallback === undefined ? {} : { allowFallback: r.allowFallback }),
              ...(r.storedDecodes === undefined ? {} : { storedDecodes: r.storedDecodes }),
            },
            s,
          ),
        decode: async (clipPath, modelPath, s, stored) => {
          const spec = clipDecodeSpecFromContract((await this.model(modelPath)).metadata);
          return (await this.clips.get(clipPath, spec, s, stored)).clip;
        },
        inputsOf: (clip) => ({
          frames: clip.frames,
          audio: clip.audio ?? silentAudio(clip.spec, clip.source.durationSeconds),
        }),
        variantLogits: (r, inputs, s) => this.variantLogits(r, inputs, s),
      },
      request,
      signal,
    );
  }

  /**
   * The clip's logits with its audio token repeated k times, for each k of `repeats` (contract
   * 1.2, CONTRACT.md §1c), under `off` only (the token-imbalance probe over a benchmark: one
   * worker request per clip, logits only). Each k is checked against the model first.
   */
  async audioRepeatLogits(
    request: Omit<AnalyzeRequest, 'audioRepeat' | 'controls'>,
    repeats: readonly number[],
    signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const p = await this.prepare({ ...request, thumbnails: false }, signal);
    for (const k of repeats) {
      try {
        repeatAudio(p.model.metadata, k);
      } catch (error) {
        if (error instanceof ContractError) throw new EngineError('BAD_SETTINGS', error.message);
        throw error;
      }
    }
    const inputSets = repeats.map((k) => ({
      frames: p.clip.frames,
      audio: p.audio,
      promptIds: p.run.promptIds,
      ...(p.headGate === undefined ? {} : { headGate: p.headGate }),
      ...(k === 1 ? {} : { audioRepeat: k }),
    }));
    const off = resolveControls(p.model.metadata, { mode: 0 });
    const reply = await this.pool
      .workerFor(p.model.path)
      .runLogits(p.settings, inputSets, [off], signal);
    return reply.logits.map((row) => {
      const logits = row[0];
      if (logits === undefined) throw new Error('the worker returned no run for a k');
      return logits;
    });
  }

  /** Counterfactual variants' logits under the request's intervention and under off. */
  private async variantLogits(
    request: CounterfactualRequest,
    variants: readonly VariantInputs[],
    signal?: AbortSignal,
  ): Promise<{ intervention: Float32Array; off: Float32Array }[]> {
    const model = await this.model(request.modelPath);
    const meta = model.metadata;
    const controls = resolveControls(meta, request.controls);
    const tokenizer = await this.promptTokenizer(model);
    const headGate = headGateOf(meta, request.headGate);
    const settings = this.sessionSettings(
      model,
      request.executionProvider ?? 'auto',
      request.allowFallback ?? false,
    );
    const runs = controls.mode === 0 ? [controls] : [controls, { ...controls, mode: 0 as const }];
    const inputSets = variants.map((inputs) => ({
      frames: inputs.frames,
      audio: inputs.audio,
      promptIds: resolveRun(
        meta,
        inputs.slots === undefined ? {} : { slots: inputs.slots },
        tokenizer,
      ).promptIds,
      ...(headGate === undefined ? {} : { headGate }),
    }));
    const reply = await this.pool
      .workerFor(model.path)
      .runLogits(settings, inputSets, runs, signal);
    return reply.logits.map((row) => {
      const intervention = row[0];
      const off = row[runs.length - 1];
      if (intervention === undefined || off === undefined) {
        throw new Error(`the worker returned ${row.length} runs for ${runs.length} requested`);
      }
      return { intervention, off };
    });
  }

  /** Opens the checkpoint's session ahead of the first analysis (warms the worker). */
  async warm(
    modelPath: string,
    executionProvider: ExecutionProviderChoice = 'auto',
    allowFallback = false,
    signal?: AbortSignal,
  ): Promise<void> {
    const model = await this.model(modelPath);
    await this.pool
      .workerFor(model.path)
      .open(this.sessionSettings(model, executionProvider, allowFallback), signal);
  }

  /**
   * Tries every execution provider alone on a checkpoint: the ones this platform cannot have are
   * reported without a try, the others open a session in the checkpoint's worker. `only` limits
   * the tries (["cpu"]: can this checkpoint run at all); the rest are reported as not tried.
   */
  async probeProviders(
    modelPath: string,
    signal?: AbortSignal,
    only: readonly ExecutionProviderName[] = EXECUTION_PROVIDERS,
  ): Promise<ProviderAttempt[]> {
    const model = await this.model(modelPath);
    const impossible = new Map<string, string>();
    for (const p of EXECUTION_PROVIDERS) {
      const problem = providerPlatformProblem(p, this.platform);
      if (problem !== undefined) impossible.set(p, problem);
    }
    const tried = await this.pool.workerFor(model.path).probe(
      model.path,
      EXECUTION_PROVIDERS.filter((p) => !impossible.has(p) && only.includes(p)),
      signal,
    );
    return EXECUTION_PROVIDERS.map(
      (p) =>
        tried.find((a) => a.provider === p) ?? {
          provider: p,
          ok: false,
          reason: impossible.get(p) ?? 'not tried',
          ms: 0,
        },
    );
  }

  /** The onnxruntime-node version a checkpoint's worker reported ("unknown" before it started). */
  onnxruntimeVersion(modelPath: string): string {
    return this.pool.workerFor(resolve(modelPath)).onnxruntimeVersion ?? 'unknown';
  }

  /**
   * Creates the checkpoints' workers before their first request, so that sessions about to run
   * concurrently each open with their share of the cores (⌊cores ÷ workers⌋ threads).
   */
  reserveWorkers(modelPaths: readonly string[]): void {
    for (const path of modelPaths) this.pool.workerFor(resolve(path));
  }

  /** Full clip decodes so far (cache hits and decodes shared by concurrent requests not counted). */
  get clipDecodes(): number {
    return this.clips.decodes;
  }

  /** Forgets every decoded clip. */
  clearClipCache(): void {
    this.clips.clear();
  }

  /** Shuts down every worker (pending requests fail with DISPOSED). */
  async dispose(): Promise<void> {
    await this.pool.dispose();
  }

  private thumbnailsOf(clip: DecodedClip): FrameThumbnail[] {
    let pngs = this.thumbnails.get(clip);
    if (pngs === undefined) {
      pngs = frameThumbnails(
        clip.frames,
        clip.spec.width,
        clip.spec.height,
        clip.frameTimesSeconds,
      );
      this.thumbnails.set(clip, pngs);
    }
    return pngs;
  }

  private sessionSettings(
    model: LoadedModel,
    choice: ExecutionProviderChoice,
    allowFallback: boolean,
  ): SessionSettings {
    const settings: SessionSettings = {
      modelPath: model.path,
      modelIdentity: model.identity,
      providers: providerChain(choice, this.platform, allowFallback),
      intraOpNumThreads: this.pool.intraOpThreads(),
      graphOptimizationLevel: this.options.graphOptimizationLevel ?? 'all',
    };
    // An open session keeps the threads it opened with: another checkpoint's worker changing the
    // share is no reason to reopen it (a full-size model's open takes minutes).
    const held = this.pool.workerFor(model.path).openSettings;
    const same =
      held !== undefined &&
      JSON.stringify({ ...held, intraOpNumThreads: 0 }) ===
        JSON.stringify({ ...settings, intraOpNumThreads: 0 });
    return same ? { ...settings, intraOpNumThreads: held.intraOpNumThreads } : settings;
  }
}

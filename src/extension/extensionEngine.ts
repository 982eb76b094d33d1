// The extension's one AnalysisEngine, created on the first analysis (activation spawns nothing)
// and rebuilt when the decoder settings change. Applies the settings and Restricted Mode to every
// request, and reports the decode/inference stages it can observe.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../protocol/analysisResult';
import { SUBJECT_KEYS, type ComparisonResult, type SubjectKey } from '../protocol/comparisonResult';
import type { CounterfactualResult } from '../protocol/counterfactualResult';
import type { ArControls } from '../protocol/contract';
import type { ExecutionProviderName, ProviderAttempt } from '../protocol/executionProviders';
import type {
  ClipDecodeSpec,
  ClipDecoder,
  ClipProbe,
  DecodedClip,
} from '../core/decode/clipDecoder';
import { selectClipDecoder } from '../core/decode/decoderSelection';
import { SystemFfmpegDecoder } from '../core/decode/systemFfmpegDecoder';
import { WASM_WORKER_BUNDLE, WasmFfmpegDecoder } from '../core/decode/wasmFfmpegDecoder';
import { DecodeCache, systemDecoderIdentity } from '../core/evaluation/decodeCache';
import { AnalysisEngine, resolveControls, type LoadedModel } from '../core/engine/analysisEngine';
import { compareClip, type CompareSubjectRequest } from '../core/engine/compareClip';
import type { GivenFeatures } from '../core/engine/featureSource';
import type { GivenTranscript } from '../core/engine/transcriptSource';
import { knockoutHeads, rankHeads, type KnockoutBase } from '../core/engine/knockout';
import { imbalanceProbe } from '../core/engine/imbalance';
import type { ImbalanceProgress, ImbalanceResult } from '../protocol/imbalance';
import type {
  HeadRanking,
  HeadRef,
  KnockoutResult,
  KnockoutUnder,
  RankProgress,
} from '../protocol/knockout';
import type { Config } from './config';
import { Disposable } from './dispose';
import type { Logger } from './logger';
import { controlsFromSettings, type MosearSettings } from './settings';

/** A stage of an analysis that the host can see from outside the engine. */
export type AnalysisStage = 'decoding' | 'inference';

/** One analysis the host asks for; settings fill what it leaves out. */
export interface ClipAnalysisRequest {
  clipPath: string;
  modelPath: string;
  /** Controls from the panel; fields left out come from `mosear.ar.*`, then the checkpoint. */
  controls?: Partial<ArControls>;
  /** An evaluation's decode cache folder: its tensors of the clip are taken instead of a decode. */
  decodeCacheDir?: string;
  /** Contract 1.1: the transcript typed in the panel (else a sidecar next to the clip is read). */
  transcript?: GivenTranscript;
  /** FaceMAE / VideoMAE files a manifest row names (CONTRACT.md §1b; else sidecars, else zeros). */
  features?: GivenFeatures;
}

/**
 * What a clip's analysis was given beside its files (a manifest row's transcript and feature
 * files): a panel opened from an evaluation re-runs, knocks out and swaps with the same.
 */
export type GivenClipInputs = Pick<ClipAnalysisRequest, 'transcript' | 'features'>;

/** Where the engine and decoder come from, and whether a checkpoint may run. */
export interface EngineEnvironment {
  /** The extension's `dist/` folder (inference worker and wasm decoder bundles). */
  distDir: string;
  toolVersion: string;
  /** Refuses a model Restricted Mode does not allow (a message), or undefined when allowed. */
  modelProblem(modelPath: string, settings: MosearSettings): string | undefined;
}

/** Forwards to a decoder and tells listeners when a clip's decode starts and ends. */
class StageReportingDecoder implements ClipDecoder {
  readonly backend: ClipDecoder['backend'];

  constructor(
    private readonly inner: ClipDecoder,
    private readonly onStage: (clipPath: string, stage: AnalysisStage) => void,
  ) {
    this.backend = inner.backend;
  }

  probe(path: string, signal?: AbortSignal): Promise<ClipProbe> {
    return this.inner.probe(path, signal);
  }

  async decode(path: string, spec: ClipDecodeSpec, signal?: AbortSignal): Promise<DecodedClip> {
    this.onStage(path, 'decoding');
    const clip = await this.inner.decode(path, spec, signal);
    // The engine sends the tensors to the inference worker as soon as the decode returns.
    this.onStage(path, 'inference');
    return clip;
  }
}

/** The engine the extension's commands and panels share. */
export class ExtensionEngine extends Disposable {
  private engine: {
    instance: AnalysisEngine;
    decoder: ClipDecoder;
    decoderKey: string;
    decoderReason: string;
  } | null = null;
  private readonly stages = this._register(
    new vscode.EventEmitter<{ clipPath: string; stage: AnalysisStage }>(),
  );
  private readonly analyzed = this._register(new vscode.EventEmitter<AnalysisResult>());
  /** Fires after every finished analysis (the status bar shows its provider). */
  readonly onDidAnalyze = this.analyzed.event;

  constructor(
    private readonly env: EngineEnvironment,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    super();
    this._register(
      config.onDidChange((settings) => {
        if (this.engine !== null && this.engine.decoderKey !== decoderKey(settings)) {
          this.logger.info('decoder settings changed: the next analysis starts a new engine');
          this.retire();
        }
      }),
    );
  }

  /** Whether an engine (and so possibly worker processes) exists yet. */
  get started(): boolean {
    return this.engine !== null;
  }

  /** Why the current decoder was chosen (creates the engine when needed). */
  decoderReason(): string {
    return this.get().decoderReason;
  }

  /** A checkpoint's validated metadata; throws ContractError/EngineError with a clear message. */
  model(modelPath: string): Promise<LoadedModel> {
    return this.get().instance.model(modelPath);
  }

  /** Analyses a clip with the settings applied; `onStage` hears decoding and inference. */
  async analyze(
    request: ClipAnalysisRequest,
    signal: AbortSignal,
    onStage?: (stage: AnalysisStage) => void,
  ): Promise<AnalysisResult> {
    const settings = this.config.current;
    const problem = this.env.modelProblem(request.modelPath, settings);
    if (problem !== undefined) throw new Error(problem);
    const engine = this.get().instance;
    const model = await engine.model(request.modelPath);
    // Settings first, the panel's controls on top; resolveControls rejects what does not fit.
    const controls = resolveControls(model.metadata, {
      ...controlsFromSettings(settings.ar, model.metadata),
      ...request.controls,
    });
    // The same key as the evaluation's entries: this decoder's identity and the model's spec.
    const stored =
      request.decodeCacheDir === undefined
        ? undefined
        : new DecodeCache(request.decodeCacheDir, (await this.benchmarkDecoder()).identity);
    const listener = this.stages.event((e) => {
      if (e.clipPath === request.clipPath) onStage?.(e.stage);
    });
    try {
      const result = await engine.analyze(
        {
          clipPath: request.clipPath,
          modelPath: request.modelPath,
          controls,
          executionProvider: settings.runtime.executionProvider,
          allowFallback: settings.runtime.allowFallback,
          ...(stored === undefined ? {} : { storedDecodes: stored }),
          ...(request.transcript === undefined ? {} : { transcript: request.transcript }),
          ...(request.features === undefined ? {} : { features: request.features }),
          // A model with a transcript slot reads the clip's sidecar (.txt, .srt, .vtt) if any.
          transcriptSidecar: true,
          // Generated answers where the checkpoint can give them (a greedy_token output).
          ...(settings.panel.answerTokens > 0 && model.optional.greedyToken === true
            ? { answerTokens: settings.panel.answerTokens }
            : {}),
        },
        signal,
      );
      this.analyzed.fire(result);
      return result;
    } finally {
      listener.dispose();
    }
  }

  /**
   * A clip's modality counterfactuals with the settings applied (partners: those given, else
   * chosen automatically from the clip's folder or manifest).
   */
  async counterfactuals(
    request: {
      clipPath: string;
      modelPath: string;
      controls?: Partial<ArControls>;
      audioFrom?: string[];
      framesFrom?: string[];
      /** The transcript typed in the panel (else the clip's sidecar, as in `analyze`). */
      transcript?: GivenTranscript;
    },
    signal: AbortSignal,
  ): Promise<CounterfactualResult> {
    const settings = this.config.current;
    const problem = this.env.modelProblem(request.modelPath, settings);
    if (problem !== undefined) throw new Error(problem);
    const engine = this.get().instance;
    const model = await engine.model(request.modelPath);
    const controls = resolveControls(model.metadata, {
      ...controlsFromSettings(settings.ar, model.metadata),
      ...request.controls,
    });
    return engine.counterfactuals(
      {
        clipPath: request.clipPath,
        modelPath: request.modelPath,
        controls,
        executionProvider: settings.runtime.executionProvider,
        allowFallback: settings.runtime.allowFallback,
        ...(request.audioFrom === undefined ? {} : { audioFrom: request.audioFrom }),
        ...(request.framesFrom === undefined ? {} : { framesFrom: request.framesFrom }),
        ...(request.transcript === undefined ? {} : { transcript: request.transcript }),
        transcriptSidecar: true,
      },
      signal,
    );
  }

  /**
   * The decoder analyses use (same settings and Restricted Mode rule) for benchmark runs, with
   * what identifies its output for a DecodeCache: the ffmpeg executables or the wasm core files.
   */
  async benchmarkDecoder(): Promise<{ decoder: ClipDecoder; identity: Record<string, unknown> }> {
    const { decoder } = this.get();
    if (decoder instanceof SystemFfmpegDecoder) {
      return { decoder, identity: await systemDecoderIdentity(decoder) };
    }
    const files = decoder instanceof WasmFfmpegDecoder ? decoder.files().core : null;
    return { decoder, identity: { backend: decoder.backend, files } };
  }

  /**
   * Runs two subjects on one clip (decoded once, both at the same time: `compareClip`), the
   * settings and Restricted Mode applied to each as in `analyze`.
   */
  async compare(
    clipPath: string,
    subjects: Record<SubjectKey, { modelPath: string; controls?: Partial<ArControls> }>,
    signal: AbortSignal,
  ): Promise<ComparisonResult> {
    const settings = this.config.current;
    for (const k of SUBJECT_KEYS) {
      const problem = this.env.modelProblem(subjects[k].modelPath, settings);
      if (problem !== undefined) throw new Error(problem);
    }
    const engine = this.get().instance;
    const withSettings = async (k: SubjectKey): Promise<CompareSubjectRequest> => {
      const { modelPath, controls } = subjects[k];
      const model = await engine.model(modelPath);
      return {
        modelPath,
        controls: { ...controlsFromSettings(settings.ar, model.metadata), ...controls },
      };
    };
    const comparison = await compareClip(
      engine,
      {
        clipPath,
        subjects: { a: await withSettings('a'), b: await withSettings('b') },
        executionProvider: settings.runtime.executionProvider,
        allowFallback: settings.runtime.allowFallback,
        transcriptSidecar: true,
      },
      signal,
    );
    this.analyzed.fire(comparison.subjects.b.result);
    return comparison;
  }

  /** A knockout, ranking or probe request with the settings and Restricted Mode applied as in `analyze`. */
  private async knockoutBase(request: ClipAnalysisRequest): Promise<KnockoutBase> {
    const settings = this.config.current;
    const problem = this.env.modelProblem(request.modelPath, settings);
    if (problem !== undefined) throw new Error(problem);
    const model = await this.get().instance.model(request.modelPath);
    const controls = resolveControls(model.metadata, {
      ...controlsFromSettings(settings.ar, model.metadata),
      ...request.controls,
    });
    return {
      clipPath: request.clipPath,
      modelPath: request.modelPath,
      controls,
      executionProvider: settings.runtime.executionProvider,
      allowFallback: settings.runtime.allowFallback,
      // The same prompt as the panel's analysis: its typed transcript, else the clip's sidecar.
      ...(request.transcript === undefined ? {} : { transcript: request.transcript }),
      ...(request.features === undefined ? {} : { features: request.features }),
      transcriptSidecar: true,
    };
  }

  /** Contract 1.1: knocks out `heads` on the clip (src/core/engine/knockout.ts). */
  async knockout(
    request: ClipAnalysisRequest & { heads: HeadRef[] },
    signal: AbortSignal,
  ): Promise<KnockoutResult> {
    const base = await this.knockoutBase(request);
    return knockoutHeads(this.get().instance, { ...base, heads: request.heads }, signal);
  }

  /** Contract 1.1: the effect ranking of the top K flagged heads, with progress. */
  async rankHeads(
    request: ClipAnalysisRequest & { k: number; under: KnockoutUnder },
    signal: AbortSignal,
    onProgress: (progress: RankProgress) => void,
  ): Promise<HeadRanking> {
    const base = await this.knockoutBase(request);
    return rankHeads(
      this.get().instance,
      { ...base, k: request.k, under: request.under },
      signal,
      onProgress,
    );
  }

  /** Contract 1.2: the token-imbalance probe at each k (src/core/engine/imbalance.ts). */
  async imbalance(
    request: ClipAnalysisRequest & { repeats: readonly number[] },
    signal: AbortSignal,
    onProgress: (progress: ImbalanceProgress) => void,
  ): Promise<ImbalanceResult> {
    const base = await this.knockoutBase(request);
    return imbalanceProbe(
      this.get().instance,
      { ...base, repeats: request.repeats },
      signal,
      onProgress,
    );
  }

  /**
   * Every execution provider (or those in `only`) tried alone on a checkpoint, and the
   * onnxruntime version.
   */
  async probeProviders(
    modelPath: string,
    signal?: AbortSignal,
    only?: readonly ExecutionProviderName[],
  ): Promise<{ attempts: ProviderAttempt[]; onnxruntime: string }> {
    const engine = this.get().instance;
    const attempts = await engine.probeProviders(modelPath, signal, only);
    return { attempts, onnxruntime: engine.onnxruntimeVersion(modelPath) };
  }

  override dispose(): void {
    this.retire();
    super.dispose();
  }

  private get(): NonNullable<ExtensionEngine['engine']> {
    if (this.engine !== null) return this.engine;
    const settings = this.config.current;
    // Throws a DecodeError naming the setting when a configured ffmpeg does not exist.
    const picked = selectClipDecoder({
      choice: settings.decode.decoder,
      restricted: !settings.trusted,
      system: { ffmpegPath: settings.decode.ffmpegPath ?? undefined },
      wasm: { workerScript: join(this.env.distDir, WASM_WORKER_BUNDLE) },
    });
    this.logger.info(`decoder: ${picked.reason}`);
    const instance = new AnalysisEngine({
      workerScript: join(this.env.distDir, 'core', 'inferenceWorker.js'),
      decoder: new StageReportingDecoder(picked.decoder, (clipPath, stage) =>
        this.stages.fire({ clipPath, stage }),
      ),
      ffmpegPath: settings.trusted ? (settings.decode.ffmpegPath ?? undefined) : undefined,
      toolName: 'mosear-lens (VS Code)',
      toolVersion: this.env.toolVersion,
      onWorkerEvent: (event) => {
        if (event.kind === 'start') this.logger.info(`inference worker ${event.pid} started`);
        else if (event.kind === 'exit') {
          this.logger.info(
            `inference worker ${event.pid} exited (${event.signal ?? `code ${String(event.code)}`})`,
          );
        } else this.logger.info(`worker ${event.pid} ${event.stream}: ${event.text.trimEnd()}`);
      },
    });
    this.engine = {
      instance,
      decoder: picked.decoder,
      decoderKey: decoderKey(settings),
      decoderReason: picked.reason,
    };
    return this.engine;
  }

  /** Drops the engine; its workers end in the background (running analyses fail as disposed). */
  private retire(): void {
    const old = this.engine;
    this.engine = null;
    old?.instance.dispose().catch((error: unknown) => {
      this.logger.error('disposing the analysis engine failed', error);
    });
  }
}

/** What the engine's decoder depends on: a change needs a new engine. */
function decoderKey(settings: MosearSettings): string {
  return JSON.stringify([settings.decode, settings.trusted]);
}

// The extension's settings as one typed object, parsed from `inspect()` results so the same code
// decides what Restricted Mode ignores. Pure (no `vscode` import): unit-tested in plain Node.
import { basename, dirname, resolve } from 'node:path';
import type { ArControls, ArMode, ContractMetadata, RatioKind } from '../protocol/contract';
import { RATIO_KIND_NAMES } from '../protocol/contract';
import {
  isExecutionProviderChoice,
  type ExecutionProviderChoice,
} from '../protocol/executionProviders';
import { DECODER_CHOICES, type DecoderChoice } from '../core/decode/decoderSelection';

/** The `mosear` settings section. */
export const SETTINGS_SECTION = 'mosear';

/** Video file extensions the extension analyses (lower case, no dot). */
export const VIDEO_EXTENSIONS = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v'] as const;

/** Whether a path names a video the extension analyses (case-insensitive extension). */
export function isVideoPath(path: string): boolean {
  const match = /\.([^./\\]+)$/.exec(path);
  const ext = match?.[1]?.toLowerCase();
  return ext !== undefined && (VIDEO_EXTENSIONS as readonly string[]).includes(ext);
}

/** A glob matching the video extensions in any letter case, for `workspace.findFiles`. */
export function videoGlob(): string {
  const anyCase = (ext: string): string =>
    [...ext]
      .map((c) =>
        c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`,
      )
      .join('');
  return `**/*.{${VIDEO_EXTENSIONS.map(anyCase).join(',')}}`;
}

/** `mosear.ar.mode` values; `default` keeps the checkpoint's recommendation. */
export const AR_MODE_SETTING = ['default', 'off', 'ar', 'pai'] as const;
const AR_MODE_VALUE: Record<(typeof AR_MODE_SETTING)[number], ArMode | null> = {
  default: null,
  off: 0,
  ar: 1,
  pai: 2,
};

/** `mosear.ar.ratioKind` values; `default` keeps the checkpoint's recommendation. */
export const RATIO_KIND_SETTING = ['default', ...RATIO_KIND_NAMES] as const;

/** Settings that name executables or models: workspace values are ignored in Restricted Mode. */
export const RESTRICTED_SETTINGS = [
  'checkpoint.path',
  'checkpoint.extraPaths',
  'decode.ffmpegPath',
] as const;

/** AR defaults from settings; null fields come from the checkpoint's `mosear.ar_defaults`. */
export interface ArSettings {
  mode: ArMode | null;
  ratioKind: RatioKind | null;
  /** One τ for every layer, one per layer, or null. */
  tau: number | number[] | null;
  headMargin: number | null;
  alpha: number | null;
  paiAlpha: number | null;
  /** Layers (0-based) where the intervention may act, or null. */
  layers: number[] | null;
}

/** Every `mosear.*` setting, typed and defaulted. */
export interface MosearSettings {
  checkpoint: { path: string | null; extraPaths: string[] };
  runtime: { executionProvider: ExecutionProviderChoice; allowFallback: boolean };
  decode: { decoder: DecoderChoice; ffmpegPath: string | null };
  ar: ArSettings;
  /** Re-run debounce; whether new analyses replace one unpinned preview panel. */
  panel: { debounceMs: number; reusePreviewPanel: boolean; answerTokens: number };
  /** Benchmark evaluations: clips in flight at once (each lane with its own workers). */
  evaluation: { jobs: number };
  /** Whether the workspace is trusted (false: Restricted Mode). */
  trusted: boolean;
}

/** The scopes of one setting, as `WorkspaceConfiguration.inspect` reports them. */
export interface SettingInspection {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Looks up one key of the `mosear` section (e.g. "ar.alpha"). */
export type SettingsSource = (key: string) => SettingInspection | undefined;

/** The settings and the problems met while reading them (for the log). */
export interface SettingsReading {
  settings: MosearSettings;
  /** e.g. 'mosear.ar.alpha: 3 is outside [0, 1]; using the checkpoint default'. */
  problems: string[];
}

/** Lowest and highest `mosear.panel.debounceMs`. */
export const DEBOUNCE_BOUNDS_MS = { min: 0, max: 5000, default: 250 } as const;

/** Lowest and highest `mosear.panel.answerTokens` (the engine's MAX_ANSWER_TOKENS). */
export const ANSWER_TOKENS_BOUNDS = { min: 0, max: 32, default: 0 } as const;

/** Lowest and highest `mosear.evaluation.jobs`. */
export const EVALUATION_JOBS_BOUNDS = { min: 1, max: 16, default: 1 } as const;

/** Reads every setting; in Restricted Mode workspace values of RESTRICTED_SETTINGS are ignored. */
export function readSettings(source: SettingsSource, trusted: boolean): SettingsReading {
  const problems: string[] = [];
  const value = (key: string): unknown => {
    const s = source(key);
    if (s === undefined) return undefined;
    const userOnly = !trusted && (RESTRICTED_SETTINGS as readonly string[]).includes(key);
    if (userOnly) {
      if (s.workspaceFolderValue !== undefined || s.workspaceValue !== undefined) {
        problems.push(`${SETTINGS_SECTION}.${key}: workspace value ignored in Restricted Mode`);
      }
      return s.globalValue ?? s.defaultValue;
    }
    return s.workspaceFolderValue ?? s.workspaceValue ?? s.globalValue ?? s.defaultValue;
  };
  const reject = (key: string, v: unknown, why: string): void => {
    problems.push(`${SETTINGS_SECTION}.${key}: ${JSON.stringify(v)} ${why}; using the default`);
  };
  const path = (key: string): string | null => {
    const v = value(key);
    if (v === undefined || v === null || v === '') return null;
    if (typeof v === 'string') return v;
    reject(key, v, 'is not a path');
    return null;
  };
  const number = (key: string, min: number, max: number): number | null => {
    const v = value(key);
    if (v === undefined || v === null) return null;
    if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
    reject(key, v, `is not a number in [${min}, ${max}]`);
    return null;
  };
  const choice = <T extends string>(key: string, choices: readonly T[], fallback: T): T => {
    const v = value(key);
    if (v === undefined) return fallback;
    const found = choices.find((c) => c === v);
    if (found === undefined) reject(key, v, `is not one of ${choices.join(', ')}`);
    return found ?? fallback;
  };

  const extra = value('checkpoint.extraPaths');
  let extraPaths: string[] = [];
  if (Array.isArray(extra) && extra.every((p) => typeof p === 'string')) {
    extraPaths = extra.filter((p) => p !== '');
  } else if (extra !== undefined && extra !== null) {
    reject('checkpoint.extraPaths', extra, 'is not a list of paths');
  }

  const ep = value('runtime.executionProvider');
  let executionProvider: ExecutionProviderChoice = 'auto';
  if (isExecutionProviderChoice(ep)) executionProvider = ep;
  else if (ep !== undefined) reject('runtime.executionProvider', ep, 'is not a provider');

  const mode = choice('ar.mode', AR_MODE_SETTING, 'default');
  const ratioKind = choice('ar.ratioKind', RATIO_KIND_SETTING, 'default');
  const debounce = number('panel.debounceMs', DEBOUNCE_BOUNDS_MS.min, DEBOUNCE_BOUNDS_MS.max);
  const jobs = number('evaluation.jobs', EVALUATION_JOBS_BOUNDS.min, EVALUATION_JOBS_BOUNDS.max);
  const answer = number('panel.answerTokens', ANSWER_TOKENS_BOUNDS.min, ANSWER_TOKENS_BOUNDS.max);

  return {
    settings: {
      checkpoint: { path: path('checkpoint.path'), extraPaths },
      runtime: { executionProvider, allowFallback: value('runtime.allowFallback') === true },
      decode: {
        decoder: choice('decode.decoder', DECODER_CHOICES, 'auto'),
        ffmpegPath: path('decode.ffmpegPath'),
      },
      ar: {
        mode: AR_MODE_VALUE[mode],
        ratioKind:
          ratioKind === 'default' ? null : (RATIO_KIND_NAMES.indexOf(ratioKind) as RatioKind),
        tau: readTau(value('ar.tau'), (v) => reject('ar.tau', v, 'is not a number or a list')),
        headMargin: number('ar.headMargin', -1, 100),
        alpha: number('ar.alpha', 0, 1),
        paiAlpha: number('ar.paiAlpha', 0, 100),
        layers: readLayers(value('ar.layers'), (v) =>
          reject('ar.layers', v, 'is not a list of layer indices'),
        ),
      },
      panel: {
        debounceMs: debounce ?? DEBOUNCE_BOUNDS_MS.default,
        reusePreviewPanel: value('panel.reusePreviewPanel') !== false,
        answerTokens: answer === null ? ANSWER_TOKENS_BOUNDS.default : Math.floor(answer),
      },
      evaluation: {
        jobs: jobs === null ? EVALUATION_JOBS_BOUNDS.default : Math.floor(jobs),
      },
      trusted,
    },
    problems,
  };
}

function readTau(v: unknown, reject: (v: unknown) => void): number | number[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && isFinite(x))) {
    return [...(v as number[])];
  }
  reject(v);
  return null;
}

function readLayers(v: unknown, reject: (v: unknown) => void): number[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    return [...(v as number[])];
  }
  reject(v);
  return null;
}

/**
 * The controls the settings ask for on one checkpoint: only the fields they set, τ spread over
 * the layers. The engine's `resolveControls` fills the rest and rejects what does not fit.
 */
export function controlsFromSettings(ar: ArSettings, meta: ContractMetadata): Partial<ArControls> {
  const L = meta.architecture.layers;
  const c: Partial<ArControls> = {};
  if (ar.mode !== null) c.mode = ar.mode;
  if (ar.ratioKind !== null) c.ratioKind = ar.ratioKind;
  if (ar.tau !== null)
    c.tau = typeof ar.tau === 'number' ? new Array<number>(L).fill(ar.tau) : ar.tau;
  if (ar.headMargin !== null) c.headMargin = ar.headMargin;
  if (ar.alpha !== null) c.alpha = ar.alpha;
  if (ar.paiAlpha !== null) c.paiAlpha = ar.paiAlpha;
  if (ar.layers !== null) {
    const enabled = ar.layers;
    c.layers = Array.from({ length: L }, (_, l) => (enabled.includes(l) ? 1 : 0));
  }
  return c;
}

/** The `mosear.ar.*` values that store these controls as workspace defaults (key → value). */
export function settingsFromControls(controls: ArControls): [string, unknown][] {
  const mode = AR_MODE_SETTING.find((m) => AR_MODE_VALUE[m] === controls.mode) ?? 'default';
  return [
    ['ar.mode', mode],
    ['ar.ratioKind', RATIO_KIND_NAMES[controls.ratioKind]],
    ['ar.tau', [...controls.tau]],
    ['ar.headMargin', controls.headMargin],
    ['ar.alpha', controls.alpha],
    ['ar.paiAlpha', controls.paiAlpha],
    ['ar.layers', controls.layers.flatMap((on, l) => (on === 1 ? [l] : []))],
  ];
}

/** The AR settings as the panel's `workspaceDefaults` (null when none is set). */
export function workspaceDefaultsOf(
  ar: ArSettings,
  meta: ContractMetadata | null,
): Partial<ArControls> | null {
  if (meta === null) return null;
  const c = controlsFromSettings(ar, meta);
  return Object.keys(c).length === 0 ? null : c;
}

/** The message Restricted Mode gives for a checkpoint it will not run, or undefined. */
export function restrictedModelProblem(
  modelPath: string,
  shippedDir: string,
  trusted: boolean,
): string | undefined {
  if (trusted || dirname(resolve(modelPath)) === resolve(shippedDir)) return undefined;
  return (
    `Restricted Mode: only the checkpoints shipped with MoSEAR Lens run in an untrusted ` +
    `workspace, not "${basename(modelPath)}". Trust the workspace to use other checkpoints.`
  );
}

// `mosear-lens analyze` options → the engine's request. The intervention options mirror the
// contract's control inputs one to one; what is not given comes from the checkpoint's defaults.
import type { TokenStorage } from '../protocol/tokenRows';
import type { ArControls, ArMode, ContractMetadata, RatioKind } from '../protocol/contract';
import { RATIO_KIND_NAMES } from '../protocol/contract';
import { MAX_ANSWER_TOKENS } from '../protocol/analysisResult';
import { EXECUTION_PROVIDERS, type ExecutionProviderChoice } from '../protocol/executionProviders';
import { defaultControls } from '../shared/controls';
import { DECODER_CHOICES, type DecoderChoice } from '../core/decode/decoderSelection';
import type { GivenTranscript } from '../core/engine/transcriptSource';
import type { GivenFeatures } from '../core/engine/featureSource';
import {
  flag,
  parseChoice,
  parseCommandLine,
  parseIndex,
  parseNumber,
  repeated,
  single,
  type CommandOptions,
  type ParsedCommandLine,
} from './commandLine';
import { UsageError } from './exitCodes';

/** The options `analyze` accepts. */
export const ANALYZE_OPTIONS = {
  model: { type: 'string' },
  ep: { type: 'string' },
  'allow-fallback': { type: 'boolean' },
  mode: { type: 'string' },
  'ratio-kind': { type: 'string' },
  tau: { type: 'string' },
  margin: { type: 'string' },
  alpha: { type: 'string' },
  'pai-alpha': { type: 'string' },
  layers: { type: 'string' },
  head: { type: 'string', multiple: true },
  json: { type: 'string' },
  html: { type: 'string' },
  tokens: { type: 'string' },
  ffmpeg: { type: 'string' },
  decoder: { type: 'string' },
  'no-thumbnails': { type: 'boolean' },
  transcript: { type: 'string' },
  'face-features': { type: 'string' },
  'video-features': { type: 'string' },
  'no-sidecar': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
} satisfies CommandOptions;

const MODES = ['off', 'ar', 'pai'] as const;

/** Intervention edits as typed on the command line, before the checkpoint is known. */
export interface ControlEdits {
  mode?: ArMode;
  ratioKind?: RatioKind;
  /** One value for every layer, or one per layer. */
  tau?: number[];
  headMargin?: number;
  alpha?: number;
  paiAlpha?: number;
  /** Layer indices (0-based) where the intervention may act, or every layer. */
  layers?: number[] | 'all';
  heads: { layer: number; head: number; override: -1 | 0 | 1 }[];
}

/** A parsed `analyze` command line. */
export interface AnalyzeOptions {
  clip: string;
  model: string | undefined;
  executionProvider: ExecutionProviderChoice;
  allowFallback: boolean;
  edits: ControlEdits;
  json: string | undefined;
  /** Write a self-contained HTML report of the result here. */
  html: string | undefined;
  /** Which token rows the written files keep (`--tokens`, default every head's). */
  tokens: TokenStorage;
  ffmpeg: string | undefined;
  /** Which clip decoder: auto (system ffmpeg when found, else the bundled wasm), system, wasm. */
  decoder: DecoderChoice;
  thumbnails: boolean;
  /** Contract 1.1: `--transcript <text>`, the prompt's `transcript` slot; absent: a sidecar. */
  transcript: GivenTranscript | undefined;
  /** `--face-features` / `--video-features`: FaceMAE / VideoMAE `.npy` files (CONTRACT.md §1b). */
  features: GivenFeatures;
  /** Read transcript and feature sidecars next to the clip when none is given (`--no-sidecar`: never). */
  sidecar: boolean;
  quiet: boolean;
  help: boolean;
  /** The summary lists every flagged head, not the top ten (`--all-heads`). */
  allHeads: boolean;
  /** Write the result as a `.mosear.npz` here (`--npz`). */
  npz: string | undefined;
  /** Greedy answer tokens to generate under off and the intervention (`--answer-tokens`, 0: none). */
  answerTokens: number;
}

/** `--html` takes a file (the report is one big page, never stdout). */
export function htmlPath(value: string | undefined): string | undefined {
  if (value === '-' || value === '')
    throw new UsageError('--html needs a file name, e.g. --html report.html');
  return value;
}

/** The intervention options (`--mode`, `--tau` …; with `prefix`, e.g. `--b-mode`) as edits. */
export function parseControlEdits(parsed: ParsedCommandLine, prefix = ''): ControlEdits {
  const edits: ControlEdits = { heads: [] };
  const mode = single(parsed, `${prefix}mode`);
  if (mode !== undefined)
    edits.mode = MODES.indexOf(parseChoice(mode, `${prefix}mode`, MODES)) as ArMode;
  const kind = single(parsed, `${prefix}ratio-kind`);
  if (kind !== undefined) {
    edits.ratioKind = RATIO_KIND_NAMES.indexOf(
      parseChoice(kind, `${prefix}ratio-kind`, RATIO_KIND_NAMES),
    ) as RatioKind;
  }
  const tau = single(parsed, `${prefix}tau`);
  if (tau !== undefined) edits.tau = tau.split(',').map((v) => parseNumber(v, `${prefix}tau`));
  const numberOption = (name: string): number | undefined => {
    const text = single(parsed, `${prefix}${name}`);
    return text === undefined ? undefined : parseNumber(text, `${prefix}${name}`);
  };
  const margin = numberOption('margin');
  if (margin !== undefined) edits.headMargin = margin;
  const alpha = numberOption('alpha');
  if (alpha !== undefined) {
    if (alpha < 0 || alpha > 1)
      throw new UsageError(`--${prefix}alpha: ${alpha} is outside [0, 1]`);
    edits.alpha = alpha;
  }
  const paiAlpha = numberOption('pai-alpha');
  if (paiAlpha !== undefined) edits.paiAlpha = paiAlpha;
  const layers = single(parsed, `${prefix}layers`);
  if (layers !== undefined) {
    edits.layers =
      layers === 'all'
        ? 'all'
        : layers === 'none' || layers === ''
          ? []
          : layers.split(',').map((v) => parseIndex(v, `${prefix}layers`));
  }
  for (const text of repeated(parsed, `${prefix}head`)) {
    const match = /^(\d+):(\d+)=(on|off|auto)$/.exec(text.trim());
    if (match === null) {
      throw new UsageError(
        `--${prefix}head: "${text}" is not LAYER:HEAD=on|off|auto (e.g. --head 1:2=on)`,
      );
    }
    const word = match[3] as 'on' | 'off' | 'auto';
    edits.heads.push({
      layer: Number(match[1]),
      head: Number(match[2]),
      override: word === 'on' ? 1 : word === 'off' ? -1 : 0,
    });
  }
  return edits;
}

/** `analyze`'s own options beyond those `compare` shares. */
const ANALYZE_ONLY_OPTIONS = {
  ...ANALYZE_OPTIONS,
  npz: { type: 'string' },
  'all-heads': { type: 'boolean' },
  'answer-tokens': { type: 'string' },
} satisfies CommandOptions;

const TOKEN_STORAGE = ['all', 'mean', 'none'] as const;

/** Parses the arguments after `analyze`. */
export function parseAnalyzeOptions(argv: readonly string[]): AnalyzeOptions {
  const parsed = parseCommandLine(argv, ANALYZE_ONLY_OPTIONS);
  return {
    ...parseRunOptions(parsed, 'analyze'),
    model: single(parsed, 'model'),
    npz: single(parsed, 'npz'),
    allHeads: flag(parsed, 'all-heads'),
    answerTokens: answerTokens(single(parsed, 'answer-tokens')),
  };
}

/** `--answer-tokens K`: 0 (the default, none) to MAX_ANSWER_TOKENS. */
function answerTokens(text: string | undefined): number {
  if (text === undefined) return 0;
  const k = parseIndex(text, 'answer-tokens');
  if (k > MAX_ANSWER_TOKENS) {
    throw new UsageError(`--answer-tokens: at most ${MAX_ANSWER_TOKENS}, got ${k}`);
  }
  return k;
}

/** `--transcript <text>` as the prompt's `transcript` slot (CONTRACT.md §3.1). */
function cliTranscript(text: string | undefined): GivenTranscript | undefined {
  return text === undefined ? undefined : { text, source: 'cli' };
}

/** `--face-features F.npy --video-features F.npy` (relative to the working directory). */
function cliFeatures(face: string | undefined, video: string | undefined): GivenFeatures {
  return {
    ...(face === undefined ? {} : { faceMae: { path: face, source: 'cli' as const } }),
    ...(video === undefined ? {} : { videoMae: { path: video, source: 'cli' as const } }),
  };
}

/** What `analyze` and `compare` share: one clip, the edits, the provider, decoder and outputs. */
export function parseRunOptions(
  parsed: ParsedCommandLine,
  command: string,
): Omit<AnalyzeOptions, 'model' | 'allHeads' | 'npz' | 'answerTokens'> {
  const help = flag(parsed, 'help');
  if (!help && parsed.positionals.length !== 1) {
    throw new UsageError(
      parsed.positionals.length === 0
        ? `${command} needs a clip: mosear-lens ${command} <clip> [options]`
        : `${command} takes one clip, got ${parsed.positionals.length}: ${parsed.positionals.join(', ')}`,
    );
  }
  const ep = single(parsed, 'ep') ?? 'auto';
  return {
    clip: parsed.positionals[0] ?? '',
    executionProvider: parseChoice(ep, 'ep', ['auto', ...EXECUTION_PROVIDERS] as const),
    allowFallback: flag(parsed, 'allow-fallback'),
    edits: parseControlEdits(parsed),
    json: single(parsed, 'json'),
    html: htmlPath(single(parsed, 'html')),
    tokens: parseChoice(single(parsed, 'tokens') ?? 'all', 'tokens', TOKEN_STORAGE),
    ffmpeg: single(parsed, 'ffmpeg'),
    decoder: parseChoice(single(parsed, 'decoder') ?? 'auto', 'decoder', DECODER_CHOICES),
    thumbnails: !flag(parsed, 'no-thumbnails'),
    transcript: cliTranscript(single(parsed, 'transcript')),
    features: cliFeatures(single(parsed, 'face-features'), single(parsed, 'video-features')),
    sidecar: !flag(parsed, 'no-sidecar'),
    quiet: flag(parsed, 'quiet'),
    help,
  };
}

/**
 * The full controls for a checkpoint: its `mosear.ar_defaults` with the edits applied. Throws
 * UsageError when an edit does not fit the checkpoint (τ count, layer or head out of range).
 */
export function controlsFromEdits(meta: ContractMetadata, edits: ControlEdits): ArControls {
  const { layers: L, heads: Hh } = meta.architecture;
  const c = defaultControls(meta);
  if (edits.mode !== undefined) c.mode = edits.mode;
  if (edits.ratioKind !== undefined) c.ratioKind = edits.ratioKind;
  if (edits.tau !== undefined) {
    if (edits.tau.length === 1) c.tau = new Array<number>(L).fill(edits.tau[0] as number);
    else if (edits.tau.length === L) c.tau = [...edits.tau];
    else {
      throw new UsageError(
        `--tau: give one value or ${L} (one per layer of ${meta.checkpoint.name}), got ${edits.tau.length}`,
      );
    }
  }
  if (edits.headMargin !== undefined) c.headMargin = edits.headMargin;
  if (edits.alpha !== undefined) c.alpha = edits.alpha;
  if (edits.paiAlpha !== undefined) c.paiAlpha = edits.paiAlpha;
  if (edits.layers !== undefined) {
    const enabled = edits.layers;
    if (enabled !== 'all') {
      for (const l of enabled) {
        if (l >= L)
          throw new UsageError(`--layers: layer ${l} does not exist (layers are 0…${L - 1})`);
      }
    }
    c.layers = Array.from({ length: L }, (_, l) =>
      enabled === 'all' || enabled.includes(l) ? 1 : 0,
    );
  }
  for (const { layer, head, override } of edits.heads) {
    if (layer >= L || head >= Hh) {
      throw new UsageError(
        `--head ${layer}:${head}: no such head (layers 0…${L - 1}, heads 0…${Hh - 1})`,
      );
    }
    (c.headOverride[layer] as number[])[head] = override;
  }
  return c;
}

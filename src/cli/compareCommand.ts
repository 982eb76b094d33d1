// `mosear-lens compare <clip>`: two checkpoints (or one checkpoint under two settings) on one
// clip. The analyze options set both subjects; `--b-<option>` overrides one for subject B only.
// Prints both summaries' essentials side by side and writes the ComparisonResult as JSON and as a
// self-contained HTML report of the Compare panel.
import { comparisonJson, comparisonWithTokenStorage } from '../core/results/resultFile';
import type { AnalysisResult } from '../protocol/analysisResult';
import type { ComparisonResult, SubjectKey } from '../protocol/comparisonResult';
import { SUBJECT_KEYS } from '../protocol/comparisonResult';
import type { AnalysisEngine } from '../core/engine/analysisEngine';
import { compareClip } from '../core/engine/compareClip';
import { buildCompareReport, COMPARE_BUNDLE } from '../core/reports/compareReport';
import type { DecoderChoice } from '../core/decode/decoderSelection';
import { describeControls } from './analysisReport';
import {
  ANALYZE_OPTIONS,
  controlsFromEdits,
  parseControlEdits,
  parseRunOptions,
  type AnalyzeOptions,
  type ControlEdits,
} from './analyzeOptions';
import { parseCommandLine, repeated, type CommandOptions } from './commandLine';
import { UsageError } from './exitCodes';
import { readPanelBundle, WEBVIEW_BUNDLE_DIR } from './htmlReportFile';
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';
import { isOn } from '../shared/onOff';

/** The intervention options B may override (`--b-mode`, `--b-tau` …). */
const B_OPTIONS: CommandOptions = Object.fromEntries(
  ['mode', 'ratio-kind', 'tau', 'margin', 'alpha', 'pai-alpha', 'layers', 'head'].map((name) => [
    `b-${name}`,
    { type: 'string', multiple: name === 'head' },
  ]),
);

/** The options `compare` accepts: analyze's (with `--model` up to twice) and B's overrides. */
export const COMPARE_OPTIONS: CommandOptions = {
  ...ANALYZE_OPTIONS,
  model: { type: 'string', multiple: true },
  ...B_OPTIONS,
};

/** The compare lines of `--help`. */
export const COMPARE_USAGE = `compare options (mosear-lens compare <clip> [options]):
  --model <file.onnx>       give twice for two checkpoints (A, then B); once for one checkpoint
                            under two settings (then set B apart with --b-… options); none: the two
                            shipped checkpoints (emotion-llama-tiny as A, mosear-tiny as B)
  the analyze options above set both subjects (--ep, --mode, --tau, --json, --html, --tokens …)
  --b-mode, --b-ratio-kind, --b-tau, --b-margin, --b-alpha, --b-pai-alpha, --b-layers, --b-head
                            the same intervention options for subject B only
  --json <file>             write the ComparisonResult (both AnalysisResults, token rows as base64
                            float32 as --tokens says); "-" for stdout
  --html <file>             a self-contained HTML report of the Compare panel`;

/** A parsed `compare` command line: analyze's options, with up to two models and B's edits. */
export interface CompareOptions extends Omit<
  AnalyzeOptions,
  'model' | 'allHeads' | 'npz' | 'answerTokens'
> {
  /** Zero, one or two checkpoints as given. */
  models: string[];
  /** Subject B's edits: the shared ones with the `--b-` options on top. */
  editsB: ControlEdits;
}

/** Parses the arguments after `compare`. */
export function parseCompareOptions(argv: readonly string[]): CompareOptions {
  const parsed = parseCommandLine(argv, COMPARE_OPTIONS);
  const shared = parseRunOptions(parsed, 'compare');
  const models = repeated(parsed, 'model');
  if (models.length > 2) {
    throw new UsageError(`compare takes two --model options at most, got ${models.length}`);
  }
  const overrides = parseControlEdits(parsed, 'b-');
  const hasOverrides = Object.keys(B_OPTIONS).some((name) => parsed.values[name] !== undefined);
  if (!shared.help && models.length === 1 && !hasOverrides) {
    throw new UsageError(
      'one --model compares the checkpoint under two settings: set B apart with a --b-… option (e.g. --b-mode off), or give a second --model',
    );
  }
  const { edits } = shared;
  const editsB: ControlEdits = {
    ...edits,
    ...Object.fromEntries(
      Object.entries(overrides).filter(([k, v]) => k !== 'heads' && v !== undefined),
    ),
    heads: [...edits.heads, ...overrides.heads],
  };
  return { ...shared, models, editsB };
}

const flaggedHeads = (r: AnalysisResult): string => {
  const heads = r.intervention.arFlags.flatMap((row, l) =>
    row.flatMap((f, h) => (isOn(f) ? [`${l}:${h}`] : [])),
  );
  if (r.settings.controls.mode === 0) return 'none (no intervention)';
  return heads.length === 0 ? 'none' : `${heads.length}: ${heads.join(' ')}`;
};

/** The side-by-side summary `compare` prints, ending with a newline. */
export function formatComparison(c: ComparisonResult): string {
  const [a, b] = SUBJECT_KEYS.map((k) => c.subjects[k].result) as [AnalysisResult, AnalysisResult];
  const col = (f: (r: AnalysisResult, k: SubjectKey) => string): string[] => [f(a, 'a'), f(b, 'b')];
  const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;
  const rows: string[][] = [
    ['', `A: ${c.subjects.a.label}`, `B: ${c.subjects.b.label}`],
    ['model', ...col((r) => r.model.fileName)],
    [
      'prediction',
      ...col(
        (r) => `${r.intervention.prediction.label} ${pct(r.intervention.prediction.probability)}`,
      ),
    ],
    [
      'without AR',
      ...col((r) => `${r.baseline.prediction.label} ${pct(r.baseline.prediction.probability)}`),
    ],
    ['flagged', ...col(flaggedHeads)],
    ['runtime', ...col((r) => `${r.runtime.provider}, ${r.runtime.intraOpNumThreads} thread(s)`)],
  ];
  const layers = Math.max(a.intervention.uapAfter.length, b.intervention.uapAfter.length);
  for (let l = 0; l < layers; l++) {
    rows.push([
      l === 0 ? 'UAP V/(A+V)' : '',
      ...col((r) => {
        const u = r.intervention.uapAfter[l];
        return u === undefined ? '' : `layer ${l}: ${u.visualOfAV.toFixed(3)}`;
      }),
    ]);
  }
  const settings = SUBJECT_KEYS.map(
    (k) => `setting ${k.toUpperCase()}  ${describeControls(c.subjects[k].controls)}`,
  );
  const decodes = c.timings.clipDecodes;
  const label = (r: AnalysisResult) => safe(r.intervention.prediction.label);
  return terminalLines(
    [
      `clip       ${safe(c.clip.path)}`,
      `comparing  ${c.comparing === 'checkpoints' ? 'two checkpoints' : 'one checkpoint under two settings'}; ${decodes === 0 ? 'the clip came from the decode cache' : `the clip was decoded ${decodes === 1 ? 'once' : `${decodes} times`}`}; ${c.timings.totalMs.toFixed(0)} ms in all`,
      ...settings,
      '',
      textTable(rows),
      '',
      a.intervention.prediction.label === b.intervention.prediction.label
        ? `both predict ${label(a)}`
        : `the predictions differ: A ${label(a)}, B ${label(b)}`,
    ].join('\n') + '\n',
  );
}

/** The Compare panel's report HTML for a comparison, from the bundle in `bundleDir`. */
export async function compareReportFor(
  comparison: ComparisonResult,
  bundleDir: string = WEBVIEW_BUNDLE_DIR,
): Promise<string> {
  const bundle = await readPanelBundle(COMPARE_BUNDLE, bundleDir);
  return buildCompareReport(
    comparison,
    bundle,
    `a report written by mosear-lens on ${comparison.createdAt.slice(0, 10)}; the AR flag preview works, re-runs need the extension`,
  );
}

/** What `compare` needs from main: the engine factory, the default checkpoints, output. */
export interface CompareDeps {
  engine(
    ffmpeg: string | undefined,
    decoder: DecoderChoice,
    log?: (line: string) => void,
  ): AnalysisEngine;
  /** A and B when no --model is given. */
  defaultModels: [string, string];
  writeOutput(path: string, text: string | Uint8Array): Promise<void>;
  usage: string;
}

/** Runs `compare`. */
export async function compareCommand(
  argv: string[],
  signal: AbortSignal,
  deps: CompareDeps,
): Promise<void> {
  const options = parseCompareOptions(argv);
  if (options.help) {
    console.log(deps.usage);
    return;
  }
  const toStdout = options.json === '-';
  const talk = !options.quiet && !toStdout;
  const engine = deps.engine(
    options.ffmpeg,
    options.decoder,
    talk ? (line) => console.error(line) : undefined,
  );
  try {
    const [pathA, pathB] =
      options.models.length === 0
        ? deps.defaultModels
        : [options.models[0] as string, options.models[1] ?? (options.models[0] as string)];
    const [modelA, modelB] = await Promise.all([engine.model(pathA), engine.model(pathB)]);
    const comparison = await compareClip(
      engine,
      {
        clipPath: options.clip,
        subjects: {
          a: { modelPath: pathA, controls: controlsFromEdits(modelA.metadata, options.edits) },
          b: { modelPath: pathB, controls: controlsFromEdits(modelB.metadata, options.editsB) },
        },
        executionProvider: options.executionProvider,
        allowFallback: options.allowFallback,
        thumbnails: options.thumbnails,
        ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
        transcriptSidecar: options.sidecar,
        features: options.features,
      },
      signal,
    );
    if (talk) process.stdout.write(formatComparison(comparison));
    if (options.json !== undefined) {
      await deps.writeOutput(options.json, comparisonJson(comparison, options.tokens));
      if (talk) console.log(`\nwrote ${options.json}`);
    }
    if (options.html !== undefined) {
      await deps.writeOutput(
        options.html,
        await compareReportFor(comparisonWithTokenStorage(comparison, options.tokens)),
      );
      if (talk) console.log(`wrote ${options.html}`);
    }
  } finally {
    await engine.dispose();
  }
}

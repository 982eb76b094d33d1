// `mosear-lens counterfactual <clip>`: the clip as it is and with a modality removed or taken from
// another clip, under off and under the intervention (the analyze options set it), with the
// verdict from the swaps. Prints a compact table; `--json` writes the CounterfactualResult.
import type {
  CounterfactualResult,
  CounterfactualVariant,
  Verdict,
  VariantOutcome,
} from '../protocol/counterfactualResult';
import type { AnalysisEngine } from '../core/engine/analysisEngine';
import type { DecoderChoice } from '../core/decode/decoderSelection';
import { describeControls } from './analysisReport';
import { ANALYZE_OPTIONS, controlsFromEdits, parseRunOptions } from './analyzeOptions';
import { parseCommandLine, repeated, single, type CommandOptions } from './commandLine';
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';

/** analyze's options a counterfactual has no use for. */
const NOT_FOR_COUNTERFACTUALS = new Set([
  'html',
  'no-thumbnails',
  'face-features',
  'video-features',
]);

/**
 * The options `counterfactual` accepts: analyze's intervention and run options (not the feature
 * files: its variants feed FaceMAE / VideoMAE zeros), and partners.
 */
export const COUNTERFACTUAL_OPTIONS: CommandOptions = {
  ...Object.fromEntries(
    Object.entries(ANALYZE_OPTIONS).filter(([name]) => !NOT_FOR_COUNTERFACTUALS.has(name)),
  ),
  'audio-from': { type: 'string', multiple: true },
  'frames-from': { type: 'string', multiple: true },
  manifest: { type: 'string' },
};

/** The counterfactual lines of `--help`. */
export const COUNTERFACTUAL_USAGE = `counterfactual options (mosear-lens counterfactual <clip> [options]):
      the clip as it is, with its audio silenced or taken from another clip, its frames grey
      (RGB 128) or taken from another clip, and (contract-1.1 models with a transcript slot)
      without its transcript, each under off and under the intervention the analyze options set
      (default: the checkpoint's); the verdict (audio-decided, video-decided, both, neither)
      comes from the swaps only (the rule is printed)
    --audio-from <clip>     swap in this clip's audio (repeatable; default: automatic)
    --frames-from <clip>    swap in this clip's frames (repeatable; default: automatic)
    --manifest <file|dir>   choose partners automatically from this labelled manifest: the first
                            consistent clip of each other label (default: the clip's folder's
                            manifest, else the clips that follow it in its folder by name)
    --model, --ep, --mode, --tau, … --transcript, --json <file>, --quiet: as for analyze`;

/** A parsed `counterfactual` command line. */
export interface CounterfactualOptions extends ReturnType<typeof parseRunOptions> {
  model: string | undefined;
  audioFrom: string[];
  framesFrom: string[];
  manifest: string | undefined;
}

/** Parses the arguments after `counterfactual`. */
export function parseCounterfactualOptions(argv: readonly string[]): CounterfactualOptions {
  const parsed = parseCommandLine(argv, COUNTERFACTUAL_OPTIONS);
  return {
    ...parseRunOptions(parsed, 'counterfactual'),
    model: single(parsed, 'model'),
    audioFrom: repeated(parsed, 'audio-from'),
    framesFrom: repeated(parsed, 'frames-from'),
    manifest: single(parsed, 'manifest'),
  };
}

const VARIANT_WORDS: Record<CounterfactualVariant['kind'], string> = {
  original: 'as it is',
  'audio-silenced': 'audio silenced',
  'audio-swapped': 'audio from',
  'frames-grey': 'frames grey',
  'frames-swapped': 'frames from',
  'transcript-removed': 'no transcript',
};

function outcomeCells(o: VariantOutcome | null): string[] {
  if (o === null) return ['—', '', ''];
  const p = o.probabilities[o.index] ?? NaN;
  const change = o.answerLogProbChange;
  return [
    `${o.label}${o.moved ? ' *' : ''}`,
    `${(p * 100).toFixed(1)}%`,
    `${change >= 0 ? '+' : ''}${change.toFixed(3)}`,
  ];
}

function verdictLine(run: string, v: Verdict): string {
  return (
    `verdict (${run}): ${v.verdict} — audio swaps moved the answer ${v.audioSwapsMoved}/${v.audioSwaps}, ` +
    `frames swaps ${v.framesSwapsMoved}/${v.framesSwaps}`
  );
}

/** The table and verdict `counterfactual` prints, ending with a newline. */
export function formatCounterfactuals(result: CounterfactualResult): string {
  const modeWord = ['off', 'AR', 'PAI'][result.controls.mode] ?? 'intervention';
  const partnerLabel = new Map(result.partners.map((p) => [p.path, p]));
  const rows: string[][] = [
    ['variant', 'partner', 'off', 'p', 'Δ log p', modeWord, 'p', 'Δ log p'],
  ];
  for (const variant of result.variants) {
    const partner = variant.partner === undefined ? undefined : partnerLabel.get(variant.partner);
    const partnerText =
      partner === undefined
        ? ''
        : `${partner.name}${partner.label === null ? '' : ` (${partner.label})`}`;
    rows.push([
      VARIANT_WORDS[variant.kind],
      partnerText,
      ...outcomeCells(variant.off),
      ...outcomeCells(variant.intervention),
    ]);
  }
  const partners = result.partners.map((p) => `  ${safe(p.name)} (${p.replaces}): ${safe(p.how)}`);
  return terminalLines(
    [
      `clip      ${safe(result.clip.path)}`,
      `model     ${safe(result.model.fileName)}; intervention ${describeControls(result.controls)}`,
      '',
      textTable(rows, ['left', 'left', 'left', 'right', 'right', 'left', 'right', 'right']),
      '',
      '* the variant moves the answer (it changes, or its log-probability drops by ≥ ln 2)',
      `grey frames: ${result.greyMeaning}`,
      'partners:',
      ...partners,
      ...result.notes.map((n) => `note: ${safe(n)}`),
      '',
      verdictLine('off', result.verdict.off),
      ...(result.controls.mode === 0 ? [] : [verdictLine(modeWord, result.verdict.intervention)]),
      `rule: ${result.rule.text}`,
    ].join('\n') + '\n',
  );
}

/** What `counterfactual` needs from main. */
export interface CounterfactualDeps {
  engine(
    ffmpeg: string | undefined,
    decoder: DecoderChoice,
    log?: (line: string) => void,
  ): AnalysisEngine;
  defaultModel: string;
  writeOutput(path: string, text: string): Promise<void>;
  usage: string;
}

/** Runs `counterfactual`. */
export async function counterfactualCommand(
  argv: string[],
  signal: AbortSignal,
  deps: CounterfactualDeps,
): Promise<void> {
  const options = parseCounterfactualOptions(argv);
  if (options.help) {
    console.log(deps.usage);
    return;
  }
  const toStdout = options.json === '-';
  const talk = !options.quiet && !toStdout;
  const engine = deps.engine(
    options.ffmpeg,
    options.decoder,
    talk ? (l) => console.error(l) : undefined,
  );
  try {
    const modelPath = options.model ?? deps.defaultModel;
    const model = await engine.model(modelPath);
    const result = await engine.counterfactuals(
      {
        clipPath: options.clip,
        modelPath,
        controls: controlsFromEdits(model.metadata, options.edits),
        executionProvider: options.executionProvider,
        allowFallback: options.allowFallback,
        ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
        transcriptSidecar: options.sidecar,
        ...(options.audioFrom.length === 0 ? {} : { audioFrom: options.audioFrom }),
        ...(options.framesFrom.length === 0 ? {} : { framesFrom: options.framesFrom }),
        ...(options.manifest === undefined ? {} : { manifest: options.manifest }),
      },
      signal,
    );
    if (talk) process.stdout.write(formatCounterfactuals(result));
    if (options.json !== undefined) {
      await deps.writeOutput(options.json, `${JSON.stringify(result)}\n`);
      if (talk) console.log(`\nwrote ${options.json}`);
    }
  } finally {
    await engine.dispose();
  }
}

// `mosear-lens imbalance <clip>`: the token-imbalance probe (the paper's Fig. 3c; issue 18 item
// 5) through contract 1.2's `audio_repeat` (CONTRACT.md §1c). Analyses the clip with its audio
// token repeated k times for each --k and prints, per k, under off and under the intervention:
// the prediction, every label's probability, the change in log p of k = 1's answer, and the
// audio UAP per layer (|A| counts all k copies).
import type { AnalysisEngine } from '../core/engine/analysisEngine';
import { EngineError } from '../core/engine/engineError';
import { imbalanceProbe } from '../core/engine/imbalance';
import type { DecoderChoice } from '../core/decode/decoderSelection';
import {
  DEFAULT_AUDIO_REPEATS,
  IMBALANCE_UNAVAILABLE,
  parseAudioRepeats,
  type ImbalanceResult,
  type ImbalanceRun,
  type ImbalanceSummary,
} from '../protocol/imbalance';
import { imbalanceRows } from '../core/reports/imbalanceMarkdown';
import { describeControls } from './analysisReport';
import { ANALYZE_OPTIONS, controlsFromEdits, parseRunOptions } from './analyzeOptions';
import { parseCommandLine, single, type CommandOptions } from './commandLine';
import { UsageError } from './exitCodes';
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';

export const IMBALANCE_OPTIONS: CommandOptions = {
  ...ANALYZE_OPTIONS,
  k: { type: 'string' },
};

/** The imbalance lines of `--help`. */
export const IMBALANCE_USAGE = `imbalance options (mosear-lens imbalance <clip> --model M [options]; contract-1.2 checkpoints
with the optional audio_repeat input, e.g. the shipped ones):
  --k <k,k,…>               how many times to repeat the audio token (default ${DEFAULT_AUDIO_REPEATS.join(',')}; 1 is
                            always run; at most the model's mosear.audio.repeat_max)
  the analyze options above set the model, the intervention, the provider and the decoder;
  --json <file> writes the probe as JSON ("-" for stdout)`;

export interface ImbalanceDependencies {
  engine: (ffmpeg?: string, decoder?: DecoderChoice) => AnalysisEngine;
  defaultModel: string;
  writeOutput: (path: string, text: string) => Promise<void>;
  usage: string;
}

/** Layers shown one column each; more are summarised as first, mean and last. */
const MAX_LAYER_COLUMNS = 8;

const fixed = (v: number, digits = 3): string => v.toFixed(digits);
const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;

function uapColumns(layers: number): { head: string[]; cells: (r: ImbalanceRun) => string[] } {
  if (layers <= MAX_LAYER_COLUMNS) {
    return {
      head: Array.from({ length: layers }, (_, l) => `L${l}`),
      cells: (r) => r.audioUap.map((u) => fixed(u)),
    };
  }
  return {
    head: ['L0', 'mean', `L${layers - 1}`],
    cells: (r) => [
      fixed(r.audioUap[0] ?? NaN),
      fixed(r.audioUap.reduce((a, b) => a + b, 0) / r.audioUap.length),
      fixed(r.audioUap[layers - 1] ?? NaN),
    ],
  };
}

/** Two tables (off, the intervention): one row per k. */
export function formatImbalance(r: ImbalanceResult, interventionName: string): string[] {
  const label = (i: number): string => r.labels[i] ?? String(i);
  const layers = r.points[0]?.off.audioUap.length ?? 0;
  const uap = uapColumns(layers);
  const out: string[] = [];
  const runs: ['off' | 'intervention', string][] = [['off', 'off']];
  if (r.controls.mode !== 0) runs.push(['intervention', interventionName]);
  for (const [key, name] of runs) {
    const answer = r.answer[key];
    const rows = [
      ['k', 'N', 'prediction', `Δ log p(${label(answer)})`, ...r.labels.map((l) => `p(${l})`)],
      ...r.points.map((p) => [
        String(p.k),
        String(p.tokens),
        `${label(p[key].prediction)}${p[key].prediction === answer ? '' : ' (changed)'}`,
        signed(p[key].answerLogProbChange),
        ...p[key].probabilities.map((q) => fixed(q)),
      ]),
    ];
    const uapRows = [
      ['k', ...uap.head],
      ...r.points.map((p) => [String(p.k), ...uap.cells(p[key])]),
    ];
    out.push(
      '',
      `${name}: k = 1 answers ${safe(label(answer))}`,
      textTable(rows, [
        'right',
        'right',
        'left',
        'right',
        ...r.labels.map(() => 'right' as const),
      ]).replace(/^/gm, '  '),
      '',
      `${name}: audio UAP per layer (head-averaged share of the answer row on all k audio copies)`,
      textTable(uapRows, ['right', ...uap.head.map(() => 'right' as const)]).replace(/^/gm, '  '),
    );
  }
  return out;
}

/** The tables `eval --audio-repeat` prints: per checkpoint, accuracy per subset and the gap. */
export function formatImbalanceSummary(summary: ImbalanceSummary): string {
  const lines = ['', 'token imbalance (audio token repeated k times, off): accuracy % and gap'];
  for (const c of summary.checkpoints) {
    const rows = imbalanceRows(c);
    lines.push(
      '',
      c.name,
      textTable(
        rows,
        rows[0]?.map(() => 'right' as const),
      ).replace(/^/gm, '  '),
    );
  }
  return terminalLines(`${lines.join('\n')}\n`);
}

/** `mosear-lens imbalance`. */
export async function imbalanceCommand(
  argv: string[],
  signal: AbortSignal,
  deps: ImbalanceDependencies,
): Promise<void> {
  const parsed = parseCommandLine(argv, IMBALANCE_OPTIONS);
  const options = parseRunOptions(parsed, 'imbalance');
  if (options.help) {
    console.log(deps.usage);
    return;
  }
  const kText = single(parsed, 'k') ?? DEFAULT_AUDIO_REPEATS.join(',');
  const eng = deps.engine(options.ffmpeg, options.decoder);
  try {
    const modelPath = single(parsed, 'model') ?? deps.defaultModel;
    const model = await eng.model(modelPath);
    const max = model.metadata.audio.repeatMax;
    if (model.optional.audioRepeat !== true || max === undefined) {
      throw new EngineError('BAD_SETTINGS', `${model.fileName}: ${IMBALANCE_UNAVAILABLE}`);
    }
    const repeats = parseAudioRepeats(kText, max);
    if (typeof repeats === 'string') throw new UsageError(`--k: ${repeats}`);
    const controls = controlsFromEdits(model.metadata, options.edits);
    const tty = process.stderr.isTTY && !options.quiet && options.json !== '-';
    const result = await imbalanceProbe(
      eng,
      {
        clipPath: options.clip,
        modelPath,
        controls,
        executionProvider: options.executionProvider,
        allowFallback: options.allowFallback,
        ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
        transcriptSidecar: options.sidecar,
        repeats,
      },
      signal,
      tty ? (p) => process.stderr.write(`\rimbalance: ${p.done}/${p.total} k values`) : undefined,
    );
    if (tty) process.stderr.write('\n');
    if (!options.quiet && options.json !== '-') {
      const lines = [
        `intervention: ${describeControls(controls)}`,
        ...formatImbalance(result, 'intervention'),
      ];
      process.stdout.write(terminalLines(`${lines.join('\n')}\n`));
    }
    if (options.json !== undefined) {
      await deps.writeOutput(options.json, `${JSON.stringify(result)}\n`);
      if (!options.quiet && options.json !== '-') console.log(`\nwrote ${options.json}`);
    }
  } finally {
    await eng.dispose();
  }
}

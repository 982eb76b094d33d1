// `mosear-lens knockout <clip>`: head knockout through contract 1.1's `head_gate` (issue 18).
// Knocks out the named heads (--heads) or the flagged ones (--flagged) and prints how the answer
// and its probability move, under off and under the intervention; --rank K ranks the top K
// candidates (the named heads, else the flagged ones, most audio-attending first) by the change in
// the answer's log-probability when each is removed alone, and prints the cumulative curve.
import { flaggedHeadsByAudio } from '../shared/flaggedHeads';
import type { AnalysisEngine } from '../core/engine/analysisEngine';
import { EngineError } from '../core/engine/engineError';
import { knockoutHeads, rankHeads } from '../core/engine/knockout';
import { parseHeadList } from '../core/analysis/knockout';
import type { DecoderChoice } from '../core/decode/decoderSelection';
import {
  DEFAULT_RANK_K,
  KNOCKOUT_UNAVAILABLE,
  headName,
  type HeadRanking,
  type HeadRef,
  type KnockoutPair,
  type KnockoutResult,
  type KnockoutUnder,
} from '../protocol/knockout';
import { describeControls } from './analysisReport';
import { ANALYZE_OPTIONS, controlsFromEdits, parseRunOptions } from './analyzeOptions';
import { flag, parseCommandLine, single, type CommandOptions } from './commandLine';
import { UsageError } from './exitCodes';
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';

export const KNOCKOUT_OPTIONS: CommandOptions = {
  ...ANALYZE_OPTIONS,
  heads: { type: 'string' },
  flagged: { type: 'boolean' },
  rank: { type: 'string' },
  under: { type: 'string' },
};

/** The knockout lines of `--help`. */
export const KNOCKOUT_USAGE = `knockout options (mosear-lens knockout <clip> --model M [options]; contract-1.1 checkpoints
with the optional head_gate input, e.g. the shipped ones):
  --heads <L.H,…>           knock out these heads (e.g. 2.3,L0.H1)
  --flagged                 knock out the heads the intervention flags on this clip
  --rank <K>                rank K candidates (the --heads, else the flagged heads, most
                            audio-attending first; default K ${DEFAULT_RANK_K}) by the change in the answer's
                            log-probability when each is knocked out alone, then the cumulative curve
  --under off|intervention  the controls a ranking measures under (default off: the model as it is)
  the analyze options above set the model, the intervention, the provider and the decoder;
  --json <file> writes the knockout and the ranking as JSON ("-" for stdout)`;

export interface KnockoutDependencies {
  engine: (ffmpeg?: string, decoder?: DecoderChoice) => AnalysisEngine;
  defaultModel: string;
  writeOutput: (path: string, text: string) => Promise<void>;
  usage: string;
}

const fixed = (v: number, digits = 3): string => v.toFixed(digits);
const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;

/** The before/after lines of one knockout. */
export function formatKnockout(k: KnockoutResult, interventionName: string): string[] {
  const label = (i: number): string => k.labels[i] ?? String(i);
  const cols: [string, KnockoutPair][] = [
    ['off', k.off],
    [interventionName, k.intervention],
  ];
  const rows = [
    ['', ...cols.map(([n]) => n)],
    ['answer (all heads)', ...cols.map(([, p]) => label(p.answer))],
    [
      'p(answer)',
      ...cols.map(
        ([, p]) =>
          `${fixed(p.before.probabilities[p.answer] ?? 0)} → ${fixed(p.after.probabilities[p.answer] ?? 0)}`,
      ),
    ],
    ['Δ log p(answer)', ...cols.map(([, p]) => signed(p.answerLogProbChange))],
    [
      'prediction after',
      ...cols.map(
        ([, p]) =>
          `${label(p.after.prediction)}${p.after.prediction === p.answer ? '' : ' (changed)'}`,
      ),
    ],
  ];
  const names = k.heads.map(headName);
  const shown =
    names.length > 24 ? `${names.slice(0, 24).join(', ')} … (${names.length})` : names.join(', ');
  return [
    `knocked out ${k.heads.length} head${k.heads.length === 1 ? '' : 's'}: ${shown || 'none'}`,
    textTable(rows, ['left', 'left', 'left']).replace(/^/gm, '  '),
  ];
}

const BAR = 20;

/** The ranking table and the cumulative curve. */
export function formatRanking(r: HeadRanking): string[] {
  const label = (i: number): string => r.labels[i] ?? String(i);
  const rows = [
    ['rank', 'head', 'Δ log p(answer)', 'p(answer)', 'prediction'],
    ...r.ranked.map((h, i) => [
      String(i + 1),
      headName(h),
      signed(h.change),
      fixed(Math.exp(h.logProb)),
      label(h.prediction),
    ]),
  ];
  const curve = [
    ['removed', 'p(answer)', '', 'Δ log p', 'prediction'],
    ...r.cumulative.map((c) => {
      const n = Math.round(Math.min(1, Math.max(0, c.probability)) * BAR);
      return [
        String(c.removed),
        fixed(c.probability),
        `${'█'.repeat(n)}${'░'.repeat(BAR - n)}`,
        signed(c.change),
        label(c.prediction),
      ];
    }),
  ];
  return [
    `effect ranking under ${r.under}: ${r.ranked.length} of ${r.candidates} candidate heads, each knocked out alone; answer ${safe(label(r.answer))} (p ${fixed(Math.exp(r.baseLogProb))})`,
    textTable(rows, ['right', 'left', 'right', 'right', 'left']).replace(/^/gm, '  '),
    '',
    'cumulative: the first n ranked heads knocked out together',
    textTable(curve, ['right', 'right', 'left', 'right', 'left']).replace(/^/gm, '  '),
  ];
}

/** `mosear-lens knockout`. */
export async function knockoutCommand(
  argv: string[],
  signal: AbortSignal,
  deps: KnockoutDependencies,
): Promise<void> {
  const parsed = parseCommandLine(argv, KNOCKOUT_OPTIONS);
  const options = parseRunOptions(parsed, 'knockout');
  if (options.help) {
    console.log(deps.usage);
    return;
  }
  const headsText = single(parsed, 'heads');
  const flagged = flag(parsed, 'flagged');
  const rankText = single(parsed, 'rank');
  const underText = single(parsed, 'under') ?? 'off';
  if (headsText !== undefined && flagged) {
    throw new UsageError('--heads and --flagged choose the heads two ways: give one');
  }
  if (headsText === undefined && !flagged && rankText === undefined) {
    throw new UsageError('knockout needs --heads <L.H,…>, --flagged or --rank <K>');
  }
  if (underText !== 'off' && underText !== 'intervention') {
    throw new UsageError(`--under: "${underText}" is not off or intervention`);
  }
  const under: KnockoutUnder = underText;
  let named: HeadRef[] | undefined;
  try {
    named = headsText === undefined ? undefined : parseHeadList(headsText);
  } catch (error) {
    throw new UsageError(`--heads: ${(error as Error).message}`);
  }
  if (named !== undefined && named.length === 0) throw new UsageError('--heads names no head');
  let k: number | undefined;
  if (rankText !== undefined) {
    k = Number(rankText);
    if (!Number.isInteger(k) || k < 1) {
      throw new UsageError(`--rank: "${rankText}" is not a whole number ≥ 1`);
    }
  }

  const eng = deps.engine(options.ffmpeg, options.decoder);
  try {
    const modelPath = single(parsed, 'model') ?? deps.defaultModel;
    const model = await eng.model(modelPath);
    if (!model.optional.headGate) {
      throw new EngineError('BAD_SETTINGS', `${model.fileName}: ${KNOCKOUT_UNAVAILABLE}`);
    }
    const controls = controlsFromEdits(model.metadata, options.edits);
    const base = {
      clipPath: options.clip,
      modelPath,
      controls,
      executionProvider: options.executionProvider,
      allowFallback: options.allowFallback,
      ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
      transcriptSidecar: options.sidecar,
      features: options.features,
    };
    const out: string[] = [];
    const json: Record<string, unknown> = {};
    if (!options.quiet) out.push(`intervention: ${describeControls(controls)}`);
    let heads = named;
    if (flagged) {
      const analysis = await eng.analyze({ ...base, thumbnails: false }, signal);
      heads = flaggedHeadsByAudio(
        analysis.intervention.arFlags,
        analysis.intervention.modalityMass,
      );
      if (heads.length === 0) {
        throw new UsageError(
          controls.mode === 0
            ? '--flagged: no head is flagged with the intervention off (choose --mode ar)'
            : '--flagged: no head is flagged on this clip under these settings',
        );
      }
    }
    if (heads !== undefined && (headsText !== undefined || flagged)) {
      const result = await knockoutHeads(eng, { ...base, heads }, signal);
      json.knockout = result;
      out.push('', ...formatKnockout(result, controls.mode === 0 ? 'off' : 'intervention'));
    }
    if (k !== undefined) {
      const tty = process.stderr.isTTY && !options.quiet && options.json !== '-';
      const ranking = await rankHeads(
        eng,
        { ...base, ...(heads === undefined ? {} : { heads }), k, under },
        signal,
        tty ? (p) => process.stderr.write(`\rranking: ${p.done}/${p.total} runs`) : undefined,
      );
      if (tty) process.stderr.write('\n');
      json.ranking = ranking;
      out.push('', ...formatRanking(ranking));
    }
    if (!options.quiet && options.json !== '-')
      process.stdout.write(terminalLines(`${out.join('\n')}\n`));
    if (options.json !== undefined) {
      await deps.writeOutput(options.json, `${JSON.stringify(json)}\n`);
      if (!options.quiet && options.json !== '-') console.log(`\nwrote ${options.json}`);
    }
  } finally {
    await eng.dispose();
  }
}

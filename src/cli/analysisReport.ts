// The readable summary `mosear-lens analyze` (and `show`) prints for an AnalysisResult: the
// prediction with and without the intervention, the flag count per layer and the TOP_HEADS
// flagged heads furthest above their threshold (every one with `allHeads`) with their statistics
// against the thresholds, and UAP per layer as a compact text chart. Every string from the result is
// printed through terminalText: a shared result file is untrusted.
import { relative } from 'node:path';
import type { AnalysisResult, LayerUap } from '../protocol/analysisResult';
import { RATIO_KIND_NAMES, type ArControls } from '../protocol/contract';
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';
import { isForcedOff, isOn } from '../shared/onOff';
import { labelLens } from '../shared/labelLens';
import { featureSourceLines } from '../shared/featureSourceText';

const fmt = (v: number, digits = 4): string => String(Number(v.toPrecision(digits)));
const ms = (v: number): string => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;

/** One line describing an intervention setting. */
export function describeControls(c: ArControls): string {
  if (c.mode === 0) return 'no intervention (ar_mode 0)';
  const layers = c.layers.flatMap((on, l) => (isOn(on) ? [l] : [])).join(',') || 'none';
  if (c.mode === 2) return `PAI-style, gain ${fmt(c.paiAlpha)}, layers ${layers}`;
  const overrides = c.headOverride.flatMap((row, l) =>
    row.flatMap((o, h) => (isOn(o) ? [`${l}:${h}=on`] : isForcedOff(o) ? [`${l}:${h}=off`] : [])),
  );
  return (
    `AR, ratio ${RATIO_KIND_NAMES[c.ratioKind]}, τ [${c.tau.map((t) => fmt(t)).join(', ')}], ` +
    `margin ${fmt(c.headMargin)}, α ${fmt(c.alpha)}, layers ${layers}` +
    (overrides.length > 0 ? `, heads ${overrides.join(' ')}` : '')
  );
}

/** A path relative to the working folder when that is shorter, safe to print. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return safe(rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path);
}

function header(r: AnalysisResult): string[] {
  const c = r.clip;
  const arch = r.model.metadata.architecture;
  const audio =
    c.audio === null
      ? c.silenceUsed
        ? 'no audio (analysed with silence)'
        : 'no audio'
      : `audio ${safe(c.audio.codec)}${c.audio.sampleRateHz === null ? '' : ` ${fmt(c.audio.sampleRateHz / 1000, 3)} kHz`}`;
  const times = c.frameTimesSeconds.map((t) => t.toFixed(2)).join(' ');
  const decoder = c.decoder.backend === 'wasm' ? 'ffmpeg.wasm' : 'system ffmpeg';
  const attempts = r.runtime.attempts
    .filter((a) => !a.ok)
    .map((a) => `${safe(a.provider)} unavailable`)
    .join(', ');
  const t = r.timings;
  return [
    `clip      ${shortPath(c.path)} (${c.durationSeconds.toFixed(2)} s, ${safe(c.video.codec)} ` +
      `${c.video.displayWidth}×${c.video.displayHeight}, ${audio}; frames at ${times} s; ${decoder})`,
    `model     ${safe(r.model.metadata.checkpoint.name)} (${shortPath(r.model.path)}; ` +
      `${arch.layers} layers × ${arch.heads} heads${arch.mose ? ', MoSE' : ''})`,
    `setting   ${describeControls(r.settings.controls)}`,
    ...transcriptLine(r),
    ...featureLine(r),
    `runtime   onnxruntime-node ${safe(r.tool.onnxruntime)}, ${safe(r.runtime.provider)}` +
      `${attempts === '' ? '' : ` (${attempts})`}, ${r.runtime.intraOpNumThreads} thread(s)`,
    `timings   decode ${ms(t.decodeMs)}${t.decodeCached ? ' (cached)' : ''}` +
      `${t.sessionOpenMs > 0 ? `, session open ${ms(t.sessionOpenMs)}` : ''}, inference ` +
      `${ms(t.inferenceMs)} (${t.sessionRuns} run${t.sessionRuns === 1 ? '' : 's'}: ` +
      `${t.sessionRunMs.map(ms).join(' + ')}${t.baselineReused === true ? '; baseline reused' : ''}), ` +
      `analysis ${ms(t.analysisMs)}, total ${ms(t.totalMs)}`,
  ];
}

const TRANSCRIPT_FROM = {
  'sidecar-txt': 'the .txt next to the clip',
  'sidecar-srt': 'the .srt next to the clip',
  'sidecar-vtt': 'the .vtt next to the clip',
  manifest: 'the manifest',
  typed: 'typed in the panel',
  cli: '--transcript',
  none: "none found: the checkpoint's default",
} as const;

/** Contract 1.1 with a transcript slot: the transcript fed and where it came from. */
function transcriptLine(r: AnalysisResult): string[] {
  const source = r.settings.transcriptSource;
  if (source === undefined) return [];
  const text = r.settings.slots?.['transcript'];
  const shown =
    text === undefined ? '' : `"${safe(text.length > 60 ? `${text.slice(0, 59)}…` : text)}" `;
  return [`transcript ${shown}(${TRANSCRIPT_FROM[source]})`];
}

/** A model with FaceMAE / VideoMAE inputs (CONTRACT.md §1b): what each was fed. */
function featureLine(r: AnalysisResult): string[] {
  const lines = featureSourceLines(r.settings.featureSources);
  return lines.length === 0 ? [] : [`features  ${safe(lines.join('; '))}`];
}

function predictions(r: AnalysisResult): string {
  const labels = r.model.metadata.labels;
  const same = r.settings.controls.mode === 0;
  const rows = [same ? ['', 'no intervention'] : ['', 'without', 'with']];
  const cols = (f: (run: AnalysisResult['baseline']) => string) =>
    same ? [f(r.baseline)] : [f(r.baseline), f(r.intervention)];
  rows.push(['prediction', ...cols((run) => run.prediction.label)]);
  labels.forEach((label, i) => {
    rows.push([`  p(${label})`, ...cols((run) => (run.probabilities[i] ?? NaN).toFixed(4))]);
  });
  return textTable(rows, ['left', 'right', 'right']);
}

/** `answer (off): "…"` and the intervention's, when the result has a generated answer. */
function answerLines(r: AnalysisResult): string[] {
  const a = r.generatedAnswer;
  if (a === undefined) return [];
  const c = r.settings.controls;
  const name =
    c.mode === 0 ? 'off' : c.mode === 2 ? `PAI-style γ ${fmt(c.paiAlpha)}` : `AR α ${fmt(c.alpha)}`;
  const line = (label: string, g: typeof a.off) =>
    `answer (${label}): ${JSON.stringify(g.text)} ${g.stoppedAt === 'eos' ? '(EOS)' : `(${a.maxTokens} tokens, cut)`}  ids ${g.ids.join(' ')}`;
  return ['', line('off', a.off), line(name, a.intervention)];
}

/** Flagged heads listed by default (furthest above their head threshold first). */
export const TOP_HEADS = 10;

/** How much of the summary to print. */
export interface SummaryOptions {
  /** List every flagged head, not only the top TOP_HEADS. */
  allHeads?: boolean;
}

/** `L0 2 · L1 0 · …` wrapped to lines of about `width` characters. */
function perLayerCounts(counts: readonly number[], width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  counts.forEach((n, l) => {
    const item = `L${l} ${n}`;
    if (line !== '' && line.length + item.length + 3 > width) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? item : `${line} · ${item}`;
  });
  if (line !== '') lines.push(line);
  return lines;
}

function flagged(r: AnalysisResult, options: SummaryOptions): string[] {
  const c = r.settings.controls;
  const run = r.intervention;
  const { layers: L, heads: Hh } = r.model.metadata.architecture;
  const total = run.arFlags.flat().filter(isOn).length;
  const check = r.flagCheck;
  const agreement = check.agree
    ? 'the TypeScript rule agrees with the graph on every head'
    : check.agreeBeyondRounding
      ? `the TypeScript rule differs on ${check.mismatches.length} head(s), all within float32 rounding of a threshold`
      : `WARNING: the TypeScript rule disagrees with the graph on ${check.mismatches.length} head(s)`;
  if (c.mode === 0) return ['', 'flagged heads: none (no intervention)'];
  if (c.mode === 2) {
    return [
      '',
      `modified heads: ${total} of ${L * Hh} (PAI-style acts on every head of the enabled layers)`,
    ];
  }
  const lines = [
    '',
    `flagged heads: ${total} of ${L * Hh} (statistic: ${RATIO_KIND_NAMES[c.ratioKind]}; ${agreement})`,
  ];
  const counts = Array.from({ length: L }, (_, l) => (run.arFlags[l] ?? []).filter(isOn).length);
  lines.push(`  per layer (of ${Hh} heads):`, ...perLayerCounts(counts).map((t) => `    ${t}`));
  const heads: { gap: number; row: string[] }[] = [];
  for (const d of run.flagDecisions) {
    for (let h = 0; h < Hh; h++) {
      if (!isOn(run.arFlags[d.layer]?.[h] ?? 0)) continue;
      const reason = d.reasons[h] ?? '';
      const s = d.headStatistics[h] ?? NaN;
      heads.push({
        gap: s - d.headThreshold,
        row: [
          String(d.layer),
          String(h),
          fmt(s),
          `${s > d.headThreshold ? '>' : '≤'} ${fmt(d.headThreshold)}`,
          fmt(d.statistic),
          `${d.triggered ? '>' : '≤'} ${fmt(d.tau)}`,
          reason === 'automatic' ? '' : reason,
        ],
      });
    }
  }
  const listed = options.allHeads === true ? heads : topHeads(heads);
  const rows = listed.map((h) => h.row);
  if (rows.length > 0) {
    lines.push(
      listed.length < heads.length
        ? `  top ${listed.length} of ${heads.length} by head stat − (1+m)·mean (--all-heads lists every one):`
        : options.allHeads === true
          ? `  every flagged head (by layer):`
          : `  every flagged head, by head stat − (1+m)·mean:`,
    );
    const head = ['layer', 'head', 'head stat', 'vs (1+m)·mean', 'layer stat', 'vs τ', ''];
    lines.push(
      textTable([head, ...rows], ['right', 'right', 'right', 'left', 'right', 'left']).replace(
        /^/gm,
        '  ',
      ),
    );
  }
  return lines;
}

/** The TOP_HEADS heads furthest above their threshold (forced heads may be below: last). */
function topHeads<T extends { gap: number }>(heads: readonly T[]): T[] {
  const gap = (h: T): number => (Number.isNaN(h.gap) ? -Infinity : h.gap);
  return [...heads].sort((a, b) => gap(b) - gap(a)).slice(0, TOP_HEADS);
}

const BAR = 20;

/** A bar of BAR cells: █ for the visual share of A+V, ░ for audio. */
function uapBar(u: LayerUap): string {
  const v = Math.round(Math.min(1, Math.max(0, u.visualOfAV)) * BAR);
  return `${'█'.repeat(v)}${'░'.repeat(BAR - v)}`;
}

function uapChart(r: AnalysisResult): string[] {
  const same = r.settings.controls.mode === 0;
  const rows: string[][] = [
    ['layer', 'run', `visual █ │ audio ░ (of A+V)`, 'V/(A+V)', 'V', 'A', 'T'],
  ];
  const runs = same
    ? [['', r.baseline] as const]
    : ([
        ['without', r.baseline],
        ['with', r.intervention],
      ] as const);
  r.baseline.uapAfter.forEach((_, l) => {
    runs.forEach(([name, run], i) => {
      const u = run.uapAfter[l] as LayerUap;
      rows.push([
        i === 0 ? String(l) : '',
        name,
        uapBar(u),
        u.visualOfAV.toFixed(3),
        u.visual.toFixed(3),
        u.audio.toFixed(3),
        u.text.toFixed(3),
      ]);
    });
  });
  return [
    '',
    'UAP per layer (answer attention used by the model, heads averaged; V, A, T = whole-row shares)',
    textTable(rows, ['right', 'left', 'left', 'right', 'right', 'right', 'right']).replace(
      /^/gm,
      '  ',
    ),
  ];
}

/** Label lens rows before the summary switches to one line of layer spans per run. */
const MAX_LENS_ROWS = 8;

/**
 * The label lens (contract 1.1's layer_logits): per layer, each run's top label and the
 * answer's probability, and where the answer takes over. Nothing for a model without them.
 */
export function labelLensLines(r: AnalysisResult): string[] {
  const answer = r.intervention.prediction.index;
  const label = (i: number): string => r.model.metadata.labels[i] ?? String(i);
  const same = r.settings.controls.mode === 0;
  const runs = (
    same
      ? [['', r.baseline]]
      : [
          ['without', r.baseline],
          ['with', r.intervention],
        ]
  ) as [string, AnalysisResult['baseline']][];
  const lenses = runs.flatMap(([name, run]) =>
    run.layerLogits === undefined ? [] : [{ name, lens: labelLens(run.layerLogits, answer) }],
  );
  if (lenses.length === 0) return [];
  const first = lenses[0]!.lens;
  const rows: string[][] = [
    ['layer', ...lenses.flatMap(({ name }) => [`top ${name}`.trim(), `p(${label(answer)})`])],
  ];
  // Consecutive layers with the same top labels share a row (a 32-layer model stays compact).
  const topsAt = (l: number): string => lenses.map(({ lens }) => lens.top[l]).join(',');
  const groups: [number, number][] = [];
  for (let start = 0; start < first.top.length;) {
    let end = start;
    while (end + 1 < first.top.length && topsAt(end + 1) === topsAt(start)) end++;
    groups.push([start, end]);
    start = end + 1;
  }
  const span = (a: number, b: number): string => (a === b ? String(a) : `${a}–${b}`);
  const mark = (i: number): string => `${label(i)}${i === answer ? ' *' : ''}`;
  const body: string[] = [];
  if (groups.length <= MAX_LENS_ROWS) {
    for (const [start, end] of groups) {
      rows.push([
        span(start, end),
        ...lenses.flatMap(({ lens }) => {
          const [a, b] = [lens.answerProbability[start] ?? 0, lens.answerProbability[end] ?? 0];
          return [
            mark(lens.top[start] ?? 0),
            start === end ? a.toFixed(3) : `${a.toFixed(3)}–${b.toFixed(3)}`,
          ];
        }),
      ]);
    }
    body.push(
      textTable(rows, ['right', ...lenses.flatMap(() => ['left', 'right'] as const)]).replace(
        /^/gm,
        '  ',
      ),
    );
  } else {
    // Too many changes for a table: each run's top labels as layer spans on one line.
    for (const { name, lens } of lenses) {
      const spans: string[] = [];
      for (let start = 0; start < lens.top.length;) {
        let end = start;
        while (end + 1 < lens.top.length && lens.top[end + 1] === lens.top[start]) end++;
        spans.push(`${span(start, end)} ${mark(lens.top[start] ?? 0)}`);
        start = end + 1;
      }
      const p = lens.answerProbability;
      body.push(
        `  ${name === '' ? 'top' : `top ${name}`}: ${spans.join(', ')}; p(${label(answer)}) ${(p[0] ?? 0).toFixed(3)} at layer 0 → ${(p[p.length - 1] ?? 0).toFixed(3)} at the last`,
      );
    }
  }
  const takes = lenses
    .map(({ name, lens }) => {
      const at = lens.takesOver === null ? 'never' : `from layer ${lens.takesOver}`;
      return name === '' ? at : `${at} ${name}`;
    })
    .join(', ');
  return [
    '',
    `label lens (layer_logits: each layer's label readout of the answer position; * = the answer, ${safe(label(answer))})`,
    ...body,
    `  the answer leads ${takes}`,
  ];
}

/** The whole summary, ending with a newline. */
export function formatAnalysis(r: AnalysisResult, options: SummaryOptions = {}): string {
  const notes: string[] = [];
  if (r.clip.silenceUsed)
    notes.push(
      'note: the clip has no audio stream; the model was fed silence (its metadata allows it)',
    );
  if (r.clip.frameFromTail.some(Boolean)) {
    notes.push(
      'note: some frame times lay past the last decodable frame; the last frame was used (decode spec)',
    );
  }
  // terminalLines again over the whole: a field printed in a future line cannot slip through.
  return terminalLines(
    [
      ...header(r),
      '',
      predictions(r),
      ...answerLines(r),
      ...flagged(r, options),
      ...uapChart(r),
      ...labelLensLines(r),
      ...(notes.length ? ['', ...notes] : []),
    ].join('\n') + '\n',
  );
}

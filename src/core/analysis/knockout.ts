// The arithmetic of head knockout (issue 18; src/protocol/knockout.ts): gates from head lists,
// the candidates of an effect ranking (flagged heads, most audio-attending first), the ranking by
// the change in the answer's log-probability and the cumulative curve. Pure: the engine feeds it
// the logits of gated runs (src/core/engine/knockout.ts).
import type {
  CumulativePoint,
  GatedRun,
  HeadRef,
  KnockoutPair,
  RankedHead,
} from '../../protocol/knockout';
import { headName } from '../../protocol/knockout';
import { argmax, softmax } from './probabilities';

/** log softmax(logits)[i], in float64 (stable: max subtracted). */
export function logProbability(logits: ArrayLike<number>, i: number): number {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const sum = values.reduce((s, x) => s + Math.exp(x - max), 0);
  return (values[i] as number) - max - Math.log(sum);
}

/** A run's answer-facing outputs from its raw logits ([C]) and layer_logits ([L·C]). */
export function gatedRun(logits: ArrayLike<number>, layerLogits?: ArrayLike<number>): GatedRun {
  const C = logits.length;
  const run: GatedRun = {
    logits: Array.from(logits),
    probabilities: softmax(logits),
    prediction: argmax(logits),
  };
  if (layerLogits !== undefined) {
    const rows: number[][] = [];
    for (let at = 0; at < layerLogits.length; at += C) {
      rows.push(Array.from({ length: C }, (_, c) => layerLogits[at + c] as number));
    }
    run.layerLogits = rows;
  }
  return run;
}

/** The answer (before's prediction) and how far the knockout moved its log-probability. */
export function knockoutPair(before: GatedRun, after: GatedRun): KnockoutPair {
  const answer = before.prediction;
  return {
    before,
    after,
    answer,
    answerLogProbChange:
      logProbability(after.logits, answer) - logProbability(before.logits, answer),
  };
}

/**
 * Checks heads against the model's L × Hh; the problem as a sentence, or undefined. Duplicates
 * are refused (a list names each head once).
 */
export function headsProblem(heads: readonly HeadRef[], L: number, Hh: number): string | undefined {
  const seen = new Set<string>();
  for (const h of heads) {
    if (!Number.isInteger(h.layer) || h.layer < 0 || h.layer >= L) {
      return `${headName(h)}: no layer ${h.layer} (the model has layers 0–${L - 1})`;
    }
    if (!Number.isInteger(h.head) || h.head < 0 || h.head >= Hh) {
      return `${headName(h)}: no head ${h.head} (the model has heads 0–${Hh - 1})`;
    }
    const name = headName(h);
    if (seen.has(name)) return `${name} is named twice`;
    seen.add(name);
  }
  return undefined;
}

/** `head_gate` [L·Hh]: 1 everywhere except 0 at the given heads. */
export function knockoutGate(heads: readonly HeadRef[], L: number, Hh: number): Float32Array {
  const gate = new Float32Array(L * Hh).fill(1);
  for (const h of heads) gate[h.layer * Hh + h.head] = 0;
  return gate;
}

/**
 * Ranks heads each knocked out alone by the change in the answer's log-probability, the largest
 * drop first (ties: layer, then head). `singles[i]` are the logits with `heads[i]` removed.
 */
export function rankBySingleKnockout(
  heads: readonly HeadRef[],
  singles: readonly ArrayLike<number>[],
  answer: number,
  baseLogProb: number,
): RankedHead[] {
  if (singles.length !== heads.length) {
    throw new Error(`${singles.length} knockout runs for ${heads.length} heads`);
  }
  return heads
    .map((h, i): RankedHead => {
      const logits = singles[i] as ArrayLike<number>;
      const logProb = logProbability(logits, answer);
      return {
        layer: h.layer,
        head: h.head,
        logProb,
        change: logProb - baseLogProb,
        prediction: argmax(logits),
      };
    })
    .sort((a, b) => a.change - b.change || a.layer - b.layer || a.head - b.head);
}

/** One point of the cumulative curve: the first `removed` ranked heads knocked out together. */
export function cumulativePoint(
  removed: number,
  logits: ArrayLike<number>,
  answer: number,
  baseLogProb: number,
): CumulativePoint {
  const logProb = logProbability(logits, answer);
  return {
    removed,
    logProb,
    change: logProb - baseLogProb,
    probability: Math.exp(logProb),
    prediction: argmax(logits),
  };
}

/**
 * Parses `L3.H7,0.2` style head lists (`L<l>.H<h>` or `<l>.<h>`, comma-separated) into heads;
 * throws an Error naming the bad item.
 */
export function parseHeadList(text: string): HeadRef[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.map((item) => {
    const m = /^L?(\d+)\.H?(\d+)$/i.exec(item);
    if (m === null) throw new Error(`"${item}" is not a head (write L<layer>.H<head>, e.g. L2.H3)`);
    return { layer: Number(m[1]), head: Number(m[2]) };
  });
}

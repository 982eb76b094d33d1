// The intervention settings a benchmark evaluation runs for a checkpoint: the three standard ones
// (off, AR at the checkpoint's defaults, PAI-style) and sweeps over τ or α. Pure: no I/O.
import type { ArControls, ContractMetadata, RatioKind } from '../../protocol/contract';
import { RATIO_KIND_NAMES } from '../../protocol/contract';
import { defaultControls } from '../../shared/controls';
import { whyNoEffect } from '../../shared/noEffect';
import type { SweepPoint } from '../../protocol/evaluationSummary';
import type { EvaluationSetting } from '../../protocol/runFolder';
import type { FixedHeadSet } from './headMaps';
import type { SettingChoice } from '../../protocol/settingChoice';

/** One setting of an evaluation (its schema is in src/protocol/runFolder.ts: plan.json holds it). */
export type { EvaluationSetting };

/** A sweepable parameter: τ (one value on every layer) or α. */
export type SweepParameter = 'tau' | 'alpha';

/** A sweep as the user wrote it: `tau`, `tau=a:b:step`, `alpha=a:b:step` or `tau=v1,v2,…`. */
export interface SweepRequest {
  parameter: SweepParameter;
  /** null: the checkpoint's default range (`mosear.tau_sweep` for τ, 0 … 1 in 0.1 for α). */
  values: number[] | null;
}

/** A sweep the user wrote that cannot be read. */
export class SweepError extends Error {
  override readonly name = 'SweepError';
}

/** Most points one sweep may have (a typo like 0:1:0.0001 should not start a day-long run). */
export const MAX_SWEEP_POINTS = 200;

/** Values a + i·step up to b inclusive, rounded to the step's decimals (no 0.30000000000000004). */
export function rangeValues(start: number, end: number, step: number): number[] {
  if (![start, end, step].every(Number.isFinite) || step <= 0 || end < start) {
    throw new SweepError(
      `a range needs start ≤ end and a positive step, got ${start}:${end}:${step}`,
    );
  }
  const count = Math.floor((end - start) / step + 1e-9) + 1;
  if (count > MAX_SWEEP_POINTS) {
    throw new SweepError(
      `${start}:${end}:${step} has ${count} points (at most ${MAX_SWEEP_POINTS})`,
    );
  }
  const decimals = Math.min(12, Math.max(decimalsOf(start), decimalsOf(step)));
  return Array.from({ length: count }, (_, i) => Number((start + i * step).toFixed(decimals)));
}

function decimalsOf(value: number): number {
  const text = String(value);
  const exp = /e-(\d+)$/.exec(text);
  if (exp) return Number(exp[1]) + (text.split('e')[0]?.split('.')[1]?.length ?? 0);
  return text.split('.')[1]?.length ?? 0;
}

/** Parses `tau`, `tau=a:b:step`, `alpha=a:b:step` or `name=v1,v2,…`. */
export function parseSweep(text: string): SweepRequest {
  const match = /^(tau|alpha)(?:=(.+))?$/.exec(text.trim());
  if (!match) {
    throw new SweepError(
      `cannot read sweep "${text}": use tau, tau=start:end:step, alpha=start:end:step or name=v1,v2`,
    );
  }
  const parameter = match[1] as SweepParameter;
  const spec = match[2];
  if (spec === undefined) return { parameter, values: null };
  const numbers = (parts: string[]) =>
    parts.map((p) => {
      const v = Number(p);
      if (p.trim() === '' || !Number.isFinite(v)) {
        throw new SweepError(`sweep "${text}": "${p}" is not a number`);
      }
      return v;
    });
  let values: number[];
  if (spec.includes(':')) {
    const parts = numbers(spec.split(':'));
    if (parts.length !== 3) throw new SweepError(`sweep "${text}": a range is start:end:step`);
    values = rangeValues(parts[0] as number, parts[1] as number, parts[2] as number);
  } else {
    values = [...new Set(numbers(spec.split(',')))];
  }
  if (parameter === 'alpha' && values.some((v) => v < 0 || v > 1)) {
    throw new SweepError(`sweep "${text}": α must lie in [0, 1]`);
  }
  return { parameter, values };
}

/** The values of a sweep for a checkpoint (its metadata supplies the default range). */
export function sweepValues(
  meta: ContractMetadata,
  request: SweepRequest,
  ratioKind = meta.arDefaults.ratioKind,
): number[] {
  if (request.values !== null) return request.values;
  if (request.parameter === 'alpha') return rangeValues(0, 1, 0.1);
  const range = meta.tauSweep[RATIO_KIND_NAMES[ratioKind]];
  const n = Math.max(2, Math.min(MAX_SWEEP_POINTS, range.steps));
  return Array.from({ length: n }, (_, i) => {
    const t = i / (n - 1);
    const v =
      range.scale === 'log'
        ? Math.exp(Math.log(range.min) + t * (Math.log(range.max) - Math.log(range.min)))
        : range.min + t * (range.max - range.min);
    return Number(v.toPrecision(6));
  });
}

/** The standard settings: off, AR at the checkpoint's defaults, PAI-style on every layer. */
export function standardSettings(meta: ContractMetadata): EvaluationSetting[] {
  const defaults = defaultControls(meta);
  return [
    { id: 'off', title: 'off', controls: { ...defaults, mode: 0 }, sweep: null },
    { id: 'ar', title: 'AR', controls: { ...defaults, mode: 1 }, sweep: null },
    {
      id: 'pai',
      title: 'PAI-style',
      controls: {
        ...defaults,
        mode: 2,
        layers: new Array<number>(meta.architecture.layers).fill(1),
      },
      sweep: null,
    },
  ];
}

/**
 * AR with a fixed head set (chosen on a dataset) instead of per-clip detection: the set's heads
 * forced on and every other head forced off, in the checkpoint's enabled layers, every other
 * control at the checkpoint's defaults.
 */
export function fixedHeadSetting(meta: ContractMetadata, set: FixedHeadSet): EvaluationSetting {
  const { layers: L, heads: Hh } = meta.architecture;
  if (set.override.length !== L || set.override.some((row) => row.length !== Hh)) {
    throw new SweepError(
      `the fixed head set has ${set.override.length} × ${set.override[0]?.length ?? 0} heads, ` +
        `${meta.checkpoint.name} has ${L} × ${Hh}`,
    );
  }
  return {
    id: 'ar fixed',
    title: `AR, fixed heads (${set.heads} heads, chosen on ${set.chosenOn})`,
    controls: { ...defaultControls(meta), mode: 1, headOverride: set.override.map((r) => [...r]) },
    sweep: null,
  };
}

/**
 * The settings of an evaluation: the standard three (with AR on a fixed head set right after
 * per-clip AR, when given), then one AR setting per sweep point (the
 * cartesian product when both τ and α are swept), every other control at the checkpoint's
 * defaults. A swept τ is set on every layer. `ratioKind` sets the statistic of the sweep points
 * (and the default τ range); it needs a τ sweep, since each kind's τ lives on its own scale.
 */
export function evaluationSettings(
  meta: ContractMetadata,
  sweeps: readonly SweepRequest[] = [],
  ratioKind?: RatioKind,
  fixed?: FixedHeadSet,
): EvaluationSetting[] {
  const settings = standardSettings(meta);
  if (fixed !== undefined) settings.splice(2, 0, fixedHeadSetting(meta, fixed));
  const kind = ratioKind ?? meta.arDefaults.ratioKind;
  if (kind !== meta.arDefaults.ratioKind && !sweeps.some((s) => s.parameter === 'tau')) {
    throw new SweepError(
      `the ${RATIO_KIND_NAMES[kind]} statistic needs a τ sweep: its τ lives on its own scale`,
    );
  }
  if (sweeps.length === 0) return settings;
  const seen = new Set<SweepParameter>();
  for (const s of sweeps) {
    if (seen.has(s.parameter)) throw new SweepError(`${s.parameter} is swept twice`);
    seen.add(s.parameter);
  }
  const defaults = defaultControls(meta);
  let points: SweepPoint[] = [{}];
  for (const s of sweeps) {
    const values = sweepValues(meta, s, kind);
    points = points.flatMap((p) => values.map((v) => ({ ...p, [s.parameter]: v })));
  }
  for (const point of points) {
    const controls: ArControls = { ...defaults, mode: 1, ratioKind: kind };
    if (point.tau !== undefined)
      controls.tau = new Array<number>(meta.architecture.layers).fill(point.tau);
    if (point.alpha !== undefined) controls.alpha = point.alpha;
    const name =
      kind === meta.arDefaults.ratioKind
        ? sweepPointName(point)
        : `${RATIO_KIND_NAMES[kind]} ${sweepPointName(point)}`;
    settings.push({ id: `ar ${name}`, title: `AR ${name}`, controls, sweep: point });
  }
  return settings;
}

/** "tau=0.35 alpha=0.5" (parameters in a fixed order). */
export function sweepPointName(point: SweepPoint): string {
  const parts: string[] = [];
  if (point.tau !== undefined) parts.push(`tau=${point.tau}`);
  if (point.alpha !== undefined) parts.push(`alpha=${point.alpha}`);
  return parts.join(' ');
}

/** Why a setting cannot change the model on any clip; empty for `off` (the baseline) and for
 * settings that act. */
export function settingNoEffect(setting: Pick<EvaluationSetting, 'controls'>): string[] {
  return setting.controls.mode === 0 ? [] : whyNoEffect(setting.controls);
}

/**
 * The settings an evaluation of `choice` runs for its checkpoint: `off` (the checkpoint's own)
 * and the chosen setting, marked with where it was chosen; only `off` when the rule kept `off`.
 */
export function choiceSettings(meta: ContractMetadata, choice: SettingChoice): EvaluationSetting[] {
  const off = standardSettings(meta)[0] as EvaluationSetting;
  const { chosenBy } = choice;
  if (choice.chosen.controls.mode === 0) return [{ ...off, chosenBy }];
  return [off, { ...choice.chosen, chosenBy }];
}

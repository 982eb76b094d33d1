// Why a setting of the AR controls cannot change the model's answer (CONTRACT.md §4, §5): with
// α = 0 AR leaves the attention bit for bit, with γ = 0 PAI-style does, and so on. The panels and
// the CLI show these reasons where a setting is chosen and where its results are shown, so that a
// sweep of no-ops is never read as "the intervention does nothing".
import type { LayerRatioStatistics } from '../protocol/analysisResult';
import { RATIO_KIND_NAMES, type ArControls, type RatioKindName } from '../protocol/contract';
import { isForcedOff, isOn } from './onOff';

/** The controls the reasons read. */
export type NoEffectControls = Pick<
  ArControls,
  'mode' | 'ratioKind' | 'tau' | 'alpha' | 'paiAlpha' | 'layers' | 'headOverride'
>;

/** A clip's layer statistics per ratio kind, from the run without intervention. */
export type ClipStatistics = Record<
  RatioKindName,
  readonly Pick<LayerRatioStatistics, 'statistic'>[]
>;

/**
 * The reasons the setting cannot change the model ("α = 0", …), empty when it can. Without
 * `statistics` only the reasons that hold on every clip are given; with the clip's statistics
 * of the run without intervention (what the first enabled layer's rule sees, and all later
 * layers see while nothing is flagged), also "τ above every layer statistic".
 */
export function whyNoEffect(controls: NoEffectControls, statistics?: ClipStatistics): string[] {
  const c = controls;
  if (c.mode === 0) return ['mode off'];
  const reasons: string[] = [];
  if (c.mode === 1 && c.alpha === 0) reasons.push('α = 0');
  if (c.mode === 2 && c.paiAlpha === 0) reasons.push('γ = 0');
  const enabled = c.layers.flatMap((v, l) => (isOn(v) ? [l] : []));
  if (enabled.length === 0) {
    // Head overrides act only in enabled layers, so a forced-on head changes nothing here.
    reasons.push('no layer enabled');
    return reasons;
  }
  if (c.mode !== 1) return reasons;
  // PAI-style acts on every head of an enabled layer; overrides and τ are AR's alone.
  const overrides = (l: number) => c.headOverride[l] ?? [];
  if (enabled.every((l) => overrides(l).length > 0 && overrides(l).every(isForcedOff))) {
    reasons.push('every enabled head forced off');
    return reasons;
  }
  const layerStats = statistics?.[RATIO_KIND_NAMES[c.ratioKind]];
  const forcedOn = enabled.some((l) => overrides(l).some(isOn));
  if (
    layerStats !== undefined &&
    !forcedOn &&
    enabled.every((l) => {
      const s = layerStats[l]?.statistic;
      return s !== undefined && !(s > (c.tau[l] ?? 0));
    })
  ) {
    reasons.push('τ above every layer statistic');
  }
  return reasons;
}

/** "This setting cannot change the model: α = 0; no layer enabled." (empty without reasons). */
export function noEffectSentence(reasons: readonly string[]): string {
  return reasons.length === 0 ? '' : `This setting cannot change the model: ${reasons.join('; ')}.`;
}

/** A setting's title and its no-effect reasons, as an evaluation lists them. */
export interface TitledReasons {
  title: string;
  reasons: readonly string[];
}

/**
 * One line per set of reasons: "3 of 24 settings cannot change the model (α = 0): AR, AR
 * tau=0, AR tau=0.05", at most `maxTitles` titles each. Empty when every setting acts.
 */
export function noEffectLines(settings: readonly TitledReasons[], maxTitles = 6): string[] {
  const groups = new Map<string, string[]>();
  for (const s of settings) {
    if (s.reasons.length === 0) continue;
    const key = s.reasons.join('; ');
    groups.set(key, [...(groups.get(key) ?? []), s.title]);
  }
  return [...groups].map(([reasons, titles]) => {
    const shown = titles.slice(0, maxTitles).join(', ');
    const more = titles.length > maxTitles ? ` and ${titles.length - maxTitles} more` : '';
    const count = `${titles.length} of ${settings.length} settings`;
    return `${count} cannot change the model (${reasons}): ${shown}${more}`;
  });
}

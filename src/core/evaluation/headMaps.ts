// Heads over a benchmark: each record keeps, per setting, which heads were flagged (a hex
// bitmask) and the `off` run's head statistic per head; here they become layer × head maps per
// setting and clip group (all clips, each subset, right and wrong answers of that setting): the
// share of clips in which a head was flagged and its mean statistic. `fixedHeadOverride` turns
// a map into a head override that forces the often-flagged heads on and all others off, so AR
// can run with one head set chosen on a dataset. Pure: no I/O.
import { RATIO_KIND_NAMES, type RatioKindName } from '../../protocol/contract';
import type {
  CheckpointHeadMaps,
  HeadGroupMap,
  SettingHeadMaps,
} from '../../protocol/evaluationSummary';
import type { BenchmarkPlan, ClipRecord } from '../../protocol/runFolder';
import { isOn } from '../../shared/onOff';

/** Flags (flat l·Hh + h, on when > 0.5) as a hex bitmask: character k holds heads 4k…4k+3. */
export function encodeHeadMask(flags: ArrayLike<number>): string {
  let out = '';
  for (let k = 0; k < flags.length; k += 4) {
    let nibble = 0;
    for (let b = 0; b < 4 && k + b < flags.length; b++) {
      if (isOn(flags[k + b] as number)) nibble |= 1 << b;
    }
    out += nibble.toString(16);
  }
  return out;
}

/** The flags of `count` heads from a hex bitmask; a mask of another length is refused. */
export function decodeHeadMask(mask: string, count: number): boolean[] {
  if (mask.length !== Math.ceil(count / 4)) {
    throw new RangeError(
      `a mask of ${count} heads has ${Math.ceil(count / 4)} hex digits, got ${mask.length}`,
    );
  }
  const flags = new Array<boolean>(count);
  for (let i = 0; i < count; i++) {
    flags[i] = ((parseInt(mask[i >> 2] as string, 16) >> (i & 3)) & 1) === 1;
  }
  return flags;
}

/** A number to `digits` significant digits (records and summaries stay small; NaN stays NaN). */
export function significant(value: number, digits = 4): number {
  return Number.isFinite(value) ? Number(value.toPrecision(digits)) : value;
}

/** One clip's head data, as its record holds it (decoded). */
export interface HeadClip {
  subset: string | null;
  label: number;
  /** Per setting (plan order): the predicted label. */
  predictions: readonly number[];
  /** Per setting: each head's flag (flat l·Hh + h). */
  flags: readonly (readonly boolean[])[];
  /** The `off` run's head statistic per head, or null when the record has none. */
  statistics: readonly number[] | null;
}

/** What the maps are made of. */
export interface HeadMapInput {
  layers: number;
  heads: number;
  statistic: RatioKindName;
  /** The settings (plan order) whose maps are made: those that can flag heads. */
  settings: readonly { id: string; index: number }[];
  /** Subsets named in the manifest, in table order. */
  subsets: readonly string[];
  clips: readonly HeadClip[];
}

/** The map of one group of clips under the setting at `index`. */
function groupMap(
  layers: number,
  heads: number,
  index: number,
  members: readonly HeadClip[],
): HeadGroupMap {
  const count = layers * heads;
  const flagged = new Array<number>(count).fill(0);
  const sums = new Array<number>(count).fill(0);
  let withStatistics = members.every((c) => c.statistics !== null);
  for (const clip of members) {
    const flags = clip.flags[index] ?? [];
    for (let i = 0; i < count; i++) {
      if (flags[i] === true) flagged[i] = (flagged[i] as number) + 1;
      if (withStatistics) sums[i] = (sums[i] as number) + (clip.statistics?.[i] ?? NaN);
    }
  }
  if (!sums.every(Number.isFinite)) withStatistics = false;
  const grid = (values: number[]) =>
    Array.from({ length: layers }, (_, l) => values.slice(l * heads, (l + 1) * heads));
  const n = members.length;
  return {
    clips: n,
    flagShare: grid(flagged.map((f) => Number((f / n).toFixed(4)))),
    meanStatistic: withStatistics ? grid(sums.map((s) => significant(s / n))) : null,
  };
}

/**
 * Per setting, per group (all clips, each subset, right and wrong answers of that setting): the
 * share of clips that flagged each head and the mean `off` head statistic; empty groups are left
 * out. Null when no clip has head data.
 */
export function summarizeHeadMaps(input: HeadMapInput): CheckpointHeadMaps | null {
  const { layers, heads, clips } = input;
  if (clips.length === 0) return null;
  const settings = input.settings.map(({ id, index }): SettingHeadMaps => {
    const groups: SettingHeadMaps['groups'] = {};
    const right = (c: HeadClip) => c.predictions[index] === c.label;
    const members: [string, (c: HeadClip) => boolean][] = [
      ['all', () => true],
      ...input.subsets.map((s): [string, (c: HeadClip) => boolean] => [s, (c) => c.subset === s]),
      ['right', right],
      ['wrong', (c) => !right(c)],
    ];
    for (const [name, include] of members) {
      const group = clips.filter(include);
      if (group.length > 0) groups[name] = groupMap(layers, heads, index, group);
    }
    return { setting: id, groups };
  });
  return { layers, heads, statistic: input.statistic, settings };
}

/**
 * The [L][Hh] head override of a fixed head set: +1 (forced on) for heads flagged in at least
 * `minShare` of the map's clips, −1 (forced off) for every other head.
 */
export function fixedHeadOverride(
  map: Pick<HeadGroupMap, 'flagShare'>,
  minShare: number,
): number[][] {
  if (!(minShare >= 0 && minShare <= 1)) {
    throw new RangeError(`the share a head needs must lie in [0, 1], got ${minShare}`);
  }
  return map.flagShare.map((row) => row.map((share) => (share >= minShare ? 1 : -1)));
}

/** A head and how often it was flagged. */
export interface RankedHead {
  layer: number;
  head: number;
  share: number;
}

/** The `count` most often flagged heads of a map (share > 0), most flagged first. */
export function mostFlaggedHeads(
  map: Pick<HeadGroupMap, 'flagShare'>,
  count: number,
): RankedHead[] {
  const all = map.flagShare.flatMap((row, layer) =>
    row.map((share, head) => ({ layer, head, share })),
  );
  return all
    .filter((h) => h.share > 0)
    .sort((a, b) => b.share - a.share || a.layer - b.layer || a.head - b.head)
    .slice(0, count);
}

/** A head set chosen on an evaluated dataset, as a head override. */
export interface FixedHeadSet {
  /** [L][Hh]: +1 for the chosen heads, −1 for the others. */
  override: number[][];
  /** Heads chosen. */
  heads: number;
  /** The manifest it was chosen on (its folder's name for a `manifest.jsonl`/`.csv`). */
  chosenOn: string;
  /** The share of clips a head needed. */
  minShare: number;
  /** Clips the choice was made on. */
  clips: number;
}

/** A manifest's name for a title: its folder for `manifest.jsonl`/`.csv`, else its file name. */
export function manifestName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  const file = parts.at(-1) ?? path;
  return /^manifest\.(jsonl|csv)$/i.test(file) ? (parts.at(-2) ?? file) : file;
}

/**
 * The fixed head set of `checkpoint` from an evaluated run: the heads its `settingId` setting
 * (per-clip detection, "ar") flagged in at least `minShare` of the clips. Throws a RangeError
 * naming what is missing (the checkpoint, the setting, records with head data).
 */
export function fixedHeadSetOf(
  plan: BenchmarkPlan,
  records: readonly ClipRecord[],
  checkpoint: string,
  minShare: number,
  settingId = 'ar',
): FixedHeadSet {
  const planned = plan.checkpoints.find((c) => c.name === checkpoint);
  if (planned === undefined) throw new RangeError(`it has no records of checkpoint ${checkpoint}`);
  const index = planned.settings.findIndex((s) => s.id === settingId);
  const off = planned.settings[0]?.controls;
  if (index < 0 || off === undefined) {
    throw new RangeError(`its checkpoint ${checkpoint} has no setting "${settingId}"`);
  }
  const layers = off.headOverride.length;
  const heads = off.headOverride[0]?.length ?? 0;
  const clips = records.flatMap((r): HeadClip[] =>
    r.ok && r.checkpoint === checkpoint && r.flagMasks?.length === planned.settings.length
      ? [
          {
            subset: null,
            label: -1,
            predictions: r.predictions,
            flags: r.flagMasks.map((m) => decodeHeadMask(m, layers * heads)),
            statistics: null,
          },
        ]
      : [],
  );
  const all = summarizeHeadMaps({
    layers,
    heads,
    statistic: RATIO_KIND_NAMES[off.ratioKind],
    settings: [{ id: settingId, index }],
    subsets: [],
    clips,
  })?.settings[0]?.groups['all'];
  if (all === undefined) {
    throw new RangeError(
      `its records of ${checkpoint} hold no flagged heads (written before records kept them): ` +
        'evaluate that manifest again',
    );
  }
  const override = fixedHeadOverride(all, minShare);
  return {
    override,
    heads: override.flat().filter((x) => x > 0).length,
    chosenOn: manifestName(plan.manifest.path),
    minShare,
    clips: all.clips,
  };
}

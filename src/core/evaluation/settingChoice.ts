// Choosing one setting on one split and evaluating it once on another: the rules `mosear-lens
// choose` applies to a finished evaluation (the repository's own rule from models/RESULTS.md
// "AR defaults", and the best mean accuracy), the choice file they produce, and the settings an
// evaluation of that choice runs (`off` and the chosen one, marked with where it was chosen).
// The rules are pure; reading a run folder and a choice file are the only I/O.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  CA_MER_SUBSETS,
  type BenchmarkSummary,
  type CheckpointEvaluation,
} from '../../protocol/evaluationSummary';
import { parseOrThrow, issuePath } from '../../protocol/issues';
import type { BenchmarkPlan, ClipRecord, PlannedCheckpoint } from '../../protocol/runFolder';
import {
  CHOICE_RULE_IDS,
  CHOICE_SCHEMA,
  SettingChoiceSchema,
  type ChoiceCandidate,
  type ChoiceRuleId,
  type SettingChoice,
} from '../../protocol/settingChoice';
import { BenchmarkError, FinishedClips, settleRecords, shardClips } from './benchmarkRecords';
import { fixedHeadSetOf } from './headMaps';
import { readRunDirectory, sha256File } from './benchmarkRun';
import { summarizeBenchmark } from './benchmarkSummary';
import type { EvaluationSetting } from './evaluationSettings';
import { readManifest } from './manifest';

export { CHOICE_RULE_IDS, type ChoiceRuleId, type SettingChoice };

/** Share of clips in which AR must have flagged a head for the `fixed-heads` rule to keep it. */
export const FIXED_HEADS_MIN_SHARE = 0.5;

/** Most points a constrained subset may lose against `off` under the `ar-defaults` rule. */
export const MAX_DROP_POINTS = 0.5;
/** Accuracies are 100·k/n: equal counts give equal numbers, but sums may differ in the last bit. */
const EPS = 1e-9;

/** Each rule in words (stated in the choice file and every report of its evaluation). */
export const CHOICE_RULES: Record<ChoiceRuleId, { text: string; needsCaMer: boolean }> = {
  'ar-defaults': {
    text:
      'maximise video-aligned accuracy subject to audio-aligned and consistent accuracy each ' +
      `dropping by at most ${MAX_DROP_POINTS} points against off; ties go to the higher mean, ` +
      'then fewer flagged heads, then smaller α (models/RESULTS.md, "AR defaults")',
    needsCaMer: true,
  },
  'best-mean': {
    text:
      "maximise the unweighted mean accuracy of the manifest's subsets (all clips when it has " +
      'none); ties go to fewer flagged heads, then smaller α',
    needsCaMer: false,
  },
  'fixed-heads': {
    text:
      `AR on a fixed head set instead of per-clip detection: the heads AR flagged in at least ` +
      `${100 * FIXED_HEADS_MIN_SHARE} % of the run's clips forced on, every other head forced ` +
      "off, every other control at the checkpoint's AR setting",
    needsCaMer: false,
  },
};

/** Parses a rule id as typed; a BenchmarkError lists the rules. */
export function parseChoiceRule(text: string): ChoiceRuleId {
  if ((CHOICE_RULE_IDS as readonly string[]).includes(text)) return text as ChoiceRuleId;
  throw new BenchmarkError(`unknown rule "${text}" (rules: ${CHOICE_RULE_IDS.join(', ')})`);
}

/** α for AR, γ for PAI-style, 0 for off: the strength the last tie-break prefers small. */
function strengthOf(setting: EvaluationSetting): number {
  const c = setting.controls;
  return c.mode === 1 ? c.alpha : c.mode === 2 ? c.paiAlpha : 0;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const signed = (x: number): string => `${x > 0 ? '+' : ''}${x.toFixed(1)}`;

/** Candidates of one checkpoint under a rule, unranked. Throws when the rule cannot apply. */
function scoreCandidates(
  rule: ChoiceRuleId,
  subsets: readonly string[],
  evaluation: CheckpointEvaluation,
  planned: PlannedCheckpoint,
): Omit<ChoiceCandidate, 'rank'>[] {
  const settings = evaluation.settings;
  if (settings.length < 2 || planned.settings.length !== settings.length) {
    throw new BenchmarkError(
      `${planned.name} was evaluated in a single setting (${settings[0]?.title ?? 'none'}): ` +
        'there is nothing to choose from (evaluate the standard settings or a sweep)',
    );
  }
  const off = settings[0] as (typeof settings)[number];
  const accuracy = (s: (typeof settings)[number], subset: string) =>
    s.bySubset[subset]?.accuracy ?? NaN;
  if (CHOICE_RULES[rule].needsCaMer) {
    const missing = CA_MER_SUBSETS.filter((name) => !((off.bySubset[name]?.count ?? 0) > 0));
    if (missing.length > 0) {
      throw new BenchmarkError(
        `the rule ${rule} needs the CA-MER subsets (${CA_MER_SUBSETS.join(', ')}); this run ` +
          `has no ${missing.join(', ')} clips (its subsets: ${subsets.join(', ') || 'none'}): ` +
          'use --rule best-mean, or choose on a manifest with those subsets',
      );
    }
  }
  const meanOf = (s: (typeof settings)[number]) => {
    const values = subsets.map((name) => accuracy(s, name)).filter(Number.isFinite);
    return values.length === 0
      ? s.overall.accuracy
      : values.reduce((a, b) => a + b, 0) / values.length;
  };
  return settings.map((s, k) => {
    const setting = planned.settings[k] as EvaluationSetting;
    const mean = meanOf(s);
    let score = mean;
    const drops: string[] = [];
    if (rule === 'ar-defaults') {
      score = accuracy(s, 'video-aligned');
      for (const name of ['audio-aligned', 'consistent']) {
        const delta = accuracy(s, name) - accuracy(off, name);
        if (!(delta >= -MAX_DROP_POINTS - EPS)) drops.push(`${name} ${signed(delta)}`);
      }
    }
    return {
      id: s.id,
      title: s.title,
      score: finite(score),
      mean: finite(mean),
      meanFlaggedHeads: finite(s.meanFlaggedHeads),
      strength: strengthOf(setting),
      feasible: drops.length === 0 && Number.isFinite(score),
      reason:
        drops.length > 0
          ? `${drops.join(', ')} points against off (at most -${MAX_DROP_POINTS})`
          : Number.isFinite(score)
            ? ''
            : 'no clips to score',
    };
  });
}

/** Higher first for `score` and `mean`, lower first for flagged heads and strength. */
function compareCandidates(
  rule: ChoiceRuleId,
  a: Omit<ChoiceCandidate, 'rank'>,
  b: Omit<ChoiceCandidate, 'rank'>,
): number {
  const desc = (x: number | null, y: number | null) => {
    const d = (y ?? -Infinity) - (x ?? -Infinity);
    return Math.abs(d) <= EPS || Number.isNaN(d) ? 0 : d;
  };
  const asc = (x: number | null, y: number | null) => -desc(x, y);
  return (
    desc(a.score, b.score) ||
    (rule === 'ar-defaults' ? desc(a.mean, b.mean) : 0) ||
    asc(a.meanFlaggedHeads, b.meanFlaggedHeads) ||
    asc(a.strength, b.strength)
  );
}

/**
 * Applies `rule` to one checkpoint's settings of a finished evaluation: every candidate with its
 * score and rank (stable: a full tie keeps the evaluation's order), and the chosen setting. `off`
 * is a candidate and always feasible, so the rule falls back to it when nothing else qualifies.
 */
export function rankSettings(
  rule: ChoiceRuleId,
  summary: Pick<BenchmarkSummary, 'subsets'>,
  evaluation: CheckpointEvaluation,
  planned: PlannedCheckpoint,
): { candidates: ChoiceCandidate[]; chosen: EvaluationSetting } {
  const scored = scoreCandidates(rule, summary.subsets, evaluation, planned);
  const order = scored
    .map((c, k) => ({ c, k }))
    .filter(({ c }) => c.feasible)
    .sort((x, y) => compareCandidates(rule, x.c, y.c) || x.k - y.k);
  const rank = new Map(order.map(({ k }, i) => [k, i + 1]));
  const first = order[0];
  if (first === undefined) throw new BenchmarkError(`no setting of ${planned.name} can be scored`);
  return {
    candidates: scored.map((c, k) => ({ ...c, rank: rank.get(k) ?? null })),
    chosen: planned.settings[first.k] as EvaluationSetting,
  };
}

/** The choice file of `rule` applied to a run's checkpoint (`name`; the only one when undefined). */
export function chooseSetting(
  source: {
    runFolder: string;
    plan: BenchmarkPlan;
    summary: BenchmarkSummary;
    records?: readonly ClipRecord[];
  },
  rule: ChoiceRuleId,
  name?: string,
): SettingChoice {
  const { plan, summary } = source;
  const names = plan.checkpoints.map((c) => c.name);
  if (name === undefined && names.length > 1) {
    throw new BenchmarkError(`the run evaluated ${names.join(', ')}: name one with --checkpoint`);
  }
  const planned = plan.checkpoints.find((c) => name === undefined || c.name === name);
  const evaluation = summary.checkpoints.find((c) => c.name === planned?.name);
  if (planned === undefined || evaluation === undefined) {
    throw new BenchmarkError(
      `the run has no checkpoint "${name ?? ''}" (it has ${names.join(', ')})`,
    );
  }
  const { candidates, chosen } =
    rule === 'fixed-heads'
      ? fixedHeadChoice(planned, plan, source.records ?? [])
      : rankSettings(rule, summary, evaluation, planned);
  return {
    schema: CHOICE_SCHEMA,
    checkpoint: {
      name: planned.name,
      fileName: planned.fileName,
      path: planned.path,
      sha256: planned.sha256,
    },
    chosenBy: {
      manifest: plan.manifest.path,
      manifestSha256: plan.manifest.sha256,
      clips: evaluation.evaluated,
      runFolder: source.runFolder,
      rule,
      ruleText: CHOICE_RULES[rule].text,
    },
    candidates,
    chosen,
  };
}

/** The `fixed-heads` rule: the run's AR setting on the heads it flagged in most clips. */
function fixedHeadChoice(
  planned: PlannedCheckpoint,
  plan: BenchmarkPlan,
  records: readonly ClipRecord[],
): { candidates: ChoiceCandidate[]; chosen: EvaluationSetting } {
  const ar = planned.settings.find((s) => s.id === 'ar');
  if (ar === undefined) {
    throw new BenchmarkError(`${planned.name} was not evaluated with AR: no heads to fix`);
  }
  let set;
  try {
    set = fixedHeadSetOf(plan, records, planned.name, FIXED_HEADS_MIN_SHARE);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new BenchmarkError(`cannot fix heads from this run: ${error.message}`);
    }
    throw error;
  }
  return {
    candidates: [],
    chosen: {
      id: 'ar fixed',
      title: `AR, fixed heads (${set.heads} heads, chosen on ${set.chosenOn})`,
      controls: { ...ar.controls, mode: 1, headOverride: set.override.map((r) => [...r]) },
      sweep: null,
    },
  };
}

/**
 * A finished, unsharded run folder read for a choice: its plan and a fresh summary of its records.
 * Refuses a folder without a run, a shard, a changed manifest and an unfinished run.
 */
export async function readChoiceSource(dir: string): Promise<{
  runFolder: string;
  plan: BenchmarkPlan;
  summary: BenchmarkSummary;
  records: ClipRecord[];
}> {
  const runFolder = resolve(dir);
  const { plan, records } = await readRunDirectory(runFolder);
  if (plan === null) throw new BenchmarkError(`${runFolder} holds no evaluation (no plan.json)`);
  if (plan.shard.count > 1) {
    throw new BenchmarkError(
      `${runFolder} holds shard ${plan.shard.index}/${plan.shard.count}: merge the shards first`,
    );
  }
  const sha = await sha256File(plan.manifest.path).catch(() => {
    throw new BenchmarkError(`the run's manifest ${plan.manifest.path} is gone`);
  });
  if (sha !== plan.manifest.sha256) {
    throw new BenchmarkError(
      `the run's manifest ${plan.manifest.path} changed since the run: evaluate it again`,
    );
  }
  const entries = await readManifest(plan.manifest.path, plan.labels);
  const finished = new FinishedClips(records);
  const names = plan.checkpoints.map((c) => c.name);
  const clips = shardClips(entries.length, plan.shard);
  const done = clips.filter((clip) => finished.clipDone(clip, names)).length;
  if (done < clips.length) {
    throw new BenchmarkError(
      `${runFolder} is unfinished (${done} of ${clips.length} clips): resume it first`,
    );
  }
  return {
    runFolder,
    plan,
    summary: summarizeBenchmark(plan, entries, records, clips.length),
    records: settleRecords(records),
  };
}

/** Reads and checks a choice file. */
export async function readChoiceFile(path: string): Promise<SettingChoice> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new BenchmarkError(`cannot read the choice file ${path}: ${(error as Error).message}`);
  }
  return parseOrThrow(
    SettingChoiceSchema,
    value,
    (issue) =>
      new BenchmarkError(
        `${path} is not a ${CHOICE_SCHEMA} choice file (${issuePath(issue, 'choice')}: ${issue.message})`,
      ),
  );
}

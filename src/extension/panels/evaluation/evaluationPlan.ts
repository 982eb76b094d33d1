// The pure parts of planning an evaluation in the extension: the manifest's display name, sweeps
// typed like the CLI's, what a sweep choice holds fixed and runs, the default run folder, and
// the finished run folders a setting can be chosen on. No `vscode` import: tested in plain Node.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  evaluationSettings,
  parseSweep,
  settingNoEffect,
  type EvaluationSetting,
  type SweepRequest,
} from '../../../core/evaluation/evaluationSettings';
import { RATIO_KIND_NAMES, type ContractMetadata } from '../../../protocol/contract';
import { defaultControls } from '../../../shared/controls';
import { noEffectLines } from '../../../shared/noEffect';
import { isOn } from '../../../shared/onOff';
import type { SettingChoice } from '../../../protocol/settingChoice';

/** Where the Evaluate Benchmark command keeps run folders: the workspace's, then the global ones. */
export function runFolderRoots(
  globalStorageDir: string,
  workspaceDir: string | undefined,
): string[] {
  return [
    ...(workspaceDir === undefined ? [] : [join(workspaceDir, '.mosear', 'eval')]),
    join(globalStorageDir, 'eval'),
  ];
}

/** The finished run folders (with summary.json) under `roots`, newest name order kept per root. */
export function finishedRunFolders(roots: readonly string[]): string[] {
  return roots.flatMap((root) => {
    let names: string[];
    try {
      names = readdirSync(root).sort();
    } catch {
      return [];
    }
    return names
      .map((name) => join(root, name))
      .filter((dir) => existsSync(join(dir, 'summary.json')) && existsSync(join(dir, 'plan.json')));
  });
}

/** The manifest's display name: its folder's name when the file is the conventional manifest.* */
export function manifestTitle(manifestPath: string): string {
  const name = basename(manifestPath).replace(/\.(jsonl|csv)$/i, '');
  return name === 'manifest' ? basename(join(manifestPath, '..')) : name;
}

/** Parses sweeps written like the CLI's, several separated by spaces or semicolons. */
export function parseSweepText(text: string): SweepRequest[] {
  return text
    .split(/[\s;]+/)
    .filter((s) => s !== '')
    .map(parseSweep);
}

/** The default run folder: in the workspace's `.mosear/eval/`, else the global storage. */
export function defaultRunDir(
  globalStorageDir: string,
  workspaceDir: string | undefined,
  manifest: string,
  models: readonly string[],
  sweeps: readonly SweepRequest[],
  choice?: SettingChoice,
): { dir: string; note: string } {
  // The same evaluation (manifest, checkpoints, sweeps, chosen setting) always lands in the same
  // folder, so running it again resumes; jobs do not change the numbers and are left out.
  const key: unknown[] = [resolve(manifest), models.map((m) => resolve(m)), sweeps];
  if (choice !== undefined) key.push(choice.chosenBy, choice.chosen);
  const hash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 10);
  const name = `${manifestTitle(manifest).replace(/[^\w.-]+/g, '_')}-${hash}`;
  if (workspaceDir !== undefined) {
    const dir = join(workspaceDir, '.mosear', 'eval', name);
    return { dir, note: `Run folder in the workspace: ${dir}` };
  }
  const dir = join(globalStorageDir, 'eval', name);
  return { dir, note: `No workspace is open: run folder in the extension's storage, ${dir}` };
}

/** What a sweep choice would run, shown on its quick-pick item before the run starts. */
export interface SweepPreview {
  /** "30 clips × 24 settings × 2 checkpoints = 1440 runs". */
  runs: string;
  /** Per checkpoint, the checkpoint defaults the sweep's AR points hold fixed. */
  heldFixed: string[];
  /** Settings that cannot change the model, one line per checkpoint and reason. */
  warnings: string[];
}

const fmt = (v: number): string => String(Number(v.toPrecision(4)));

/** "τ 0.5" (one value on every layer) or "τ [0.1, 0.2, …]". */
function tauText(tau: readonly number[]): string {
  const first = tau[0] ?? 0;
  return tau.every((t) => t === first) ? `τ ${fmt(first)}` : `τ [${tau.map(fmt).join(', ')}]`;
}

/** The checkpoint defaults a choice of sweeps holds fixed, as one line. */
function heldFixedText(meta: ContractMetadata, sweeps: readonly SweepRequest[]): string {
  const d = defaultControls(meta);
  const swept = new Set(sweeps.map((s) => s.parameter));
  const layers = d.layers.flatMap((v, l) => (isOn(v) ? [String(l)] : []));
  const ar = [
    `${RATIO_KIND_NAMES[d.ratioKind]} statistic`,
    ...(swept.has('tau') ? [] : [tauText(d.tau)]),
    `margin ${fmt(d.headMargin)}`,
    ...(swept.has('alpha') ? [] : [`α ${fmt(d.alpha)}`]),
    layers.length === 0 ? 'no layer' : `layers ${layers.join(',')}`,
  ].join(', ');
  const pai = sweeps.length === 0 ? `; PAI-style γ ${fmt(d.paiAlpha)} on every layer` : '';
  return `${meta.checkpoint.name}: AR ${ar}${pai}`;
}

/**
 * What the evaluation of `clips` clips with these checkpoints and sweeps would run: the number
 * of runs, the parameters the AR points hold fixed (the checkpoints' defaults) and warnings for
 * settings that cannot change the model. Throws SweepError as evaluationSettings does.
 */
export function previewSweep(
  metas: readonly ContractMetadata[],
  sweeps: readonly SweepRequest[],
  clips: number,
): SweepPreview {
  const perCheckpoint = metas.map((meta) => evaluationSettings(meta, sweeps));
  const counts = perCheckpoint.map((s) => s.length);
  const total = counts.reduce((a, b) => a + b, 0);
  const clipsText = `${clips} clip${clips === 1 ? '' : 's'}`;
  const first = counts[0] ?? 0;
  const settingsText = counts.every((n) => n === first)
    ? `${first} settings × ${counts.length} checkpoint${counts.length === 1 ? '' : 's'}`
    : `(${counts.join(' + ')}) settings`;
  return {
    runs: `${clipsText} × ${settingsText} = ${clips * total} runs`,
    heldFixed: metas.map((meta) => heldFixedText(meta, sweeps)),
    warnings: metas.flatMap((meta, i) =>
      noEffectLines(
        (perCheckpoint[i] ?? []).map((s) => ({ title: s.title, reasons: settingNoEffect(s) })),
      ).map((line) => `${meta.checkpoint.name}: ${line}`),
    ),
  };
}

/** A τ sweep with α held at `alpha` (null: each checkpoint's default α): a one-value α sweep. */
export function withFixedAlpha(
  sweeps: readonly SweepRequest[],
  alpha: number | null,
): SweepRequest[] {
  if (alpha === null || sweeps.some((s) => s.parameter === 'alpha')) return [...sweeps];
  return [...sweeps, { parameter: 'alpha', values: [alpha] }];
}

/**
 * Checks the α typed for a τ sweep: '' keeps each checkpoint's default; a number in [0, 1] holds
 * it fixed. Returns an error, a warning (α 0: every point equals off; accepted), or undefined.
 */
export function checkFixedAlpha(
  text: string,
  defaults: readonly { name: string; alpha: number }[],
): { message: string; warning: boolean } | undefined {
  if (text.trim() === '') {
    const zero = defaults.filter((d) => d.alpha === 0).map((d) => d.name);
    return zero.length === 0
      ? undefined
      : {
          message: `the default α of ${zero.join(', ')} is 0: its τ points cannot change the model`,
          warning: true,
        };
  }
  const alpha = Number(text);
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
    return {
      message: 'α is a number in [0, 1] (empty: each checkpoint’s default)',
      warning: false,
    };
  }
  return alpha === 0
    ? { message: 'α = 0: AR cannot change the model, every τ point will equal off', warning: true }
    : undefined;
}

/**
 * The Evaluate tab's title, which two evaluations of one manifest do not share: the manifest,
 * the checkpoints and the swept values ("MoSEAR Eval: test · mosear-tiny · τ ×21, α 0.3").
 */
export function evaluationTabTitle(
  manifest: string,
  checkpoints: readonly {
    name: string;
    settings: readonly Pick<EvaluationSetting, 'sweep' | 'chosenBy'>[];
  }[],
): string {
  const points = (checkpoints[0]?.settings ?? []).flatMap((s) =>
    s.sweep === null ? [] : [s.sweep],
  );
  const swept = (name: string, values: (number | undefined)[]): string[] => {
    const distinct = [...new Set(values.filter((v) => v !== undefined))];
    if (distinct.length === 0) return [];
    return [distinct.length === 1 ? `${name} ${distinct[0]}` : `${name} ×${distinct.length}`];
  };
  const sweep = [
    ...swept(
      'τ',
      points.map((p) => p.tau),
    ),
    ...swept(
      'α',
      points.map((p) => p.alpha),
    ),
  ].join(', ');
  const names = checkpoints.map((c) => c.name).join(' + ');
  const chosenBy = checkpoints[0]?.settings.find((s) => s.chosenBy !== undefined)?.chosenBy;
  const chosen = chosenBy === undefined ? '' : ` · chosen on ${manifestTitle(chosenBy.manifest)}`;
  return `MoSEAR Eval: ${manifest} · ${names}${sweep === '' ? '' : ` · ${sweep}`}${chosen}`;
}

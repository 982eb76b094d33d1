// "MoSEAR: Evaluate Benchmark": asks for a manifest (or takes the explorer's file or folder),
// checkpoints, an optional sweep (each choice showing what it holds fixed, its number of runs and
// its settings without effect; a τ sweep's α may be set), jobs and a run folder, then runs the
// evaluation in the Evaluate panel. Its first step also offers the honest selection flow: choose a
// setting on a finished evaluation by a stated rule, then evaluate it once on another manifest.
// Tests pass an `EvaluateArguments` object instead of answering the prompts.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { locateManifest } from '../../../core/evaluation/manifest';
import {
  choiceSettings,
  evaluationSettings,
  type SweepRequest,
} from '../../../core/evaluation/evaluationSettings';
import {
  CHOICE_RULES,
  CHOICE_RULE_IDS,
  chooseSetting,
  readChoiceSource,
  type SettingChoice,
} from '../../../core/evaluation/settingChoice';
import { planBenchmark } from '../../../core/evaluation/benchmarkRun';
import type { ContractMetadata } from '../../../protocol/contract';
import { EvaluationPanel, type EvaluationOutcome } from './evaluationPanel';
import {
  checkFixedAlpha,
  defaultRunDir,
  evaluationTabTitle,
  finishedRunFolders,
  manifestTitle,
  parseSweepText,
  previewSweep,
  runFolderRoots,
  withFixedAlpha,
} from './evaluationPlan';
import { messageOf } from '../../logger';
import { EVALUATION_JOBS_BOUNDS } from '../../settings';
import type { PanelHost } from '../panelBase';

/** What a caller may fix instead of being asked (all optional; absent ones take defaults). */
export interface EvaluateArguments {
  /** Checkpoint paths (default: the shipped ones). */
  models?: string[];
  /** Sweeps as written for the CLI, e.g. "tau=0.1:0.5:0.05" (default: none). */
  sweeps?: string[];
  jobs?: number;
  /** The run folder (default: `.mosear/eval/<manifest>-<hash>` in the workspace). */
  outDir?: string;
}

/** The shipped test split in the extension's folder (absent from a VSIX). */
export function shippedTestSplit(extensionPath: string): string {
  return join(extensionPath, 'models', 'data', 'ca-mer-synth', 'test');
}

/** Reads the command's optional second argument (the explorer passes an array there). */
function evaluateArguments(value: unknown): EvaluateArguments | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const strings = (x: unknown): string[] | undefined =>
    Array.isArray(x) && x.every((s) => typeof s === 'string') ? x : undefined;
  const args: EvaluateArguments = {};
  const models = strings(v['models']);
  const sweeps = strings(v['sweeps']);
  if (models !== undefined) args.models = models;
  if (sweeps !== undefined) args.sweeps = sweeps;
  if (typeof v['jobs'] === 'number') args.jobs = v['jobs'];
  if (typeof v['outDir'] === 'string') args.outDir = v['outDir'];
  return args;
}

type PathItem = vscode.QuickPickItem & { path?: string; choose?: true };

/** pickManifest's answer when the user picked the "choose, then evaluate" entry. */
const CHOOSE_FIRST = Symbol('choose a setting first');

/**
 * Asks for a manifest: the shipped test split, the workspace's manifests, or a file dialog; with
 * `offerChoice`, also the entry that chooses a setting on a finished evaluation first.
 */
async function pickManifest(
  host: PanelHost,
  offerChoice = true,
  title = 'MoSEAR: Evaluate Benchmark (1/5)',
): Promise<string | typeof CHOOSE_FIRST | undefined> {
  const items: PathItem[] = [];
  const split = shippedTestSplit(host.extensionUri.fsPath);
  if (existsSync(join(split, 'manifest.jsonl'))) {
    items.push({
      label: 'CA-MER-synth test split',
      description: 'shipped with MoSEAR Lens',
      path: split,
    });
  }
  const found = await vscode.workspace.findFiles(
    '**/manifest.{jsonl,csv}',
    '{**/node_modules/**,**/.mosear/**}',
    200,
  );
  for (const uri of found.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    items.push({
      label: manifestTitle(uri.fsPath),
      description: vscode.workspace.asRelativePath(uri, false),
      path: uri.fsPath,
    });
  }
  items.push({ label: '$(folder-opened) Browse…', description: 'a manifest file or a folder' });
  if (offerChoice) {
    items.push({
      label:
        '$(filter) Choose a setting on a finished evaluation, then evaluate it on another manifest…',
      detail:
        'pick it on validation by a stated rule, report it once on test (no selection on test)',
      choose: true,
    });
  }
  const chosen = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: 'A labelled clip list (JSONL or CSV: path, label, subset) or its folder',
    matchOnDescription: true,
  });
  if (chosen === undefined) return undefined;
  if (chosen.choose === true) return CHOOSE_FIRST;
  if (chosen.path !== undefined) return chosen.path;
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { Manifests: ['jsonl', 'csv'] },
    title: 'MoSEAR: Evaluate Benchmark — manifest or folder',
  });
  return picked?.[0]?.fsPath;
}

/** Asks for checkpoints: the shipped ones (preselected) and, when trusted, workspace ones. */
async function pickCheckpoints(host: PanelHost): Promise<string[] | undefined> {
  const shipped = await host.checkpoints.shipped();
  const items: PathItem[] = shipped.map((path) => ({
    label: basename(path),
    description: 'shipped',
    path,
    picked: true,
  }));
  if (host.config.current.trusted) {
    const found = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 200);
    for (const uri of found) {
      if (shipped.includes(uri.fsPath)) continue;
      items.push({
        label: basename(uri.fsPath),
        description: vscode.workspace.asRelativePath(uri, false),
        path: uri.fsPath,
      });
    }
  }
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'MoSEAR: Evaluate Benchmark (2/5)',
    placeHolder: host.config.current.trusted
      ? 'Checkpoints to evaluate (same label set)'
      : 'Restricted Mode: only the shipped checkpoints',
    canPickMany: true,
  });
  if (chosen === undefined || chosen.length === 0) return undefined;
  return chosen.flatMap((c) => (c.path === undefined ? [] : [c.path]));
}

/** What the sweep step needs to preview each choice: the checkpoints' metadata and the clips. */
interface SweepContext {
  metas: ContractMetadata[];
  clips: number;
}

/** A quick-pick item's description and detail: runs, what is held fixed, no-op warnings. */
function previewItem(
  context: SweepContext,
  sweeps: SweepRequest[],
): Pick<vscode.QuickPickItem, 'description' | 'detail'> {
  const p = previewSweep(context.metas, sweeps, context.clips);
  const warnings = p.warnings.map((w) => `$(warning) ${w}`);
  return {
    description: p.runs,
    detail: [`holds fixed: ${p.heldFixed.join(' · ')}`, ...warnings].join('\n'),
  };
}

/** Asks for the α a τ sweep holds fixed (empty: each checkpoint's default); 0 with a warning. */
async function pickFixedAlpha(context: SweepContext): Promise<number | null | undefined> {
  const defaults = context.metas.map((m) => ({
    name: m.checkpoint.name,
    alpha: m.arDefaults.alpha,
  }));
  const text = await vscode.window.showInputBox({
    title: 'MoSEAR: Evaluate Benchmark — α held fixed by the τ sweep',
    prompt: `α for every τ point, in [0, 1]; empty keeps each checkpoint's default (${defaults
      .map((d) => `${d.name} ${d.alpha}`)
      .join(', ')})`,
    value: '',
    validateInput: (value) => {
      const problem = checkFixedAlpha(value, defaults);
      if (problem === undefined) return undefined;
      return {
        message: problem.message,
        severity: problem.warning
          ? vscode.InputBoxValidationSeverity.Warning
          : vscode.InputBoxValidationSeverity.Error,
      };
    },
  });
  if (text === undefined) return undefined;
  return text.trim() === '' ? null : Number(text);
}

/** Asks for an optional sweep; each choice shows its runs, what it holds fixed and its no-ops. */
async function pickSweep(context: SweepContext): Promise<SweepRequest[] | undefined> {
  const choices: { label: string; text: string | null }[] = [
    { label: 'No sweep', text: '' },
    { label: 'τ sweep (α asked next)', text: 'tau' },
    { label: 'α sweep', text: 'alpha=0:1:0.1' },
    { label: 'Custom…', text: null },
  ];
  const items = choices.map((c) => ({
    ...c,
    ...(c.text === null
      ? { description: 'e.g. tau=0.1:0.5:0.05 or alpha=0,0.5,1' }
      : previewItem(context, parseSweepText(c.text))),
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'MoSEAR: Evaluate Benchmark (3/5)',
    placeHolder:
      'Sweep an AR parameter (one AR setting per value; the others stay at the checkpoint defaults shown)',
    matchOnDetail: true,
  });
  if (chosen === undefined) return undefined;
  const text =
    chosen.text ??
    (await vscode.window.showInputBox({
      title: 'MoSEAR: Evaluate Benchmark — sweep',
      prompt: 'tau=start:end:step, alpha=start:end:step or name=v1,v2 (two sweeps make a grid)',
      value: 'tau=0.1:0.5:0.05',
      validateInput: (value) => {
        try {
          previewSweep(context.metas, parseSweepText(value), context.clips);
          return undefined;
        } catch (error) {
          return messageOf(error);
        }
      },
    }));
  if (text === undefined) return undefined;
  const sweeps = parseSweepText(text);
  if (!sweeps.some((s) => s.parameter === 'tau') || sweeps.some((s) => s.parameter === 'alpha')) {
    return sweeps;
  }
  const alpha = await pickFixedAlpha(context);
  return alpha === undefined ? undefined : withFixedAlpha(sweeps, alpha);
}

/** Asks for the number of lanes, defaulting to `mosear.evaluation.jobs`. */
async function pickJobs(host: PanelHost): Promise<number | undefined> {
  const { min, max } = EVALUATION_JOBS_BOUNDS;
  const text = await vscode.window.showInputBox({
    title: 'MoSEAR: Evaluate Benchmark (4/5)',
    prompt: `Clips in flight at once (${min}–${max}; setting mosear.evaluation.jobs)`,
    value: String(host.config.current.evaluation.jobs),
    validateInput: (value) => {
      const n = Number(value);
      return Number.isInteger(n) && n >= min && n <= max
        ? undefined
        : `a whole number in ${min}–${max}`;
    },
  });
  return text === undefined ? undefined : Number(text);
}

/** Asks whether to use the default run folder or another one. */
async function pickRunDir(suggested: {
  dir: string;
  note: string;
}): Promise<{ dir: string; note: string } | undefined> {
  const items: PathItem[] = [
    { label: '$(folder) Default run folder', description: suggested.dir, path: suggested.dir },
    { label: '$(folder-opened) Choose a folder…' },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'MoSEAR: Evaluate Benchmark (5/5)',
    placeHolder: 'Where records are kept (the same folder resumes an interrupted run)',
  });
  if (chosen === undefined) return undefined;
  if (chosen.path !== undefined) return suggested;
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    title: 'MoSEAR: Evaluate Benchmark — run folder',
  });
  const dir = picked?.[0]?.fsPath;
  return dir === undefined ? undefined : { dir, note: `Run folder chosen: ${dir}` };
}

/** Asks for a finished run folder (the panel's own, or another), a checkpoint and a rule. */
async function pickChoice(host: PanelHost): Promise<SettingChoice | undefined> {
  const title = 'MoSEAR: Choose a setting, then evaluate it';
  const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const folders = finishedRunFolders(runFolderRoots(host.globalStorageDir, workspaceDir));
  const items: PathItem[] = [
    ...folders.map((dir) => ({ label: basename(dir), description: dir, path: dir })),
    { label: '$(folder-opened) Browse…', description: 'a run folder of mosear-lens eval' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `${title} (1/4)`,
    placeHolder: 'The finished evaluation to choose on (a validation split)',
    matchOnDescription: true,
  });
  if (picked === undefined) return undefined;
  const dir =
    picked.path ??
    (
      await vscode.window.showOpenDialog({
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
        title: `${title}: run folder`,
      })
    )?.[0]?.fsPath;
  if (dir === undefined) return undefined;
  const source = await readChoiceSource(dir);
  const names = source.plan.checkpoints.map((c) => c.name);
  const name =
    names.length === 1
      ? names[0]
      : (
          await vscode.window.showQuickPick(names, {
            title: `${title} (2/4)`,
            placeHolder: 'The checkpoint whose setting to choose',
          })
        )?.toString();
  if (name === undefined) return undefined;
  const rule = await vscode.window.showQuickPick(
    CHOICE_RULE_IDS.map((id) => ({ label: id, detail: CHOICE_RULES[id].text, id })),
    { title: `${title} (3/4)`, placeHolder: 'The rule that chooses' },
  );
  if (rule === undefined) return undefined;
  return chooseSetting(source, rule.id, name);
}

/** Chooses a setting on a finished evaluation, then evaluates it once on another manifest. */
async function chooseThenEvaluate(
  host: PanelHost,
  args: EvaluateArguments | undefined,
): Promise<EvaluationOutcome | undefined> {
  const choice = await pickChoice(host);
  if (choice === undefined) return undefined;
  const winner = choice.candidates.find((c) => c.rank === 1);
  host.logger.info(
    `chose ${choice.chosen.title} for ${choice.checkpoint.name} on ${choice.chosenBy.manifest} ` +
      `by rule ${choice.chosenBy.rule} (score ${winner?.score ?? 'n/a'})`,
  );
  const target = await pickManifest(
    host,
    false,
    `MoSEAR: evaluate ${choice.chosen.title} (chosen on ${manifestTitle(choice.chosenBy.manifest)}) on (4/4)`,
  );
  if (target === undefined || target === CHOOSE_FIRST) return undefined;
  const manifestFile = await locateManifest(target);
  const models = [choice.checkpoint.path];
  const problem = host.checkpoints.modelProblem(choice.checkpoint.path, host.config.current);
  if (problem !== undefined) throw new Error(problem);
  const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const run = defaultRunDir(host.globalStorageDir, workspaceDir, manifestFile, models, [], choice);
  const planned = await planBenchmark({ manifest: manifestFile, models, choice });
  const meta = planned.checkpoints[0]?.meta;
  const panel = EvaluationPanel.createOrShow(
    host,
    run.dir,
    manifestTitle(manifestFile),
    run.note,
    evaluationTabTitle(
      manifestTitle(manifestFile),
      meta === undefined
        ? []
        : [{ name: choice.checkpoint.name, settings: choiceSettings(meta, choice) }],
    ),
  );
  if (panel.running) return undefined;
  return await panel.run({
    manifest: target,
    models,
    sweeps: [],
    jobs: args?.jobs ?? host.config.current.evaluation.jobs,
    runDir: run.dir,
    runDirNote: run.note,
    choice,
  });
}

/** The command: collects the plan, opens the Evaluate panel and runs; undefined when dismissed. */
export async function evaluateBenchmark(
  host: PanelHost,
  uri: unknown,
  rawArgs?: unknown,
): Promise<EvaluationOutcome | undefined> {
  const args = evaluateArguments(rawArgs);
  try {
    const target = uri instanceof vscode.Uri ? uri.fsPath : await pickManifest(host);
    if (target === undefined) return undefined;
    if (target === CHOOSE_FIRST) return await chooseThenEvaluate(host, args);
    // Fails early with a clear message when the folder holds no manifest; a folder and its
    // manifest file then name the same evaluation (and default run folder).
    const manifestFile = await locateManifest(target);
    const models =
      args === undefined
        ? await pickCheckpoints(host)
        : (args.models ?? (await host.checkpoints.shipped()));
    if (models === undefined) return undefined;
    const settings = host.config.current;
    for (const model of models) {
      const problem = host.checkpoints.modelProblem(model, settings);
      if (problem !== undefined) throw new Error(problem);
    }
    // The checkpoints' metadata and the manifest's clips, read once: the sweep step shows what
    // each choice holds fixed and runs (and fails early on a bad manifest or label sets).
    const planned = await planBenchmark({ manifest: manifestFile, models });
    const context: SweepContext = {
      metas: planned.checkpoints.map((c) => c.meta),
      clips: planned.entries.length,
    };
    const sweeps =
      args === undefined ? await pickSweep(context) : (args.sweeps ?? []).flatMap(parseSweepText);
    if (sweeps === undefined) return undefined;
    // The sweep step showed them; said once more as the run starts (the table marks the rows).
    const { warnings } = previewSweep(context.metas, sweeps, context.clips);
    for (const line of warnings) host.logger.warn(`Evaluate Benchmark: ${line}`);
    if (warnings.length > 0) {
      void vscode.window.showWarningMessage(
        `MoSEAR: ${warnings.join('; ')}. Their rows will equal off.`,
      );
    }
    const jobs =
      args === undefined ? await pickJobs(host) : (args.jobs ?? settings.evaluation.jobs);
    if (jobs === undefined) return undefined;
    const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const suggested = defaultRunDir(
      host.globalStorageDir,
      workspaceDir,
      manifestFile,
      models,
      sweeps,
    );
    const run =
      args === undefined
        ? await pickRunDir(suggested)
        : args.outDir === undefined
          ? suggested
          : { dir: args.outDir, note: `Run folder: ${args.outDir}` };
    if (run === undefined) return undefined;
    const panel = EvaluationPanel.createOrShow(
      host,
      run.dir,
      manifestTitle(manifestFile),
      run.note,
      evaluationTabTitle(
        manifestTitle(manifestFile),
        context.metas.map((meta) => ({
          name: meta.checkpoint.name,
          settings: evaluationSettings(meta, sweeps),
        })),
      ),
    );
    if (panel.running) {
      void vscode.window.showInformationMessage(
        `MoSEAR: this evaluation is already running (${basename(run.dir)}).`,
      );
      return undefined;
    }
    return await panel.run({
      manifest: target,
      models,
      sweeps,
      jobs,
      runDir: run.dir,
      runDirNote: run.note,
    });
  } catch (error) {
    host.logger.error('Evaluate Benchmark failed', error);
    host.logger.userError(`MoSEAR: cannot evaluate. ${messageOf(error)}`);
    return undefined;
  }
}

// "Compare Checkpoints on Clip": asks what to compare (two checkpoints, or one checkpoint under
// two settings) and which, runs both subjects under a cancellable progress notification and
// opens the Compare panel beside the editor. Tests pass the choices as a second argument.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { ComparisonResult, SubjectKey } from '../../../protocol/comparisonResult';
import type { ArControls } from '../../../protocol/contract';
import { ComparePanel } from './comparePanel';
import { messageOf } from '../../logger';
import { isVideoPath, VIDEO_EXTENSIONS } from '../../settings';
import type { PanelHost } from '../panelBase';

/** Setting pairs for one checkpoint: A's and B's intervention mode. */
export const SETTING_PAIRS = {
  'off-vs-ar': { label: 'AR off vs AR on', a: { mode: 0 }, b: { mode: 1 } },
  'ar-vs-pai': { label: 'AR vs PAI-style', a: { mode: 1 }, b: { mode: 2 } },
} as const satisfies Record<string, { label: string } & Record<SubjectKey, Partial<ArControls>>>;

/** What to compare, as a test (or another command) passes it instead of the quick picks. */
export type CompareChoice =
  { models: [string, string] } | { model: string; settings: keyof typeof SETTING_PAIRS };

type Subjects = Record<SubjectKey, { modelPath: string; controls?: Partial<ArControls> }>;

function isChoice(v: unknown): v is CompareChoice {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return false;
  if (Array.isArray(o['models'])) {
    return o['models'].length === 2 && o['models'].every((m) => typeof m === 'string');
  }
  return (
    typeof o['model'] === 'string' &&
    typeof o['settings'] === 'string' &&
    o['settings'] in SETTING_PAIRS
  );
}

function subjectsOf(choice: CompareChoice): Subjects {
  if ('models' in choice)
    return { a: { modelPath: choice.models[0] }, b: { modelPath: choice.models[1] } };
  const pair = SETTING_PAIRS[choice.settings];
  return {
    a: { modelPath: choice.model, controls: { ...pair.a } },
    b: { modelPath: choice.model, controls: { ...pair.b } },
  };
}

/** The quick picks: the kind of comparison, then the checkpoints (default: the shipped two). */
async function askChoice(host: PanelHost): Promise<CompareChoice | undefined> {
  const kind = await vscode.window.showQuickPick(
    [
      {
        label: 'Two checkpoints',
        description: 'the same clip through two models',
        value: 'models' as const,
      },
      {
        label: 'One checkpoint, two settings',
        description: 'AR off vs on, or AR vs PAI-style',
        value: 'settings' as const,
      },
    ],
    { title: 'MoSEAR: Compare Checkpoints on Clip', placeHolder: 'What to compare' },
  );
  if (kind === undefined) return undefined;
  // Sorted, so the default pair is always A = emotion-llama-tiny, B = mosear-tiny (as the CLI's).
  const shipped = (await host.checkpoints.shipped()).sort();
  const active = host.checkpoints.active;
  const candidates = [...new Set([...shipped, active])];
  const items = candidates.map((path) => ({
    label: basename(path),
    description: vscode.workspace.asRelativePath(path),
    path,
  }));
  if (kind.value === 'models') {
    const picked = await vscode.window.showQuickPick(
      items.map((item) => ({ ...item, picked: shipped.includes(item.path) })),
      { title: 'MoSEAR: Compare — the two checkpoints (A, then B)', canPickMany: true },
    );
    if (picked === undefined) return undefined;
    const [a, b] = picked;
    if (picked.length !== 2 || a === undefined || b === undefined) {
      host.logger.userError(
        `MoSEAR: pick exactly two checkpoints to compare (picked ${picked.length}).`,
      );
      return undefined;
    }
    return { models: [a.path, b.path] };
  }
  const model = await vscode.window.showQuickPick(items, {
    title: 'MoSEAR: Compare — the checkpoint',
  });
  if (model === undefined) return undefined;
  const pair = await vscode.window.showQuickPick(
    Object.entries(SETTING_PAIRS).map(([key, p]) => ({
      label: p.label,
      key: key as keyof typeof SETTING_PAIRS,
    })),
    { title: 'MoSEAR: Compare — the two settings (A vs B)' },
  );
  return pair === undefined ? undefined : { model: model.path, settings: pair.key };
}

/** The command: compares on the menu's clip (or one asked for) and opens the Compare panel. */
export async function compareCheckpoints(
  host: PanelHost,
  uri: unknown,
  choiceArgument: unknown,
  pickClip: () => Promise<vscode.Uri | undefined>,
): Promise<ComparisonResult | undefined> {
  const clip = uri instanceof vscode.Uri ? uri : await pickClip();
  if (clip === undefined) return undefined;
  if (clip.scheme !== 'file' || !isVideoPath(clip.fsPath)) {
    host.logger.userError(
      `MoSEAR: ${basename(clip.fsPath)} is not a video on the local file system (${VIDEO_EXTENSIONS.join(', ')}).`,
    );
    return undefined;
  }
  const choice = isChoice(choiceArgument) ? choiceArgument : await askChoice(host);
  if (choice === undefined) return undefined;
  const subjects = subjectsOf(choice);
  const name = basename(clip.fsPath);
  const controller = new AbortController();
  host.logger.info(`compare ${clip.fsPath}: A ${subjects.a.modelPath}, B ${subjects.b.modelPath}`);
  try {
    const comparison = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `MoSEAR: comparing on ${name}`,
        cancellable: true,
      },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        progress.report({ message: 'decoding the clip once, then both subjects in parallel…' });
        return host.engine.compare(clip.fsPath, subjects, controller.signal);
      },
    );
    host.logger.info(
      `${name}: A ${comparison.subjects.a.result.intervention.prediction.label}, ` +
        `B ${comparison.subjects.b.result.intervention.prediction.label}; ` +
        `${comparison.timings.clipDecodes} decode(s), ${Math.round(comparison.timings.totalMs)} ms`,
    );
    ComparePanel.createOrShow(
      host,
      {
        kind: 'clip',
        clipPath: clip.fsPath,
        models: { a: subjects.a.modelPath, b: subjects.b.modelPath },
      },
      comparison,
    );
    return comparison;
  } catch (error) {
    if (controller.signal.aborted) {
      host.logger.info(`comparison on ${name} cancelled`);
      return undefined;
    }
    host.logger.error(`comparison on ${name} failed`, error);
    host.logger.userError(`MoSEAR: cannot compare on ${name}. ${messageOf(error)}`);
    return undefined;
  }
}

// "MoSEAR: Build Conflict Set": from a labelled manifest or folder (the explorer's, or one picked),
// asks which modality carries the truth label, how many pairs per label and where to write,
// confirms before writing into a non-empty folder, builds the set with the system ffmpeg
// (src/core/conflicts) under a cancellable progress notification, and offers to evaluate the
// written manifest. Needs a trusted workspace: it runs the system ffmpeg. Tests pass a
// `ConflictSetArguments` object instead of answering the prompts.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import {
  buildConflictSet,
  outputFolderState,
  type ConflictBuildSummary,
} from '../core/conflicts/conflictBuild';
import { conflictSubset, type TruthModality } from '../core/conflicts/conflictPairs';
import { readCheckedModelFile } from '../core/contract/graphCheck';
import { messageOf } from './logger';
import type { PanelHost } from './panels/panelBase';

/** What a caller may fix instead of being asked (tests). */
export interface ConflictSetArguments {
  truth?: TruthModality;
  pairsPerLabel?: number;
  seed?: number;
  outDir?: string;
  /** Write into a non-empty folder without asking. */
  overwrite?: boolean;
}

const TITLE = 'MoSEAR: Build Conflict Set';

/** Reads the command's optional second argument (the explorer passes an array there). */
function conflictSetArguments(value: unknown): ConflictSetArguments | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const args: ConflictSetArguments = {};
  if (v['truth'] === 'video' || v['truth'] === 'audio') args.truth = v['truth'];
  if (typeof v['pairsPerLabel'] === 'number') args.pairsPerLabel = v['pairsPerLabel'];
  if (typeof v['seed'] === 'number') args.seed = v['seed'];
  if (typeof v['outDir'] === 'string') args.outDir = v['outDir'];
  if (typeof v['overwrite'] === 'boolean') args.overwrite = v['overwrite'];
  return args;
}

/** The manifest or folder: the explorer's, or one picked in a dialog. */
async function pickSource(uri: unknown): Promise<string | undefined> {
  if (uri instanceof vscode.Uri) return uri.scheme === 'file' ? uri.fsPath : undefined;
  const picked = await vscode.window.showOpenDialog({
    title: `${TITLE}: a labelled manifest (.jsonl, .csv) or a folder of label subfolders`,
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { Manifests: ['jsonl', 'csv'] },
  });
  return picked?.[0]?.fsPath;
}

async function pickTruth(): Promise<TruthModality | undefined> {
  const items = (['audio', 'video'] as const).map((truth) => ({
    label: `The ${truth} carries the label`,
    description: conflictSubset(truth),
    detail:
      truth === 'audio'
        ? 'Each new clip is labelled as its audio clip was (the video comes from another label).'
        : 'Each new clip is labelled as its video clip was (the audio comes from another label).',
    truth,
  }));
  return (await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: 'Truth label' }))
    ?.truth;
}

async function pickPairs(): Promise<number | undefined> {
  const items = [5, 10, 20, 50].map((n) => ({
    label: String(n),
    description: 'pairs per label',
    n,
  }));
  return (
    await vscode.window.showQuickPick(items, {
      title: TITLE,
      placeHolder: 'Conflict clips per label (fewer when a label has too few clips)',
    })
  )?.n;
}

/** A folder next to the source that does not exist yet. */
function defaultOutDir(source: string, truth: TruthModality): string {
  const folder = existsSync(source) && statSync(source).isDirectory();
  const base = folder ? source : dirname(source);
  const stem = `${basename(base)}-conflicts-${conflictSubset(truth)}`;
  let candidate = join(dirname(base), stem);
  for (let n = 2; existsSync(candidate); n++) candidate = join(dirname(base), `${stem}-${n}`);
  return candidate;
}

async function pickOutDir(suggested: string): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: TITLE,
    prompt: 'The folder to write the conflict clips, manifest.jsonl and skipped.csv into',
    value: suggested,
    validateInput: (text) => (isAbsolute(text.trim()) ? undefined : 'An absolute folder path'),
  });
}

/**
 * Runs the command; resolves to the summary, or undefined when the user cancelled or it failed
 * (the failure is shown).
 */
export async function buildConflictSetCommand(
  host: PanelHost,
  uri: unknown,
  rawArgs: unknown,
): Promise<ConflictBuildSummary | undefined> {
  const settings = host.config.current;
  if (!settings.trusted) {
    host.logger.userError(
      `${TITLE} runs the system ffmpeg, which Restricted Mode does not allow: trust the workspace first.`,
    );
    return undefined;
  }
  const args = conflictSetArguments(rawArgs) ?? {};
  const source = await pickSource(uri);
  if (source === undefined) return undefined;
  const truth = args.truth ?? (await pickTruth());
  if (truth === undefined) return undefined;
  const pairsPerLabel = args.pairsPerLabel ?? (await pickPairs());
  if (pairsPerLabel === undefined) return undefined;
  const outDir = (args.outDir ?? (await pickOutDir(defaultOutDir(source, truth))))?.trim();
  if (outDir === undefined || outDir === '') return undefined;
  try {
    let overwrite = args.overwrite ?? false;
    if (!overwrite && (await outputFolderState(outDir)) === 'non-empty') {
      const answer = await vscode.window.showWarningMessage(
        `${outDir} is not empty. Write the conflict set into it? Files of the same names are ` +
          "replaced, and an earlier conflict set's clips listed in its manifest.jsonl are removed.",
        { modal: true },
        'Write into it',
      );
      if (answer === undefined) return undefined;
      overwrite = true;
    }
    const modelPath = host.checkpoints.active;
    const { metadata } = await readCheckedModelFile(modelPath);
    const controller = new AbortController();
    const summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: TITLE, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        return buildConflictSet({
          source,
          outDir,
          labels: metadata.labels,
          truth,
          pairsPerLabel,
          seed: args.seed ?? 1,
          overwrite,
          ffmpegPath: settings.decode.ffmpegPath ?? undefined,
          signal: controller.signal,
          onProgress: (p) => {
            // The mux stage is the long one: it fills the bar; probing only says where it is.
            const increment =
              p.stage === 'mux' && p.total > 0 ? (100 * p.done) / p.total - reported : 0;
            reported += increment;
            progress.report({
              message: `${p.stage === 'probe' ? 'reading clip' : 'writing clip'} ${Math.min(p.done + 1, p.total)} of ${p.total}`,
              increment,
            });
          },
        });
      },
    );
    host.logger.info(
      `conflict set: ${summary.clips.length} clips (${summary.subset}), ${summary.consistent} consistent, ` +
        `${summary.skipped.length} skipped → ${summary.manifestPath}`,
    );
    for (const s of summary.skipped) host.logger.info(`  skipped ${s.kind} ${s.path}: ${s.reason}`);
    for (const note of summary.notes) host.logger.info(`  note: ${note}`);
    void offerNextSteps(host, summary);
    return summary;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'CANCELLED') return undefined;
    host.logger.userError(`${TITLE}: ${messageOf(error)}`);
    return undefined;
  }
}

/** The finish notification: Evaluate (the Evaluate Benchmark command on the new manifest), the skipped list. */
async function offerNextSteps(host: PanelHost, summary: ConflictBuildSummary): Promise<void> {
  const skipped = summary.skipped.length > 0 ? `; ${summary.skipped.length} skipped` : '';
  const actions = ['Evaluate', ...(summary.skipped.length > 0 ? ['Show Skipped'] : [])];
  const choice = await vscode.window.showInformationMessage(
    `MoSEAR: wrote ${summary.clips.length} conflict clips (${summary.subset}) and listed ` +
      `${summary.consistent} consistent originals${skipped}.`,
    ...actions,
  );
  if (choice === 'Evaluate') {
    await vscode.commands.executeCommand(
      'mosear.evaluateBenchmark',
      vscode.Uri.file(summary.manifestPath),
    );
  } else if (choice === 'Show Skipped') {
    await vscode.window.showTextDocument(vscode.Uri.file(summary.skippedCsvPath));
    host.logger.show();
  }
}

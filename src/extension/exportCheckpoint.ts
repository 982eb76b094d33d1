// "MoSEAR: Export Emotion-LLaMA / MoSEAR Checkpoint…": walks a user through exporting their own
// checkpoint to the model contract — which model, then each file or folder in an open dialog,
// then where to write — checks the picks (src/core/export/exportPlan.ts), and runs the shipped
// exporter (models/realexport) as a VS Code task in a terminal, so its progress and any error
// stay readable there. The interpreter is the Python extension's selected one when that
// extension is installed, else `python3` on PATH. On success it offers "Use as Checkpoint".
// Tests (and scripts) pass an `ExportChoice` instead of answering the prompts.
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { exportChoiceProblems, exporterArgs, type ExportChoice } from '../core/export/exportPlan';
import type { PanelHost } from './panels/panelBase';

const TITLE = 'MoSEAR: Export Checkpoint';

/** The Python extension's selected interpreter, else `python3` (`python` on Windows). */
export async function pythonInterpreter(resource?: vscode.Uri): Promise<string> {
  const fallback = process.platform === 'win32' ? 'python' : 'python3';
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (extension === undefined) return fallback;
  try {
    const api = (await extension.activate()) as {
      environments?: { getActiveEnvironmentPath?: (r?: vscode.Uri) => { path?: unknown } };
      settings?: { getExecutionDetails?: (r?: vscode.Uri) => { execCommand?: unknown } };
    };
    const active = api.environments?.getActiveEnvironmentPath?.(resource)?.path;
    if (typeof active === 'string' && active.length > 0) return active;
    const command = api.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (Array.isArray(command) && typeof command[0] === 'string') return command[0];
  } catch {
    // An inactive or broken Python extension: PATH's interpreter still works.
  }
  return fallback;
}

/** Reads the command's optional argument: a complete choice skips every prompt. */
function choiceArgument(value: unknown): ExportChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const text = (key: string) => (typeof v[key] === 'string' ? v[key] : undefined);
  const [llama, eva, hubert, checkpoint, out] = ['llama', 'eva', 'hubert', 'checkpoint', 'out'].map(
    text,
  );
  if (!llama || !eva || !hubert || !checkpoint || !out) return undefined;
  const adapter = v['adapter'] === 'mose' ? 'mose' : 'lora';
  const assembly = v['assembly'] === 'wrap' ? 'wrap' : 'context';
  const pooling = v['pooling'] === 'last4-sum-mean' ? 'last4-sum-mean' : 'last-mean';
  const minigptv2 = text('minigptv2');
  return {
    adapter,
    llama,
    eva,
    hubert,
    checkpoint,
    out,
    assembly,
    pooling,
    ...(minigptv2 === undefined ? {} : { minigptv2 }),
  };
}

async function pickPath(
  title: string,
  folder: boolean,
  filters?: Record<string, string[]>,
): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    canSelectFiles: !folder,
    canSelectFolders: folder,
    title: `${TITLE}: ${title}`,
    ...(filters === undefined ? {} : { filters }),
  });
  return picked?.[0]?.fsPath;
}

/** Asks for every file of an export; undefined when the user stops. */
async function askChoice(): Promise<ExportChoice | undefined> {
  const model = await vscode.window.showQuickPick(
    [
      {
        label: 'Emotion-LLaMA',
        description: 'LoRA (rank 64, α 16) on q_proj and v_proj',
        adapter: 'lora' as const,
      },
      {
        label: 'MoSEAR',
        description: 'MoSE experts (key mapping: models/realexport/mose_mapping.json)',
        adapter: 'mose' as const,
      },
    ],
    { title: TITLE, placeHolder: 'Which checkpoint do you export?' },
  );
  if (model === undefined) return undefined;
  const pth = { 'PyTorch checkpoints': ['pth', 'pt', 'bin'] };
  const llama = await pickPath('the Llama-2-7b-chat-hf folder', true);
  if (llama === undefined) return undefined;
  const eva = await pickPath('EVA-CLIP ViT-g weights (eva_vit_g.pth)', false, pth);
  if (eva === undefined) return undefined;
  const hubert = await pickPath('the chinese-hubert-large folder', true);
  if (hubert === undefined) return undefined;
  const checkpoint = await pickPath(`the ${model.label} checkpoint (.pth)`, false, pth);
  if (checkpoint === undefined) return undefined;
  const withMiniGpt = await vscode.window.showQuickPick(
    [
      { label: 'Skip', description: 'the checkpoint holds every weight it changes' },
      {
        label: 'Pick MiniGPT-v2 checkpoint…',
        description: 'loaded first, then the checkpoint over it',
      },
    ],
    { title: TITLE, placeHolder: 'Load the MiniGPT-v2 checkpoint first?' },
  );
  if (withMiniGpt === undefined) return undefined;
  let minigptv2: string | undefined;
  if (withMiniGpt.label !== 'Skip') {
    minigptv2 = await pickPath('the MiniGPT-v2 checkpoint (.pth)', false, pth);
    if (minigptv2 === undefined) return undefined;
  }
  const stem = model.adapter === 'mose' ? 'mosear' : 'emotion-llama';
  const target = await vscode.window.showSaveDialog({
    title: `${TITLE}: the output model (weights go beside it, ~27 GB in float32)`,
    defaultUri: vscode.Uri.file(join(dirname(checkpoint), `${stem}.onnx`)),
    filters: { 'ONNX models': ['onnx'] },
  });
  if (target === undefined) return undefined;
  return {
    adapter: model.adapter,
    llama,
    eva,
    hubert,
    checkpoint,
    out: target.fsPath,
    ...(minigptv2 === undefined ? {} : { minigptv2 }),
  };
}

/** Runs the exporter as a task; resolves with its exit code (undefined when cancelled). */
async function runExporter(
  host: PanelHost,
  interpreter: string,
  choice: ExportChoice,
): Promise<number | undefined> {
  const modelsDir = vscode.Uri.joinPath(host.extensionUri, 'models').fsPath;
  const execution = new vscode.ProcessExecution(interpreter, exporterArgs(choice), {
    cwd: dirname(choice.out),
    env: { PYTHONPATH: modelsDir, PYTHONUNBUFFERED: '1' },
  });
  const task = new vscode.Task(
    { type: 'mosear-export' },
    vscode.TaskScope.Workspace,
    `export ${basename(choice.out)}`,
    'MoSEAR Lens',
    execution,
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `MoSEAR: exporting ${basename(choice.out)} (progress in the terminal)`,
      cancellable: true,
    },
    (_progress, token) =>
      new Promise<number | undefined>((resolve, reject) => {
        let running: vscode.TaskExecution | undefined;
        const ended = vscode.tasks.onDidEndTaskProcess((event) => {
          if (event.execution !== running) return;
          ended.dispose();
          resolve(token.isCancellationRequested ? undefined : event.exitCode);
        });
        token.onCancellationRequested(() => running?.terminate());
        vscode.tasks.executeTask(task).then(
          (execution) => {
            running = execution;
          },
          (error: unknown) => {
            ended.dispose();
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }),
  );
}

/**
 * The command: asks (or takes `arg`), checks, exports, offers the result. Resolves with the
 * exported model's path, or undefined when stopped, refused or failed (each said to the user).
 */
export async function exportCheckpoint(host: PanelHost, arg: unknown): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    host.logger.userError(
      'MoSEAR: exporting runs Python on checkpoint files (torch pickles run code when loaded); ' +
        'trust the workspace first.',
    );
    return undefined;
  }
  const given = choiceArgument(arg);
  const choice = given ?? (await askChoice());
  if (choice === undefined) return undefined;
  const problems = exportChoiceProblems(choice);
  if (problems.length > 0) {
    host.logger.userError(`MoSEAR: cannot export: ${problems.join('; ')}`);
    return undefined;
  }
  if (given === undefined) {
    const trusted = await vscode.window.showWarningMessage(
      'The exporter loads the .pth files with PyTorch\u2019s full unpickler, which runs code stored ' +
        'in them. Export only checkpoints from a source you trust.',
      { modal: true },
      'Export',
    );
    if (trusted !== 'Export') return undefined;
  }
  const interpreter = await pythonInterpreter(vscode.Uri.file(choice.checkpoint));
  host.logger.info(`export: ${interpreter} ${exporterArgs(choice).join(' ')}`);
  let code: number | undefined;
  try {
    code = await runExporter(host, interpreter, choice);
  } catch (error) {
    host.logger.userError(`MoSEAR: the exporter did not start: ${String(error)}`);
    return undefined;
  }
  if (code === undefined) {
    host.logger.info('export: cancelled');
    return undefined;
  }
  if (code !== 0) {
    host.logger.userError(
      `MoSEAR: the export failed (exit code ${code}); the terminal shows the exporter's message. ` +
        `Interpreter: ${interpreter} (it needs torch and numpy; onnx to write the model).`,
    );
    return undefined;
  }
  if (given === undefined) {
    const next = await vscode.window.showInformationMessage(
      `MoSEAR: exported ${basename(choice.out)}.`,
      'Use as Checkpoint',
      'Reveal in Explorer',
    );
    if (next === 'Use as Checkpoint') {
      await vscode.commands.executeCommand('mosear.useAsCheckpoint', vscode.Uri.file(choice.out));
    } else if (next === 'Reveal in Explorer') {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(choice.out));
    }
  }
  return choice.out;
}

// The integration tier: prepares a workspace (a shipped sample clip, a result saved by the CLI,
// files that must be refused) and runs the suite through @vscode/test-electron's `runTests`.
// Here VS Code cannot be downloaded, so `vscodeExecutablePath` is our code-server wrapper, which
// accepts the desktop flags; with MOSEAR_VSCODE_DESKTOP=1 runTests downloads desktop VS Code.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { setGraphInputElemType, setIrVersion, setMetadata } from '../helpers/protoEncode';

const root = resolve(__dirname, '..', '..');
const CLIP = 'sample-consistent-happy.mp4';
/** Set to 1 for the Restricted Mode pass (read by the suite and the code-server stand-in). */
const RESTRICTED_ENV = 'MOSEAR_INTEGRATION_RESTRICTED';
/** Where each pass appends its `# pass N` / `# fail M` lines (read by scripts/test.mjs). */
const COUNTS_FILE = join(root, 'dist-test', 'integration.counts');

/** A fresh workspace folder with everything the suites open. */
function prepareWorkspace(): string {
  const workspace = join(root, '.vscode-test', 'work', 'integration-workspace');
  rmSync(workspace, { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  copyFileSync(join(root, 'models', 'samples', CLIP), join(workspace, CLIP));
  // "A result saved by the CLI": the real CLI, the real checkpoint.
  const cli = spawnSync(
    process.execPath,
    [
      join(root, 'dist', 'cli', 'main.js'),
      'analyze',
      join(workspace, CLIP),
      '--quiet',
      '--json',
      join(workspace, 'cli-result.mosear.json'),
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TMPDIR: join(root, '.tmp') } },
  );
  if (cli.status !== 0) throw new Error(`the CLI failed (${cli.status}): ${cli.stderr}`);
  writeFileSync(join(workspace, 'broken.mosear.json'), '{"kind": "something else"}\n');
  writeFileSync(join(workspace, 'not-a-model.onnx'), 'not protobuf at all\n');
  // A valid contract checkpoint that is not shipped: usable when trusted, refused in Restricted Mode.
  copyFileSync(
    join(root, 'models', 'checkpoints', 'emotion-llama-tiny.onnx'),
    join(workspace, 'workspace-model.onnx'),
  );
  // Checkpoints with valid metadata that the engine cannot run: refused with every problem.
  const shipped = readFileSync(join(root, 'models', 'checkpoints', 'emotion-llama-tiny.onnx'));
  const sevenLabels = JSON.stringify([
    'neutral',
    'angry',
    'happy',
    'sad',
    'worried',
    'surprise',
    'bored',
  ]);
  writeFileSync(
    join(workspace, 'hostile-model.onnx'),
    setGraphInputElemType(setMetadata(shipped, 'mosear.labels', sevenLabels), 'frames', 7),
  );
  writeFileSync(join(workspace, 'unrunnable-model.onnx'), setIrVersion(shipped, 99));
  prepareEvaluationFolder(join(workspace, 'eval-split'));
  return workspace;
}

/**
 * 4 clips of each CA-MER subset copied from the committed test split, with their manifest, and
 * `small.jsonl` naming one clip of each (for the slower wasm decoder of Restricted Mode).
 */
function prepareEvaluationFolder(folder: string): void {
  const split = join(root, 'models', 'data', 'ca-mer-synth', 'test');
  mkdirSync(folder, { recursive: true });
  const taken = new Map<string, number>();
  const lines: string[] = [];
  const small: string[] = [];
  for (const line of readFileSync(join(split, 'manifest.jsonl'), 'utf8').trim().split('\n')) {
    const row = JSON.parse(line) as { path: string; subset: string };
    const n = taken.get(row.subset) ?? 0;
    if (n >= 4) continue;
    taken.set(row.subset, n + 1);
    if (n === 0) small.push(line);
    copyFileSync(join(split, row.path), join(folder, row.path));
    lines.push(line);
  }
  writeFileSync(join(folder, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(folder, 'small.jsonl'), `${small.join('\n')}\n`);
}

async function main(): Promise<number> {
  const extensionTestsPath = join(root, 'dist-test', 'integration', 'index.js');
  if (!existsSync(extensionTestsPath) || !existsSync(join(root, 'dist', 'extension.js'))) {
    throw new Error('build first: node esbuild.mjs --tests');
  }
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const workspace = prepareWorkspace();
  rmSync(COUNTS_FILE, { force: true });
  const desktop = process.env['MOSEAR_VSCODE_DESKTOP'] === '1';
  const started = performance.now();
  const pass = async (restricted: boolean): Promise<boolean> => {
    try {
      await runTests({
        ...(desktop
          ? {}
          : { vscodeExecutablePath: join(root, 'scripts', 'vscode', 'code-server-as-vscode.mjs') }),
        extensionDevelopmentPath: root,
        extensionTestsPath,
        launchArgs: [workspace, '--disable-extensions'],
        // The suite and the code-server stand-in read this: the second pass opens the folder
        // untrusted (Restricted Mode) and runs only the Restricted Mode suite.
        extensionTestsEnv: {
          [RESTRICTED_ENV]: restricted ? '1' : '0',
          MOSEAR_INTEGRATION_COUNTS: COUNTS_FILE,
        },
      });
      return true;
    } catch (error) {
      console.error(`integration suite failed: ${(error as Error).message}`);
      return false;
    }
  };
  try {
    const trusted = await pass(false);
    // runTests always passes --disable-workspace-trust, so desktop VS Code cannot open the
    // folder untrusted; only the code-server stand-in honours the variable.
    // An untrusted folder's own settings name an executable and a model; they must be ignored.
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(
      join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({
        'mosear.decode.decoder': 'system',
        'mosear.decode.ffmpegPath': '/nonexistent/bin/ffmpeg',
        'mosear.checkpoint.path': 'workspace-model.onnx',
      }),
    );
    const restricted = desktop ? true : await pass(true);
    return trusted && restricted ? 0 : 1;
  } finally {
    console.log(`integration: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

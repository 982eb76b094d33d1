// The integration tier: prepares a workspace (a shipped sample clip, a result saved by the CLI,
// files that must be refused) and runs the suite through @vscode/test-electron's `runTests`.
// Here VS Code cannot be downloaded, so `vscodeExecutablePath` is our code-server wrapper, which
// accepts the desktop flags; with MOSEAR_VSCODE_DESKTOP=1 runTests downloads desktop VS Code.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

const root = resolve(__dirname, '..', '..');
const CLIP = 'sample-consistent-happy.mp4';

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
  return workspace;
}

async function main(): Promise<number> {
  const extensionTestsPath = join(root, 'dist-test', 'integration', 'index.js');
  if (!existsSync(extensionTestsPath) || !existsSync(join(root, 'dist', 'extension.js'))) {
    throw new Error('build first: node esbuild.mjs --tests');
  }
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const workspace = prepareWorkspace();
  const desktop = process.env['MOSEAR_VSCODE_DESKTOP'] === '1';
  const started = performance.now();
  try {
    await runTests({
      ...(desktop
        ? {}
        : { vscodeExecutablePath: join(root, 'scripts', 'vscode', 'code-server-as-vscode.mjs') }),
      extensionDevelopmentPath: root,
      extensionTestsPath,
      launchArgs: [workspace, '--disable-extensions'],
    });
    return 0;
  } catch (error) {
    console.error(`integration suite failed: ${(error as Error).message}`);
    return 1;
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

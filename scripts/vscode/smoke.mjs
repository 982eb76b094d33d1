// Smoke check of the code-server harness, runnable alone (`npm run vscode:smoke`): install
// code-server, start it on a scratch workspace, load the workbench in chromium, see the explorer
// list the workspace's file, stop, and prove the whole process group is gone.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  installCodeServer,
  launchChromium,
  startCodeServer,
  vscodeTestDir,
} from './codeServer.mjs';

const workDir = join(vscodeTestDir, 'work', 'smoke');
rmSync(workDir, { recursive: true, force: true });
const folder = join(workDir, 'workspace');
mkdirSync(folder, { recursive: true });
writeFileSync(join(folder, 'hello.txt'), 'hello\n');

const t0 = performance.now();
const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
const { bin, version } = await installCodeServer();
console.log(`code-server ${version} ready at ${seconds()} s: ${bin}`);
const server = await startCodeServer({ workDir, folder, bin });
console.log(`listening on ${server.url} at ${seconds()} s (pid ${server.pid})`);
let browser;
try {
  browser = await launchChromium({ workDir });
  const page = await browser.newPage();
  await page.goto(`${server.url}?folder=${encodeURIComponent(folder)}`);
  await page
    .locator('.explorer-folders-view .monaco-list-row[aria-label^="hello.txt"]')
    .waitFor({ timeout: 60_000 });
  console.log(`workbench shows the workspace at ${seconds()} s`);
} finally {
  await browser?.close();
  await server.stop();
}
let alive = true;
try {
  process.kill(-server.pid, 0);
} catch {
  alive = false;
}
if (alive) throw new Error(`process group ${server.pid} survived stop()`);
console.log(`stopped, process group gone, ${seconds()} s in all`);

#!/usr/bin/env node
// Stands in for the desktop VS Code executable that @vscode/test-electron's `runTests` spawns:
// accepts its flags (--extensionDevelopmentPath=, --extensionTestsPath=, --user-data-dir=,
// --extensions-dir=, a folder, …), starts code-server, opens the workbench in headless chromium
// with the same development/test paths in the `payload` URL parameter, and exits with the
// suite's code. Desktop-only flags (--no-sandbox, --disable-gpu-sandbox, …) are accepted and
// ignored; code-server keeps its own user data under .vscode-test/work/integration/.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { URLSearchParams } from 'node:url';
import { format } from 'node:util';
import {
  installCodeServer,
  launchChromium,
  startCodeServer,
  vscodeTestDir,
} from './codeServer.mjs';

/** Lines test/integration/index.ts prints around the suite's own output. */
const SUITE_START = '-- mosear integration suite: start --';
const SUITE_END = '-- mosear integration suite: end --';

/** Longest the suite may run before the page is abandoned (the tier's own limit). */
const SUITE_TIMEOUT_MS = 5 * 60_000;

/** Parses `--name=value`, `--name value`-less flags and positionals the way runTests passes them. */
function parseArgs(argv) {
  const flags = new Map();
  const positionals = [];
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      flags.set(eq < 0 ? arg.slice(2) : arg.slice(2, eq), eq < 0 ? true : arg.slice(eq + 1));
    } else positionals.push(arg);
  }
  return { flags, positionals };
}

const { flags, positionals } = parseArgs(process.argv.slice(2));
const developmentPath = flags.get('extensionDevelopmentPath');
const testsPath = flags.get('extensionTestsPath');
if (typeof developmentPath !== 'string' || typeof testsPath !== 'string') {
  console.error(
    'usage: code-server-as-vscode.mjs --extensionDevelopmentPath=<dir> --extensionTestsPath=<file> [folder]',
  );
  process.exit(2);
}
const folder = positionals[0] === undefined ? undefined : resolve(positionals[0]);
const workDir = join(vscodeTestDir, 'work', 'integration');
rmSync(workDir, { recursive: true, force: true });

const { bin } = await installCodeServer();
// runTests always passes --disable-workspace-trust; the integration runner asks for Restricted
// Mode (workspace trust on, the folder untrusted) through MOSEAR_INTEGRATION_RESTRICTED=1.
const restricted =
  !flags.has('disable-workspace-trust') || process.env.MOSEAR_INTEGRATION_RESTRICTED === '1';
const server = await startCodeServer({ workDir, folder, bin, trust: restricted });
let browser;
let code;
try {
  browser = await launchChromium({ workDir });
  const page = await browser.newPage();
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  // Both must exist before the workbench loads: it looks for them once, at startup.
  await page.exposeFunction('codeAutomationExit', (exitCode) => finish(Number(exitCode)));
  await page.exposeFunction('codeAutomationLog', (_level, message) => {
    if (typeof message === 'string' && message.trim() !== '') console.log(message);
  });
  // The extension host's console reaches the page as log lines ("%c INFO", style, format, …);
  // the suite brackets its own output with marker lines, and only that part is printed.
  let inSuite = false;
  page.on('console', (message) => {
    void Promise.all(message.args().map((a) => a.jsonValue().catch(() => '')))
      .then((args) => {
        const styled = typeof args[0] === 'string' && args[0].startsWith('%c');
        const text = format(...(styled ? args.slice(2) : args));
        if (text.includes(SUITE_START)) inSuite = true;
        else if (text.includes(SUITE_END)) inSuite = false;
        // Webviews re-registering their service worker is workbench noise, not the suite's.
        else if (
          inSuite &&
          text.trim() !== '' &&
          !text.startsWith('Found unexpected service worker')
        ) {
          console.log(text);
        }
      })
      .catch(() => undefined);
  });
  const remote = (path) => `vscode-remote://127.0.0.1:${server.port}${resolve(path)}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(developmentPath)],
    ['extensionTestsPath', remote(testsPath)],
    ['skipWelcome', 'true'],
  ]);
  const query = new URLSearchParams({ ...(folder ? { folder } : {}), payload });
  await page.goto(`${server.url}?${query.toString()}`);
  const timer = setTimeout(() => {
    console.error(`the suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s`);
    finish(1);
  }, SUITE_TIMEOUT_MS);
  code = await finished;
  clearTimeout(timer);
} catch (error) {
  console.error(error);
  code = 1;
} finally {
  await browser?.close().catch(() => undefined);
  await server.stop();
}
process.exit(code);

// code-server (the VS Code workbench served to a browser, with a real Node extension host) as a
// test harness: install it into .vscode-test/, start it isolated, install a VSIX into it, and
// drive it with Debian's chromium. The facts behind every workaround here are measured in
// ../shared/notes/vscode-e2e-recipe.md; desktop VS Code and Electron cannot be downloaded on the
// project's machines, code-server from npm can.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';

/** code-server 4.100.3 is VS Code 1.100.3, the last release whose postinstall accepts Node 20. */
export const CODE_SERVER_VERSION = '4.100.3';

const root = join(import.meta.dirname, '..', '..');
/** Git-ignored home of everything this harness installs or writes. */
export const vscodeTestDir = join(root, '.vscode-test');
const installDir = join(vscodeTestDir, `code-server-${CODE_SERVER_VERSION}`);
const markerFile = join(installDir, '.mosear-installed.json');
const lockDir = `${installDir}.lock`;
// @vscode/ripgrep 1.15.11 (a code-server 4.100.3 dependency) downloads rg from GitHub unless its
// cache already holds this asset.
const ripgrepCacheName = 'vscode-ripgrep-cache-1.15.11';
const ripgrepAsset = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const debianRipgrep = '/usr/bin/rg';
const chromiumPath = '/usr/bin/chromium';

/** Process groups started here and not yet stopped; killed on exit whatever happens. */
const liveGroups = new Set();
process.on('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

/**
 * Runs a program to completion with an argument array (never a shell string).
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number }} [options]
 * @returns {Promise<{ code: number | null, output: string }>}
 */
function runProgram(command, args, { cwd, env, timeoutMs = 10 * 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (/** @type {Buffer} */ chunk) => {
      // Only the tail matters for error messages; npm installs print a lot.
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Environment without the variables a surrounding VS Code terminal would leak into a child. */
function cleanEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE',
    ),
  );
}

/**
 * HOME, TMPDIR and XDG_* inside `workDir`: code-server, chromium and onnxruntime otherwise write
 * into ~ and /tmp, and a second run would see the first one's state.
 * @param {string} workDir
 */
export function isolatedEnv(workDir) {
  const dirs = {
    HOME: join(workDir, 'home'),
    TMPDIR: join(workDir, 'tmp'),
    XDG_CONFIG_HOME: join(workDir, 'home', '.config'),
    XDG_DATA_HOME: join(workDir, 'home', '.local', 'share'),
    XDG_CACHE_HOME: join(workDir, 'home', '.cache'),
    XDG_RUNTIME_DIR: join(workDir, 'runtime'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { ...cleanEnv(), ...dirs };
}

/** Names the Debian packages the install needs and lacks, before npm fails obscurely. */
function missingDebianPackages() {
  const missing = [];
  if (!existsSync(debianRipgrep)) missing.push('ripgrep');
  // kerberos (a code-server dependency) compiles from source against the MIT krb5 headers.
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/gssapi/gssapi.h')) {
    missing.push('libkrb5-dev');
  }
  return missing;
}

/** Holds an exclusive lock on the install directory, so two harnesses never install at once. */
async function withInstallLock(/** @type {() => Promise<void>} */ body) {
  mkdirSync(vscodeTestDir, { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error;
      // A lock older than any install could take was left by a killed run.
      if (Date.now() - statSync(lockDir).mtimeMs > 10 * 60_000) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${lockDir}`, { cause: error });
      }
      await sleep(1000);
    }
  }
  try {
    await body();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** The code-server entry script inside an install; run it with `node`. */
function entryScript() {
  return join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

function isInstalled() {
  if (!existsSync(markerFile) || !existsSync(entryScript())) return false;
  try {
    return JSON.parse(readFileSync(markerFile, 'utf8')).version === CODE_SERVER_VERSION;
  } catch {
    return false;
  }
}

/**
 * Installs code-server into .vscode-test/code-server-<version>/ unless a finished install is
 * there (a marker file is written last; anything without it is removed and redone).
 * @returns {Promise<{ bin: string, version: string }>} `bin` is the entry script, run with node.
 */
export async function installCodeServer() {
  if (isInstalled()) return { bin: entryScript(), version: CODE_SERVER_VERSION };
  // Its postinstall refuses any other Node major; say so before a minute of npm.
  if (process.versions.node.split('.')[0] !== '20') {
    throw new Error(
      `code-server ${CODE_SERVER_VERSION} needs Node 20; this is Node ${process.versions.node}`,
    );
  }
  const missing = missingDebianPackages();
  if (missing.length > 0) {
    throw new Error(
      `code-server's install needs Debian packages: apt-get install ${missing.join(' ')}`,
    );
  }
  await withInstallLock(async () => {
    // Another harness may have finished the install while this one waited for the lock.
    if (isInstalled()) return;
    rmSync(installDir, { recursive: true, force: true });
    mkdirSync(installDir, { recursive: true });
    // npm must not see the project's package.json or .npmrc: a package.json in the prefix
    // stops npm from walking up.
    writeFileSync(
      join(installDir, 'package.json'),
      JSON.stringify({ name: 'code-server-harness', private: true }, null, 2),
    );
    const tmp = join(vscodeTestDir, 'tmp');
    const ripgrepCache = join(tmp, ripgrepCacheName);
    mkdirSync(ripgrepCache, { recursive: true });
    const tarball = join(ripgrepCache, ripgrepAsset);
    if (!existsSync(tarball)) {
      const tar = await runProgram('tar', ['-czf', tarball, '-C', dirname(debianRipgrep), 'rg']);
      if (tar.code !== 0) throw new Error(`could not seed the ripgrep cache:\n${tar.output}`);
    }
    const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin');
    const npm = existsSync(join(npmCli, 'npm-cli.js'))
      ? { command: process.execPath, prefix: [join(npmCli, 'npm-cli.js')] }
      : { command: 'npm', prefix: [] };
    // Under `npm run`, the outer npm's npm_* variables (and the project's config) would leak in.
    const outer = Object.entries(cleanEnv()).filter(([key]) => !/^npm_/i.test(key));
    const env = {
      ...Object.fromEntries(outer),
      TMPDIR: tmp,
      // Headers of the running node, so node-gyp (kerberos, node-pty) never downloads them.
      npm_config_nodedir: dirname(dirname(process.execPath)),
      // node-pty's postinstall runs `npx node-gyp`, which would otherwise prompt.
      npm_config_yes: 'true',
      // As root, code-server's postinstall demands unsafe-perm as both flag and variable.
      npm_config_unsafe_perm: 'true',
      npm_config_update_notifier: 'false',
    };
    const started = performance.now();
    const result = await runProgram(
      npm.command,
      [
        ...npm.prefix,
        'install',
        '--unsafe-perm',
        '--no-audit',
        '--no-fund',
        '--prefix',
        installDir,
        `code-server@${CODE_SERVER_VERSION}`,
      ],
      { cwd: installDir, env },
    );
    if (result.code !== 0 || !existsSync(entryScript())) {
      throw new Error(
        `npm install code-server@${CODE_SERVER_VERSION} failed (exit ${result.code}):\n` +
          result.output.slice(-4000),
      );
    }
    writeFileSync(
      markerFile,
      JSON.stringify({
        version: CODE_SERVER_VERSION,
        node: process.version,
        seconds: Math.round((performance.now() - started) / 1000),
      }),
    );
  });
  return { bin: entryScript(), version: CODE_SERVER_VERSION };
}

/** A free TCP port on 127.0.0.1 (the OS picks it; released just before code-server binds it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True while any process of the group is alive. */
function groupAlive(/** @type {number} */ pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(/** @type {number} */ pgid, /** @type {NodeJS.Signals} */ signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a process group: SIGTERM, then SIGKILL for whatever is left after `graceMs`. The
 * code-server wrapper leaves a file watcher and extension hosts behind unless the whole group goes.
 * @param {number} pgid
 * @param {number} [graceMs]
 */
export async function stopGroup(pgid, graceMs = 5000) {
  killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
  while (groupAlive(pgid) && Date.now() < deadline + 5000) await sleep(100);
  liveGroups.delete(pgid);
}

/** Last lines of a log file, for error messages. */
function logTail(/** @type {string} */ file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts code-server on a free port of 127.0.0.1, isolated inside `workDir`, in its own process
 * group, and resolves once /healthz answers.
 * @param {{
 *   workDir: string,
 *   folder?: string,
 *   userSettings?: Record<string, unknown>,
 *   extensionsDir?: string,
 *   trust?: boolean,
 *   bin?: string,
 * }} options `trust: true` keeps workspace trust on (the Restricted Mode tests).
 * @returns {Promise<{
 *   url: string, port: number, userDataDir: string, extensionsDir: string, logFile: string,
 *   pid: number, stop(): Promise<void>,
 * }>}
 */
export async function startCodeServer({
  workDir,
  folder,
  userSettings = {},
  extensionsDir = join(workDir, 'extensions'),
  trust = false,
  bin,
}) {
  const entry = bin ?? (await installCodeServer()).bin;
  const env = isolatedEnv(workDir);
  const userDataDir = join(workDir, 'user-data');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    // Work dirs live inside this repository; the git prompt about it would cover the UI.
    'git.openRepositoryInParentFolders': 'never',
    ...(trust ? {} : { 'security.workspace.trust.enabled': false }),
    ...userSettings,
  };
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(settings, null, 2) + '\n',
  );
  const port = await freePort();
  const configFile = join(workDir, 'code-server.yaml');
  writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const logFile = join(workDir, 'code-server.log');
  const log = openSync(logFile, 'a');
  const args = [
    entry,
    '--config',
    configFile,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(trust ? [] : ['--disable-workspace-trust']),
    ...(folder ? [folder] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: workDir,
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  liveGroups.add(pid);
  let exited = /** @type {number | null | undefined} */ (undefined);
  child.on('exit', (code) => {
    exited = code;
  });
  const stop = () => stopGroup(pid);
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`code-server exited (${exited}) before it was ready:\n${logTail(logFile)}`);
    }
    try {
      const response = await globalThis.fetch(`${url}healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server was not ready within 60 s:\n${logTail(logFile)}`);
    }
    await sleep(200);
  }
  return { url, port, userDataDir, extensionsDir, logFile, pid, stop };
}

/**
 * Installs a VSIX with code-server's own CLI into the given user-data and extensions dirs.
 * @param {{ bin: string, vsix: string, userDataDir: string, extensionsDir: string, workDir?: string }} options
 *   `workDir` (default: the user-data dir's parent) holds the isolated HOME/TMPDIR.
 */
export async function installExtension({ bin, vsix, userDataDir, extensionsDir, workDir }) {
  const result = await runProgram(
    process.execPath,
    [
      bin,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ],
    { env: isolatedEnv(workDir ?? dirname(userDataDir)), timeoutMs: 120_000 },
  );
  // The CLI has exited 0 after printing a failure, so the success line is what counts.
  if (result.code !== 0 || !/successfully installed/i.test(result.output)) {
    throw new Error(`installing ${vsix} failed (exit ${result.code}):\n${result.output}`);
  }
  return result.output.trim();
}

/**
 * Launches Debian's chromium headless through playwright-core (no browser download), with its
 * profile and HOME inside `workDir`. Returns a persistent browser context: `newPage()`, `close()`.
 * @param {{ workDir: string, headless?: boolean }} options
 */
export async function launchChromium({ workDir, headless = true }) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
  }
  const { chromium } = await import('playwright-core');
  const profile = join(workDir, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless,
    env: isolatedEnv(workDir),
    viewport: { width: 1600, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

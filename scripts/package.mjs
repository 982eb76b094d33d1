// `npm run package`: builds the bundles, then one VSIX per target into out/vsix/, each carrying
// only its own platform's onnxruntime binaries, and checks them (scripts/checkPackages.mjs).
// Usage: node scripts/package.mjs [--target linux-x64 ...] [--no-build] [--no-check]
//
// vsce ships the production node_modules; onnxruntime-node keeps every platform's binaries under
// bin/napi-v<N>/<platform>/<arch>/ (hundreds of MB), so each target gets a copy of .vscodeignore
// with the other platforms' folders appended and passed with --ignoreFile, together with the
// packages only onnxruntime-node's install script uses (INSTALL_ONLY_DEPENDENCIES).
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  checkPackages,
  DARWIN_X64_NOTE,
  megabytes,
  productionPackages,
  TARGETS,
  targetIgnoreFile,
} from './checkPackages.mjs';

const root = join(import.meta.dirname, '..');
const outDir = join(root, 'out', 'vsix');
const ignoreDir = join(root, '.tmp', 'vsix');
const ortBin = join(root, 'node_modules', 'onnxruntime-node', 'bin');
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');

/**
 * Runs node with arguments in the repository root, collecting the output.
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, output: string }>}
 */
function runNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No colour codes in the captured output; never prompt.
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * onnxruntime-node's binary folders relative to the repository root, as `{ platform, arch, dir }`.
 * @returns {{ platform: string, arch: string, dir: string }[]}
 */
function ortBinaryFolders() {
  const folders = [];
  for (const napi of readdirSync(ortBin).filter((name) => name.startsWith('napi-v'))) {
    for (const platform of readdirSync(join(ortBin, napi))) {
      for (const arch of readdirSync(join(ortBin, napi, platform))) {
        const dir = `node_modules/onnxruntime-node/bin/${napi}/${platform}/${arch}`;
        folders.push({ platform, arch, dir });
      }
    }
  }
  return folders;
}

const args = process.argv.slice(2);
const wanted = args.flatMap((arg, i) => (args[i - 1] === '--target' ? [arg] : []));
const unknown = wanted.filter((t) => !TARGETS.some((spec) => spec.target === t));
if (unknown.length > 0) {
  console.error(
    `unknown target(s) ${unknown.join(', ')}; offered: ${TARGETS.map((t) => t.target).join(', ')}`,
  );
  if (unknown.includes('darwin-x64')) console.error(DARWIN_X64_NOTE);
  process.exit(2);
}
const targets = TARGETS.filter((spec) => wanted.length === 0 || wanted.includes(spec.target));
const { version, name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const started = performance.now();

if (!args.includes('--no-build')) {
  const build = await runNode(['esbuild.mjs']);
  process.stdout.write(build.output);
  if (build.code !== 0) process.exit(1);
}

const folders = ortBinaryFolders();
const { all, runtime } = productionPackages(root);
const installOnly = all.filter((folder) => !runtime.includes(folder));
const base = readFileSync(join(root, '.vscodeignore'), 'utf8');
mkdirSync(outDir, { recursive: true });
mkdirSync(ignoreDir, { recursive: true });
const built = [];
let failed = false;
for (const spec of targets) {
  if (!folders.some((f) => f.platform === spec.platform && f.arch === spec.arch)) {
    console.error(`${spec.target}: onnxruntime-node has no ${spec.platform}/${spec.arch} binaries`);
    failed = true;
    continue;
  }
  const ignoreFile = join(ignoreDir, `${spec.target}.vscodeignore`);
  writeFileSync(ignoreFile, targetIgnoreFile(base, spec, folders, installOnly));
  const vsix = join(outDir, `${name}-${spec.target}-${version}.vsix`);
  rmSync(vsix, { force: true });
  const t0 = performance.now();
  const result = await runNode([
    vsce,
    'package',
    '--target',
    spec.target,
    '--ignoreFile',
    ignoreFile,
    '--out',
    vsix,
    // The project has no public repository yet; README links stay relative to the package.
    '--allow-missing-repository',
    '--no-rewrite-relative-links',
  ]);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (result.code !== 0 || !existsSync(vsix)) {
    console.error(`${spec.target}: vsce failed after ${seconds} s\n${result.output}`);
    failed = true;
    continue;
  }
  console.log(
    `${spec.target}: ${megabytes(statSync(vsix).size)} in ${seconds} s → out/vsix/${name}-${spec.target}-${version}.vsix`,
  );
  built.push(vsix);
}
console.log(DARWIN_X64_NOTE);
if (!args.includes('--no-check') && built.length > 0) {
  failed = !checkPackages(built, { root }) || failed;
}
console.log(
  `\npackaging ${failed ? 'FAILED' : 'ok'} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed ? 1 : 0);

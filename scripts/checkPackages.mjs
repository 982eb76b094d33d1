// The VSIX check (`npm run package:check`, also run by `npm run package`): opens every VSIX in
// out/vsix/, lists its contents and size, and fails when a package lacks what the extension needs
// at run time (its platform's onnxruntime binding and shared library, the bundles, the shipped
// checkpoints and clips) or carries what it must not (another platform's binaries, the test split,
// Python, tests, sources, source maps). The listing and rules are pure functions, unit-tested on
// hand-made entry lists (test/unit/vsixCheck.test.ts).
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { Buffer } from 'node:buffer';
import { basename, dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The platforms a VSIX is built for. darwin-x64 is absent on purpose: onnxruntime-node 1.30 ships
 * no darwin/x64 binary, so an Intel Mac package could not load the model.
 * `sharedLibrary` is the onnxruntime library the binding links against.
 */
export const TARGETS = [
  { target: 'linux-x64', platform: 'linux', arch: 'x64', sharedLibrary: 'libonnxruntime.so.1' },
  { target: 'linux-arm64', platform: 'linux', arch: 'arm64', sharedLibrary: 'libonnxruntime.so.1' },
  { target: 'win32-x64', platform: 'win32', arch: 'x64', sharedLibrary: 'onnxruntime.dll' },
  { target: 'win32-arm64', platform: 'win32', arch: 'arm64', sharedLibrary: 'onnxruntime.dll' },
  {
    target: 'darwin-arm64',
    platform: 'darwin',
    arch: 'arm64',
    sharedLibrary: 'libonnxruntime.1.dylib',
  },
];

/** Why darwin-x64 is missing from TARGETS, printed by the packager and quoted in the README. */
export const DARWIN_X64_NOTE =
  'darwin-x64 (Intel Mac) is not offered: onnxruntime-node 1.30 ships no darwin/x64 binary.';

/** Bundles the extension loads at run time (paths inside the extension folder). */
export const REQUIRED_BUNDLES = [
  'dist/extension.js',
  'dist/core/inferenceWorker.js',
  'dist/decode/wasmWorker.js',
  'dist/cli/main.js',
];

/** The ffmpeg.wasm core the wasm decoder loads (UMD flavour only). */
export const REQUIRED_FFMPEG = [
  'node_modules/@ffmpeg/core/dist/umd/ffmpeg-core.js',
  'node_modules/@ffmpeg/core/dist/umd/ffmpeg-core.wasm',
];

/** Top-level documents every package carries (vsce renames LICENSE and README). */
export const REQUIRED_DOCS = ['LICENSE.txt', 'THIRD_PARTY_NOTICES', 'readme.md', 'package.json'];

/**
 * The checkpoint exporter the "Export Emotion-LLaMA / MoSEAR Checkpoint" command runs
 * (models/realexport, with the contract reference it builds on): the only Python that ships.
 */
export const SHIPPED_EXPORTER = [
  'models/mosear/__init__.py',
  'models/mosear/model.py',
  'models/mosear/export.py',
  'models/realexport/__init__.py',
  'models/realexport/__main__.py',
  'models/realexport/blocks.py',
  'models/realexport/check_original.py',
  'models/realexport/export.py',
  'models/realexport/fp16.py',
  'models/realexport/model.py',
  'models/realexport/mose_mapping.json',
  'models/realexport/prompt.py',
  'models/realexport/quantize.py',
  'models/realexport/readers.py',
  'models/realexport/README.md',
];

/** Content that must never ship, with the reason shown when it does. */
const FORBIDDEN = [
  { pattern: /^models\/data\//, why: 'the test split (models/data)' },
  { pattern: /^models\/golden\//, why: 'golden model outputs (models/golden)' },
  { pattern: /^models\/fixtures\//, why: 'the full-shape test fixture (models/fixtures)' },
  { pattern: /^models\/(mosear|research|tests)\/|^models\/.*\.pt$/, why: 'Python or a .pt' },
  { pattern: /^models\/samples\/golden-decodes\//, why: 'decode fixtures of the tests' },
  { pattern: /\.f32$/, why: 'raw tensor fixtures of the tests' },
  { pattern: /\.py$/, why: 'Python code' },
  { pattern: /^(test|dist-test|src|bench|scripts|\.vscode-test|\.tmp)\//, why: 'tests or sources' },
  { pattern: /^webview\//, why: 'webview sources (dist/webview/ holds what runs)' },
  { pattern: /\.map$/, why: 'a source map' },
  { pattern: /^node_modules\/@ffmpeg\/core\/dist\/esm\//, why: 'the unused ESM ffmpeg core' },
  {
    pattern: /^node_modules\/(typescript|esbuild|eslint|mocha|playwright-core)\//,
    why: 'a dev tool',
  },
];

/**
 * Dependencies a package declares that only its install script uses: onnxruntime-node's
 * script/install.js (not shipped) downloads the CUDA provider with these. Their subtrees stay out
 * of every VSIX.
 */
export const INSTALL_ONLY_DEPENDENCIES = /** @type {Record<string, string[]>} */ ({
  'onnxruntime-node': ['adm-zip', 'global-agent'],
});

/**
 * The production packages under node_modules, as folders relative to `root` (`node_modules/x`):
 * `all` follows every dependency from package.json down, `runtime` skips
 * INSTALL_ONLY_DEPENDENCIES. A new dependency is shipped without anything to update here.
 * @param {string} root a folder with package.json and an installed node_modules
 * @returns {{ all: string[], runtime: string[] }}
 */
export function productionPackages(root) {
  const manifest = (/** @type {string} */ dir) =>
    /** @type {{ dependencies?: Record<string, string>, optionalDependencies?: Record<string, string> }} */ (
      JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    );
  // Node's lookup: the package's own node_modules, then each parent's, up to the root's.
  const resolveFrom = (/** @type {string} */ fromDir, /** @type {string} */ name) => {
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dir === root || dirname(dir) === dir) return undefined;
    }
  };
  const walk = (/** @type {boolean} */ skipInstallOnly) => {
    /** @type {Set<string>} */
    const seen = new Set();
    const visit = (/** @type {string} */ dir, /** @type {string} */ name) => {
      const { dependencies = {}, optionalDependencies = {} } = manifest(dir);
      for (const dep of Object.keys({ ...dependencies, ...optionalDependencies })) {
        if (skipInstallOnly && INSTALL_ONLY_DEPENDENCIES[name]?.includes(dep)) continue;
        const found = resolveFrom(dir, dep);
        if (found === undefined) {
          if (dep in optionalDependencies) continue;
          throw new Error(`${dep} (a dependency of ${name || 'the project'}) is not installed`);
        }
        const folder = relative(root, found).split(sep).join('/');
        if (!seen.has(folder)) {
          seen.add(folder);
          visit(found, dep);
        }
      }
    };
    visit(root, '');
    return [...seen].sort();
  };
  return { all: walk(false), runtime: walk(true) };
}

/**
 * The ignore file for one target: the project's .vscodeignore plus every other platform's
 * onnxruntime folder and the install-time-only packages (pure).
 * @param {string} base the text of .vscodeignore
 * @param {{ platform: string, arch: string }} spec
 * @param {{ platform: string, arch: string, dir: string }[]} folders
 * @param {string[]} [installOnly] package folders to leave out (productionPackages: all − runtime)
 */
export function targetIgnoreFile(base, spec, folders, installOnly = []) {
  const others = folders.filter((f) => f.platform !== spec.platform || f.arch !== spec.arch);
  return [
    base.trimEnd(),
    `# Generated by scripts/package.mjs for ${spec.platform}-${spec.arch}: other platforms' binaries.`,
    ...others.map((f) => `${f.dir}/**`),
    '# Packages only install scripts use.',
    ...installOnly.map((dir) => `${dir}/**`),
    '',
  ].join('\n');
}

/**
 * Lists the entries of a zip file from its central directory (no decompression needed: the names
 * and sizes are all there). Reads only the file's tail.
 * @param {string} file
 * @returns {{ name: string, size: number, compressedSize: number }[]}
 */
export function readZipEntries(file) {
  const fd = openSync(file, 'r');
  try {
    const { size } = statSync(file);
    // The end-of-central-directory record is 22 bytes plus a comment of at most 65535 bytes.
    const tailLength = Math.min(size, 22 + 65535);
    const tail = Buffer.alloc(tailLength);
    readSync(fd, tail, 0, tailLength, size - tailLength);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${file}: not a zip (no end of central directory)`);
    const directorySize = tail.readUInt32LE(eocd + 12);
    const directoryOffset = tail.readUInt32LE(eocd + 16);
    if (directoryOffset === 0xffffffff) throw new Error(`${file}: zip64 is not supported`);
    const directory = Buffer.alloc(directorySize);
    readSync(fd, directory, 0, directorySize, directoryOffset);
    return parseCentralDirectory(directory);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses central-directory file headers (pure; the zip format's section 4.3.12).
 * @param {Buffer} directory
 */
export function parseCentralDirectory(directory) {
  const entries = [];
  let at = 0;
  while (at + 46 <= directory.length && directory.readUInt32LE(at) === 0x02014b50) {
    const compressedSize = directory.readUInt32LE(at + 20);
    const size = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
    entries.push({ name, size, compressedSize });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * What a package must contain beyond the fixed lists: the files of the shipped checkpoints and
 * sample clips, read from the working tree so a new checkpoint is required automatically.
 * @param {string} root the repository root
 */
export function shippedModelFiles(root) {
  const list = (dir, keep) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter(keep)
          .map((name) => `${dir}/${name}`)
      : [];
  return [
    'models/CONTRACT.md',
    ...list('models/checkpoints', (name) => name.endsWith('.onnx')),
    ...list('models/samples', (name) => /\.(mp4|mov|mkv|webm|avi|m4v)$/i.test(name)),
  ];
}

/**
 * Checks one package's entries against the rules for its target (pure).
 * @param {{ name: string, size: number }[]} entries zip entries (paths start with `extension/`)
 * @param {string} target e.g. `linux-x64`
 * @param {string[]} modelFiles from shippedModelFiles()
 * @param {string[]} [runtimePackages] from productionPackages(): exactly these may ship
 * @returns {string[]} problems; empty when the package is fine
 */
export function checkVsixEntries(entries, target, modelFiles, runtimePackages) {
  const spec = TARGETS.find((t) => t.target === target);
  if (!spec) return [`unknown target ${target}`];
  const files = new Set(
    entries.filter((e) => e.name.startsWith('extension/')).map((e) => e.name.slice(10)),
  );
  const problems = [];
  const ortDir = (/** @type {string} */ platform, /** @type {string} */ arch) =>
    new RegExp(`^node_modules/onnxruntime-node/bin/napi-v\\d+/${platform}/${arch}/`);
  const own = [...files].filter((f) => ortDir(spec.platform, spec.arch).test(f));
  for (const needed of ['onnxruntime_binding.node', spec.sharedLibrary]) {
    if (!own.some((f) => f.endsWith(`/${needed}`))) {
      problems.push(`missing onnxruntime ${needed} for ${spec.platform}/${spec.arch}`);
    }
  }
  const anyOrt = /^node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\//;
  const foreign = new Set();
  for (const f of files) {
    const match = anyOrt.exec(f);
    if (match && (match[1] !== spec.platform || match[2] !== spec.arch)) {
      foreign.add(`${match[1]}/${match[2]}`);
    }
  }
  for (const dir of foreign) problems.push(`carries another platform's onnxruntime (${dir})`);
  for (const needed of [
    'node_modules/onnxruntime-node/dist/index.js',
    ...REQUIRED_BUNDLES,
    ...REQUIRED_FFMPEG,
    ...REQUIRED_DOCS,
    ...SHIPPED_EXPORTER,
    ...modelFiles,
  ]) {
    if (!files.has(needed)) problems.push(`missing ${needed}`);
  }
  if (![...files].some((f) => /^dist\/webview\/[^/]+\.js$/.test(f))) {
    problems.push('missing the webview bundles (dist/webview/*.js)');
  }
  for (const f of files) {
    if (SHIPPED_EXPORTER.includes(f)) continue;
    const rule = FORBIDDEN.find((r) => r.pattern.test(f));
    if (rule) problems.push(`must not ship ${f}: ${rule.why}`);
  }
  if (runtimePackages !== undefined) {
    const shipped = new Set([...files].map(packageFolderOf).filter((p) => p !== undefined));
    for (const folder of runtimePackages) {
      if (!files.has(`${folder}/package.json`)) problems.push(`missing ${folder}/package.json`);
    }
    for (const folder of shipped) {
      if (!runtimePackages.includes(folder)) {
        problems.push(`ships ${folder}, which nothing loads at run time`);
      }
    }
  }
  return problems;
}

/**
 * The package folder a path lies in (`node_modules/a/node_modules/@s/b`), or undefined.
 * @param {string} path a path inside the extension folder
 */
export function packageFolderOf(path) {
  return /^((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)/.exec(path)?.[1]?.slice(0, -1);
}

/**
 * The area a packaged path belongs to, for the size listing: a node_modules package, or a folder
 * two levels deep (`dist/webview`, `models/checkpoints`), or the top level.
 * @param {string} name a zip entry name
 */
export function areaOf(name) {
  const parts = name.replace(/^extension\//, '').split('/');
  if (parts[0] === 'node_modules') {
    return parts.slice(0, parts[1]?.startsWith('@') ? 3 : 2).join('/');
  }
  if (parts.length === 1) return '(top level)';
  return parts.slice(0, Math.min(2, parts.length - 1)).join('/');
}

/**
 * Sums entry sizes by area, largest (compressed) first.
 * @param {{ name: string, size: number, compressedSize: number }[]} entries
 */
export function sizeByArea(entries) {
  /** @type {Map<string, { files: number, size: number, compressedSize: number }>} */
  const areas = new Map();
  for (const e of entries) {
    const key = areaOf(e.name);
    const sum = areas.get(key) ?? { files: 0, size: 0, compressedSize: 0 };
    sum.files += 1;
    sum.size += e.size;
    sum.compressedSize += e.compressedSize;
    areas.set(key, sum);
  }
  return [...areas.entries()]
    .map(([area, sum]) => ({ area, ...sum }))
    .sort((a, b) => b.compressedSize - a.compressedSize);
}

/** Human-readable megabytes. */
export function megabytes(/** @type {number} */ bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The target a VSIX file name carries (`mosear-lens-<target>-<version>.vsix`). */
export function targetOfVsix(/** @type {string} */ file) {
  return TARGETS.find((t) => new RegExp(`-${t.target}(-|\\.vsix$)`).test(basename(file)))?.target;
}

/**
 * Checks VSIX files and prints their listing; returns true when all pass.
 * @param {string[]} vsixFiles
 * @param {{ root: string, verbose?: boolean }} options
 */
export function checkPackages(vsixFiles, { root, verbose = false }) {
  const modelFiles = shippedModelFiles(root);
  const { runtime } = productionPackages(root);
  let ok = vsixFiles.length > 0;
  if (!ok) console.error('no VSIX to check: run `npm run package` first');
  for (const file of vsixFiles) {
    const target = targetOfVsix(file);
    const entries = readZipEntries(file);
    const problems = target
      ? checkVsixEntries(entries, target, modelFiles, runtime)
      : [`cannot tell the target from the name ${basename(file)}`];
    const { size } = statSync(file);
    console.log(`\n${basename(file)}: ${megabytes(size)}, ${entries.length} files`);
    const areas = sizeByArea(entries);
    // Dozens of tiny helper packages would drown the listing; they are summed on one line.
    const small = areas.filter((a) => a.compressedSize < 64 * 1024);
    const shown = [
      ...areas.filter((a) => a.compressedSize >= 64 * 1024),
      {
        area: `${small.length} smaller areas`,
        files: small.reduce((n, a) => n + a.files, 0),
        compressedSize: small.reduce((n, a) => n + a.compressedSize, 0),
      },
    ];
    for (const a of shown) {
      const files = `${String(a.files).padStart(4)} files`;
      console.log(`  ${megabytes(a.compressedSize).padStart(9)} ${files}  ${a.area}`);
    }
    // The full listing beside the package (a CI artefact), and on stdout with --verbose.
    const listing = entries.map((e) => `${String(e.size).padStart(10)}  ${e.name}`);
    writeFileSync(file.replace(/\.vsix$/, '.contents.txt'), listing.join('\n') + '\n');
    if (verbose) for (const line of listing) console.log(`  ${line}`);
    for (const problem of problems) console.error(`  ✗ ${problem}`);
    if (problems.length === 0) console.log('  ✓ binding, bundles, checkpoints and clips present');
    ok &&= problems.length === 0;
  }
  return ok;
}

/** The VSIX files in a folder, sorted. */
export function vsixFilesIn(/** @type {string} */ dir) {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.vsix'))
        .sort()
        .map((name) => join(dir, name))
    : [];
}

// Run alone: `node scripts/checkPackages.mjs [--verbose] [file.vsix ...]`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(import.meta.dirname, '..');
  const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const files = named.length > 0 ? named : vsixFilesIn(join(root, 'out', 'vsix'));
  const ok = checkPackages(files, { root, verbose: process.argv.includes('--verbose') });
  process.exit(ok ? 0 : 1);
}

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/golden';

interface Entry {
  name: string;
  size: number;
  compressedSize: number;
}
interface Spec {
  platform: string;
  arch: string;
}
/** The part of scripts/checkPackages.mjs (plain ES module, loaded at run time) tested here. */
interface VsixRules {
  SHIPPED_EXPORTER: string[];
  checkVsixEntries(
    entries: Entry[],
    target: string,
    modelFiles: string[],
    runtimePackages?: string[],
  ): string[];
  productionPackages(root: string): { all: string[]; runtime: string[] };
  packageFolderOf(path: string): string | undefined;
  parseCentralDirectory(directory: Buffer): Entry[];
  areaOf(name: string): string;
  targetOfVsix(file: string): string | undefined;
  targetIgnoreFile(
    base: string,
    spec: Spec,
    folders: { platform: string; arch: string; dir: string }[],
    installOnly?: string[],
  ): string;
}

const load = async (): Promise<VsixRules> =>
  (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'checkPackages.mjs')).href)) as VsixRules;

const MODELS = ['models/CONTRACT.md', 'models/checkpoints/a.onnx', 'models/samples/clip.mp4'];
/** The shipped checkpoint exporter's files (read from the rules before the tests run). */
let EXPORTER: string[] = [];
before(async () => {
  EXPORTER = (await load()).SHIPPED_EXPORTER;
});
const ORT = 'node_modules/onnxruntime-node';

/** A package that passes for linux-x64: everything required, nothing else. */
function linuxX64(): string[] {
  return [
    'package.json',
    'readme.md',
    'LICENSE.txt',
    'THIRD_PARTY_NOTICES',
    'dist/extension.js',
    'dist/core/inferenceWorker.js',
    'dist/decode/wasmWorker.js',
    'dist/cli/main.js',
    'dist/webview/analysis.js',
    'node_modules/@ffmpeg/core/dist/umd/ffmpeg-core.js',
    'node_modules/@ffmpeg/core/dist/umd/ffmpeg-core.wasm',
    `${ORT}/dist/index.js`,
    `${ORT}/bin/napi-v6/linux/x64/onnxruntime_binding.node`,
    `${ORT}/bin/napi-v6/linux/x64/libonnxruntime.so.1`,
    ...MODELS,
    ...EXPORTER,
  ];
}

const entries = (paths: string[]): Entry[] => [
  { name: '[Content_Types].xml', size: 1, compressedSize: 1 },
  ...paths.map((p) => ({ name: `extension/${p}`, size: 10, compressedSize: 5 })),
];

describe('VSIX check', () => {
  it('accepts a complete package for its own target', async () => {
    const rules = await load();
    assert.deepEqual(rules.checkVsixEntries(entries(linuxX64()), 'linux-x64', MODELS), []);
  });

  it("flags another platform's onnxruntime and a missing binding", async () => {
    const rules = await load();
    const problems = rules.checkVsixEntries(entries(linuxX64()), 'win32-x64', MODELS);
    assert.ok(problems.some((p) => p.includes('onnxruntime_binding.node for win32/x64')));
    assert.ok(problems.some((p) => p.includes('onnxruntime.dll')));
    assert.ok(problems.some((p) => p.includes("another platform's onnxruntime (linux/x64)")));
  });

  it('flags a missing checkpoint, bundle and webview, and forbidden content', async () => {
    const rules = await load();
    const paths = linuxX64().filter(
      (p) =>
        !p.endsWith('.onnx') &&
        p !== 'dist/core/inferenceWorker.js' &&
        !p.startsWith('dist/webview') &&
        p !== 'models/realexport/prompt.py',
    );
    paths.push(
      'models/data/split/x.mp4',
      'models/mosear/recover.py',
      'models/realexport/oracle.py',
      'test/unit/a.test.ts',
      'dist/extension.js.map',
    );
    const problems = rules.checkVsixEntries(entries(paths), 'linux-x64', MODELS);
    for (const expected of [
      'missing models/checkpoints/a.onnx',
      'missing dist/core/inferenceWorker.js',
      'missing the webview bundles',
      'models/data/split/x.mp4: the test split',
      'missing models/realexport/prompt.py',
      'models/mosear/recover.py',
      'models/realexport/oracle.py',
      'test/unit/a.test.ts',
      'a source map',
    ]) {
      assert.ok(
        problems.some((p) => p.includes(expected)),
        `expected a problem about ${expected}`,
      );
    }
  });

  it('reads names and sizes from a central directory', async () => {
    const rules = await load();
    const header = (name: string, size: number, compressed: number): Buffer => {
      const fixed = Buffer.alloc(46);
      fixed.writeUInt32LE(0x02014b50, 0);
      fixed.writeUInt32LE(compressed, 20);
      fixed.writeUInt32LE(size, 24);
      fixed.writeUInt16LE(Buffer.byteLength(name), 28);
      fixed.writeUInt16LE(2, 30); // an extra field the parser must skip
      return Buffer.concat([fixed, Buffer.from(name), Buffer.from([0, 0])]);
    };
    const directory = Buffer.concat([header('extension/a.js', 100, 40), header('b/ü.txt', 7, 7)]);
    assert.deepEqual(rules.parseCentralDirectory(directory), [
      { name: 'extension/a.js', size: 100, compressedSize: 40 },
      { name: 'b/ü.txt', size: 7, compressedSize: 7 },
    ]);
  });

  it('groups sizes by area and reads the target from a file name', async () => {
    const rules = await load();
    assert.equal(rules.areaOf(`extension/${ORT}/bin/napi-v6/linux/x64/x.node`), ORT);
    assert.equal(
      rules.areaOf('extension/node_modules/@ffmpeg/core/dist/umd/a.js'),
      'node_modules/@ffmpeg/core',
    );
    assert.equal(rules.areaOf('extension/models/checkpoints/a.onnx'), 'models/checkpoints');
    assert.equal(rules.areaOf('extension/dist/extension.js'), 'dist');
    assert.equal(rules.areaOf('extension.vsixmanifest'), '(top level)');
    assert.equal(rules.targetOfVsix('out/vsix/mosear-lens-linux-arm64-0.1.0.vsix'), 'linux-arm64');
    assert.equal(rules.targetOfVsix('mosear-lens-0.1.0.vsix'), undefined);
  });

  it("writes an ignore file that drops exactly the other platforms' binaries", async () => {
    const rules = await load();
    const folders = ['linux/x64', 'linux/arm64', 'darwin/arm64'].map((pa) => {
      const [platform = '', arch = ''] = pa.split('/');
      return { platform, arch, dir: `${ORT}/bin/napi-v6/${pa}` };
    });
    const text = rules.targetIgnoreFile('src/**\n', { platform: 'linux', arch: 'x64' }, folders, [
      'node_modules/adm-zip',
    ]);
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines, [
      'src/**',
      `${ORT}/bin/napi-v6/linux/arm64/**`,
      `${ORT}/bin/napi-v6/darwin/arm64/**`,
      'node_modules/adm-zip/**',
    ]);
  });

  it('ships exactly the runtime packages, install-time helpers left out', async () => {
    const rules = await load();
    const root = mkdtempSync(join(tmpdir(), 'vsix-packages-'));
    try {
      const pkg = (dir: string, dependencies: Record<string, string> = {}): void => {
        mkdirSync(join(root, dir), { recursive: true });
        writeFileSync(join(root, dir, 'package.json'), JSON.stringify({ dependencies }));
      };
      pkg('.', { 'onnxruntime-node': '1', '@ffmpeg/core': '1' });
      pkg('node_modules/onnxruntime-node', { 'onnxruntime-common': '1', 'global-agent': '4' });
      pkg('node_modules/onnxruntime-common');
      pkg('node_modules/@ffmpeg/core');
      pkg('node_modules/global-agent', { semver: '7' });
      // A nested copy wins over the hoisted one, as in Node's lookup.
      pkg('node_modules/global-agent/node_modules/semver');
      pkg('node_modules/semver');
      const { all, runtime } = rules.productionPackages(root);
      assert.deepEqual(runtime, [
        'node_modules/@ffmpeg/core',
        'node_modules/onnxruntime-common',
        'node_modules/onnxruntime-node',
      ]);
      assert.deepEqual(
        all.filter((p) => !runtime.includes(p)),
        ['node_modules/global-agent', 'node_modules/global-agent/node_modules/semver'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    assert.equal(
      rules.packageFolderOf('node_modules/a/node_modules/@s/b/dist/x.js'),
      'node_modules/a/node_modules/@s/b',
    );
    assert.equal(rules.packageFolderOf('dist/extension.js'), undefined);
    const runtime = [ORT, 'node_modules/@ffmpeg/core', 'node_modules/onnxruntime-common'];
    const paths = [...linuxX64(), `${ORT}/package.json`, 'node_modules/@ffmpeg/core/package.json'];
    const extra = [...paths, 'node_modules/adm-zip/adm-zip.js'];
    const problems = rules.checkVsixEntries(entries(extra), 'linux-x64', MODELS, runtime);
    assert.deepEqual(problems, [
      'missing node_modules/onnxruntime-common/package.json',
      'ships node_modules/adm-zip, which nothing loads at run time',
    ]);
  });
});

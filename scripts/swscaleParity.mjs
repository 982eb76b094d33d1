// Are these -vf chains bit-identical between the system ffmpeg and the bundled ffmpeg.wasm core
// (@ffmpeg/core, the wasm decoder's)? The decoders may only use a chain that is.
// `node scripts/swscaleParity.mjs CLIP… [--vf CHAIN]…` prints, per clip and chain, how many bytes of
// the first frame (rgb24) differ and by how much. Default chains: the real pipeline's decode
// (contract 1.1 squash + bicubic) and the variants models/realexport/resize_check.py compares.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { vf: { type: 'string', multiple: true } },
});
const chains = values.vf ?? [
  'scale=448:448:flags=bicubic',
  'scale=448:448:flags=bicubic+accurate_rnd+full_chroma_int',
  'format=rgb24,scale=448:448:flags=bicubic',
  'scale=iw:ih:flags=bicubic+accurate_rnd+bitexact+full_chroma_int,format=rgb24,' +
    'scale=448:448:flags=bicubic+accurate_rnd+bitexact',
];
const require = createRequire(import.meta.url);
const script = require.resolve('@ffmpeg/core');
globalThis.self = globalThis;
globalThis.location = { href: pathToFileURL(script).href };
const factory = require(script);
const module = await globalThis.WebAssembly.compile(
  readFileSync(join(dirname(script), 'ffmpeg-core.wasm')),
);

const frameArgs = (input, vf) => [
  ...['-v', 'error', '-nostdin', '-i', input, '-frames:v', '1', '-vf', vf],
  ...['-pix_fmt', 'rgb24', '-f', 'rawvideo'],
];

for (const clip of positionals) {
  for (const vf of chains) {
    const core = await factory({
      instantiateWasm: (imports, done) => {
        void globalThis.WebAssembly.instantiate(module, imports).then((i) => done(i, module));
        return {};
      },
    });
    core.setLogger(() => {});
    core.FS.mkdir('/in');
    core.FS.writeFile('/in/clip', readFileSync(clip));
    core.exec(...frameArgs('/in/clip', vf), '/out.rgb');
    const wasm = core.FS.readFile('/out.rgb');
    const system = execFileSync('ffmpeg', [...frameArgs(clip, vf), '-'], {
      maxBuffer: 1 << 28,
    });
    let differ = 0;
    let max = 0;
    for (let i = 0; i < system.length; i++) {
      const d = Math.abs(system[i] - (wasm[i] ?? 0));
      if (d) differ++;
      max = Math.max(max, d);
    }
    const same = wasm.length === system.length && differ === 0;
    console.log(
      `${basename(clip)}\t${vf}\t${same ? 'identical' : `${differ} of ${system.length} bytes differ (max ${max})`}`,
    );
  }
}

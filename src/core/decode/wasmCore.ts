// Loads @ffmpeg/core (ffmpeg 5.1 compiled to WebAssembly, single-threaded) inside the wasm
// decoder's worker process and runs one ffmpeg or ffprobe command per fresh module instance
// (a command may write several output files: the one-process frame read).
// Only the worker imports this file: the core is GPL code kept in its own files and process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** Where the core's two files are: its UMD loader script and the `.wasm` it instantiates. */
export interface WasmCoreFiles {
  /** `@ffmpeg/core/dist/umd/ffmpeg-core.js`. */
  script: string;
  /** `@ffmpeg/core/dist/umd/ffmpeg-core.wasm`. */
  wasm: string;
}

/** One line the core printed. */
interface CoreLogEntry {
  type: 'stdout' | 'stderr';
  message: string;
}

/** The parts of an @ffmpeg/core 0.12 module instance this decoder uses. */
interface FfmpegCoreModule {
  FS: {
    mkdir(path: string): void;
    writeFile(path: string, data: Uint8Array, options?: { canOwn?: boolean }): void;
    readFile(path: string): Uint8Array;
    analyzePath(path: string): { exists: boolean };
  };
  /** Runs `ffmpeg -nostdin -y …args`; returns ffmpeg's exit code (−1 when it aborted). */
  exec(...args: string[]): number;
  /** Runs `ffprobe …args`; its return value is always −1 (ffprobe's exit is not hooked). */
  ffprobe(...args: string[]): number;
  setLogger(logger: (entry: CoreLogEntry) => void): void;
}

/** Emscripten's hook for supplying the instance ourselves (so one compile serves every run). */
type InstantiateWasm = (
  imports: object,
  done: (instance: object, module: object) => void,
) => object;

type CoreFactory = (options: { instantiateWasm: InstantiateWasm }) => Promise<FfmpegCoreModule>;

/** The WebAssembly calls used here (the project's TypeScript libs carry no WebAssembly types). */
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/**
 * What one command did: ffmpeg's exit code (ffprobe: null), its output files (one per path asked
 * for, undefined where the command wrote none), its stderr lines.
 */
export interface CoreRunResult {
  exitCode: number | null;
  outputs: (Uint8Array | undefined)[];
  stderrLines: string[];
}

const STDERR_MAX_LINES = 64;

/**
 * A compiled ffmpeg.wasm core. Every `run` instantiates a fresh module (≈ 10–20 ms once
 * compiled) with the input in its in-memory file system, so no state — av_log's repeat counter,
 * codec tables, a trapped instance — carries from one command to the next, just as with one
 * system process per command.
 */
export class WasmFfmpegCore {
  private constructor(
    private readonly factory: CoreFactory,
    private readonly module: object,
  ) {}

  /**
   * Loads the UMD script and compiles the `.wasm`. The script is Emscripten's web-worker flavour:
   * it needs `self` (= globalThis) and `self.location`; we pass the binary in ourselves, so it
   * never fetches anything.
   */
  static async load(files: WasmCoreFiles): Promise<WasmFfmpegCore> {
    const scope = globalThis as unknown as { self?: unknown; location?: { href: string } };
    scope.self = globalThis;
    scope.location = { href: pathToFileURL(files.script).href };
    const load = createRequire(files.script);
    const factory = load(files.script) as CoreFactory;
    if (typeof factory !== 'function') {
      throw new Error(`${files.script} does not export the ffmpeg.wasm core factory`);
    }
    const module = await webAssembly.compile(readFileSync(files.wasm));
    return new WasmFfmpegCore(factory, module);
  }

  /**
   * Runs one command on a fresh instance: `input.bytes` appears at `input.path` (shared, not
   * copied), and the files the command writes at `outputPaths` are returned.
   */
  async run(
    tool: 'ffmpeg' | 'ffprobe',
    args: readonly string[],
    input: { path: string; bytes: Uint8Array },
    outputPaths: readonly string[],
  ): Promise<CoreRunResult> {
    const instance = await this.factory({
      instantiateWasm: (imports, done) => {
        void webAssembly.instantiate(this.module, imports).then((i) => done(i, this.module));
        return {};
      },
    });
    const stderrLines: string[] = [];
    instance.setLogger(({ type, message }) => {
      // The core prints "Aborted()" whenever ffmpeg exits, successful or not.
      if (type !== 'stderr' || message === 'Aborted()') return;
      stderrLines.push(message);
      if (stderrLines.length > STDERR_MAX_LINES) stderrLines.shift();
    });
    instance.FS.mkdir(input.path.slice(0, input.path.lastIndexOf('/')));
    instance.FS.writeFile(input.path, input.bytes, { canOwn: true });
    const ret = tool === 'ffmpeg' ? instance.exec(...args) : instance.ffprobe(...args);
    const outputs = outputPaths.map((path) =>
      instance.FS.analyzePath(path).exists ? instance.FS.readFile(path) : undefined,
    );
    return { exitCode: tool === 'ffmpeg' ? ret : null, outputs, stderrLines };
  }
}

#!/usr/bin/env node
// `mosear-lens`: analyse a clip with a MoSEAR contract checkpoint from the command line, print a
// summary and write the AnalysisResult JSON; `info` describes a checkpoint and the providers.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import packageJson from '../../package.json';
import { RATIO_KIND_NAMES } from '../protocol/contract';
import { MAX_RESULT_FILE_BYTES } from '../protocol/analysisResultReader';
import { selectClipDecoder, type DecoderChoice } from '../core/decode/decoderSelection';
import { WASM_WORKER_BUNDLE } from '../core/decode/wasmFfmpegDecoder';
import { unrunnableModelError } from '../core/contract/graphCheck';
import { AnalysisEngine, modelInfoOf } from '../core/engine/analysisEngine';
import { writeFileAtomic } from '../core/io/atomicWrite';
import { readOnnxModelInfo } from '../core/onnx/modelProto';
import { formatAnalysis } from './analysisReport';
import { COMPARE_USAGE, compareCommand } from './compareCommand';
import { chooseCommand } from './chooseCommand';
import { CONFLICTS_USAGE, conflictsCommand } from './conflictsCommand';
import { COUNTERFACTUAL_USAGE, counterfactualCommand } from './counterfactualCommand';
import { EVAL_USAGE, evalCommand, mergeCommand } from './evalCommand';
import { IMBALANCE_USAGE, imbalanceCommand } from './imbalanceCommand';
import { KNOCKOUT_USAGE, knockoutCommand } from './knockoutCommand';
import { controlsFromEdits, htmlPath, parseAnalyzeOptions } from './analyzeOptions';
import { flag, parseCommandLine, single } from './commandLine';
import { EXIT, OutputError, UsageError, exitCodeFor, signalExitCode } from './exitCodes';
import { htmlReportFor } from './htmlReportFile';
import { formatModelInfo, formatProviders } from './infoCommand';
import { readResultFile } from './resultFile';
import {
  readResultBytes,
  resultJson,
  resultNpz,
  withTokenStorage,
} from '../core/results/resultFile';
import { terminalLines } from './terminalText';

/** The package root: dist/cli/main.js lives two folders below it. */
const packageRoot = resolve(__dirname, '..', '..');
const DEFAULT_MODEL = join(packageRoot, 'models', 'checkpoints', 'mosear-tiny.onnx');
const WORKER_SCRIPT = join(__dirname, '..', 'core', 'inferenceWorker.js');
/** The ffmpeg.wasm decoder's child process (dist/decode/wasmWorker.js). */
const WASM_DECODE_WORKER = join(__dirname, '..', WASM_WORKER_BUNDLE);

const USAGE = `mosear-lens ${packageJson.version}: see where a MoSEAR-style emotion model's attention goes.

usage:
  mosear-lens analyze <clip> [options]   analyse a video clip (prints a summary; --npz or --json saves the result)
  mosear-lens info [<model.onnx>]        the checkpoint's contract metadata and the execution providers here
                                         (--json <file>: the same as JSON)
  mosear-lens show <result>              the summary of a saved .mosear.npz or .mosear.json result
                                         (no clip or model needed)
                                         (--html <file>: also write its self-contained HTML report)
  mosear-lens compare <clip> [options]   two checkpoints, or one under two settings, on one clip (see below)
  mosear-lens counterfactual <clip>      the clip with its audio or frames removed or swapped, and the
                                         verdict: audio-decided, video-decided, both, neither (see below)
  mosear-lens knockout <clip> [options]  knock out attention heads (head_gate) and rank the flagged ones (see below)
  mosear-lens imbalance <clip> [options] repeat the audio token k times (audio_repeat): prediction,
                                         label probabilities and audio UAP per k (see below)
  mosear-lens eval <manifest> [options]  evaluate checkpoints on a labelled clip list (see below)
  mosear-lens merge <dir>… --out <dir>   join the shards of one evaluation
  mosear-lens choose <run folder>        choose a setting on a finished evaluation by a stated rule
                                         (then: eval <another manifest> --choice <choice.json>)
  mosear-lens conflicts <manifest | folder> --truth video|audio --out <dir>
                                         build a conflict set from labelled clips (see below)

analyze options (unset intervention options come from the checkpoint's mosear.ar_defaults):
  --model <file.onnx>       contract checkpoint (default: the shipped mosear-tiny)
  --ep <provider>           auto | cpu | webgpu | cuda | dml | coreml (default auto: the platform's
                            GPU provider, then webgpu, then cpu)
  --allow-fallback          with an explicit --ep: fall back to the next providers if it fails
  --mode off|ar|pai         ar_mode 0, 1 (attention reallocation) or 2 (PAI-style)
  --ratio-kind raw|density|share   the AR statistic (ar_ratio_kind)
  --tau <v> | <v,v,…>       τ for every layer, or one per layer (ar_tau)
  --margin <m>              head rule: statistic > (1 + m) × layer mean (ar_head_margin)
  --alpha <α>               share of a flagged head's audio mass moved to visual, 0…1 (ar_alpha)
  --pai-alpha <γ>           PAI-style gain (pai_alpha)
  --layers <l,l,…>|all|none layers (0-based) where the intervention may act (ar_layers)
  --head <L:H=on|off|auto>  force a head on or off (ar_head_override); repeatable
  --npz <file>              save the result as <clip>.mosear.npz: result.json (the summary) and
                            the token rows as float32 .npy arrays (numpy.load opens it); the
                            extension opens it like a .mosear.json
  --json <file>             save the result as one JSON text, token rows as base64 float32 ("-"
                            for stdout, which drops the summary)
  --tokens all|mean|none    token rows the saved files and the report keep: every head's (default),
                            one head-mean row per layer, or none (summaries only)
  --html <file>             write a self-contained HTML report (the extension's Analysis panel with
                            the result embedded; opens offline in a browser)
  --ffmpeg <path>           the ffmpeg executable (default: on PATH; ffprobe next to it or on PATH)
  --decoder auto|system|wasm   clip decoder: the system ffmpeg, or the bundled ffmpeg.wasm (clips
                            up to 256 MiB); auto (default) = system when ffmpeg is on PATH, else wasm
  --no-thumbnails           leave the frame thumbnails out of the JSON
  --transcript <text>       contract-1.1 models: what is said in the clip (the prompt's transcript
                            slot; a contract-1 model has no slot). Default: a sidecar next to the
                            clip (clip.txt, else the text of clip.srt or clip.vtt; also
                            clip.mp4.txt …), else the checkpoint's default
  --face-features <f.npy>   models with FaceMAE/VideoMAE inputs (real-checkpoint exports): the
  --video-features <f.npy>  pre-extracted feature vector, float32 [D] or [1, D]. Default: a sidecar
                            next to the clip (clip.face.npy / clip.video.npy; also
                            clip.mp4.face.npy …), else zeros (as the public demo)
  --no-sidecar              never read a transcript or feature sidecar
  --quiet                   no summary
  --all-heads               the summary lists every flagged head (default: flags per layer and
                            the top 10 heads; also for show)
  --answer-tokens <k>       generate k (1-32) greedy tokens of the model's answer without and with
                            the intervention (applied at every generated position); needs a
                            checkpoint with a greedy_token output (real-checkpoint exports)

${COMPARE_USAGE}

${COUNTERFACTUAL_USAGE}

${KNOCKOUT_USAGE}

${IMBALANCE_USAGE}

${EVAL_USAGE}

${CONFLICTS_USAGE}

exit codes:
  0 ok · 1 unexpected error (a bug; the stack trace is printed) · 2 usage · 3 clip (missing,
  unreadable, a playlist, no video, no audio where the model needs it) · 4 model (missing, not ONNX, not
  following the contract) · 5 machine (ffmpeg or the wasm decoder missing, execution provider
  unavailable, inference worker crashed or timed out) · 6 output file not writable ·
  130 interrupted (Ctrl+C; 143 SIGTERM, 129 SIGHUP). A result file show cannot read (not a
  result, damaged, over 256 MiB, nested deeper than 64 levels) is 3.`;

function engine(
  ffmpegPath?: string,
  decoderChoice: DecoderChoice = 'auto',
  log?: (line: string) => void,
): AnalysisEngine {
  if (!existsSync(WORKER_SCRIPT)) {
    throw new Error(`the inference worker ${WORKER_SCRIPT} is missing: run npm run build`);
  }
  const picked = selectClipDecoder({
    choice: decoderChoice,
    system: { ffmpegPath },
    wasm: { workerScript: WASM_DECODE_WORKER },
  });
  log?.(`decoder: ${picked.reason}`);
  return new AnalysisEngine({
    workerScript: WORKER_SCRIPT,
    decoder: picked.decoder,
    ffmpegPath,
    toolName: 'mosear-lens',
    toolVersion: packageJson.version,
  });
}

async function writeOutput(path: string, text: string | Uint8Array): Promise<void> {
  if (path === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    await writeFileAtomic(path, text);
  } catch (error) {
    throw new OutputError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

async function analyze(argv: string[], signal: AbortSignal): Promise<void> {
  const options = parseAnalyzeOptions(argv);
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const eng = engine(
    options.ffmpeg,
    options.decoder,
    options.quiet || options.json === '-'
      ? undefined
      : (line) => console.error(terminalLines(line)),
  );
  try {
    const modelPath = options.model ?? DEFAULT_MODEL;
    const model = await eng.model(modelPath);
    const controls = controlsFromEdits(model.metadata, options.edits);
    const toStdout = options.json === '-';
    const defaults = model.metadata.arDefaults;
    if (
      controls.ratioKind !== defaults.ratioKind &&
      options.edits.tau === undefined &&
      !options.quiet
    ) {
      console.error(
        `note: τ comes from the checkpoint's defaults for the ${RATIO_KIND_NAMES[defaults.ratioKind]} ` +
          `statistic; the ${RATIO_KIND_NAMES[controls.ratioKind]} statistic lives on another scale (pass --tau)`,
      );
    }
    const result = await eng.analyze(
      {
        clipPath: options.clip,
        modelPath,
        controls,
        executionProvider: options.executionProvider,
        allowFallback: options.allowFallback,
        thumbnails: options.thumbnails,
        ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
        transcriptSidecar: options.sidecar,
        features: options.features,
        ...(options.answerTokens === 0 ? {} : { answerTokens: options.answerTokens }),
      },
      signal,
    );
    if (!options.quiet && !toStdout) {
      process.stdout.write(formatAnalysis(result, { allHeads: options.allHeads }));
    }
    const talk = !options.quiet && !toStdout;
    if (options.npz !== undefined) {
      await writeOutput(options.npz, resultNpz(result, options.tokens));
      if (talk) console.log(`\nwrote ${options.npz}`);
    }
    if (options.json !== undefined) {
      await writeOutput(options.json, resultJson(result, options.tokens));
      if (talk) console.log(`${options.npz === undefined ? '\n' : ''}wrote ${options.json}`);
    }
    if (options.html !== undefined) {
      await writeOutput(
        options.html,
        await htmlReportFor(withTokenStorage(result, options.tokens)),
      );
      if (!options.quiet && !toStdout) console.log(`wrote ${options.html}`);
    }
  } finally {
    await eng.dispose();
  }
}

async function info(argv: string[], signal: AbortSignal): Promise<void> {
  const parsed = parseCommandLine(argv, {
    json: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    console.log(USAGE);
    return;
  }
  if (parsed.positionals.length > 1) throw new UsageError('info takes one model');
  const modelPath = parsed.positionals[0] ?? DEFAULT_MODEL;
  const eng = engine();
  try {
    const model = await eng.model(modelPath);
    const onnx = await readOnnxModelInfo(model.path);
    const providers = await eng.probeProviders(model.path, signal);
    // Printed, not thrown: info shows what it can of a model whose tokenizer does not load.
    let tokenizerError: Error | undefined;
    const tokenizerStatus = await eng.promptTokenizer(model).then(
      (t) => (t === undefined ? undefined : 'loaded, the template gives default_ids'),
      (error: unknown) => {
        tokenizerError = error instanceof Error ? error : new Error(String(error));
        return `cannot be used: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
    const json = single(parsed, 'json');
    if (json !== '-') {
      console.log(formatModelInfo(model, onnx, tokenizerStatus).join('\n'));
      console.log('');
      console.log(
        formatProviders(providers, process.platform, eng.onnxruntimeVersion(model.path)).join('\n'),
      );
    }
    if (json !== undefined) {
      await writeOutput(
        json,
        `${JSON.stringify({ model: modelInfoOf(model), providers }, null, 2)}\n`,
      );
    }
    // Printed above all the same: the list says why; the exit code says it cannot be used.
    const unrunnable = unrunnableModelError(model.path, providers);
    if (unrunnable !== undefined) throw unrunnable;
    if (tokenizerError !== undefined) throw tokenizerError;
  } finally {
    await eng.dispose();
  }
}

async function show(argv: string[]): Promise<void> {
  const parsed = parseCommandLine(argv, {
    help: { type: 'boolean' },
    html: { type: 'string' },
    'all-heads': { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    console.log(USAGE);
    return;
  }
  const [file] = parsed.positionals;
  if (file === undefined || parsed.positionals.length > 1)
    throw new UsageError('show takes one result file');
  const result = readResultBytes(await readResultFile(file, MAX_RESULT_FILE_BYTES), file);
  process.stdout.write(formatAnalysis(result, { allHeads: flag(parsed, 'all-heads') }));
  const html = htmlPath(single(parsed, 'html'));
  if (html !== undefined) {
    await writeOutput(html, await htmlReportFor(result));
    console.log(`\nwrote ${html}`);
  }
}

async function main(argv: string[], signal: AbortSignal): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return analyze(rest, signal);
    case 'info':
      return info(rest, signal);
    case 'show':
      return show(rest);
    case 'compare':
      return compareCommand(rest, signal, {
        engine,
        defaultModels: [
          join(packageRoot, 'models', 'checkpoints', 'emotion-llama-tiny.onnx'),
          DEFAULT_MODEL,
        ],
        writeOutput,
        usage: USAGE,
      });
    case 'counterfactual':
      return counterfactualCommand(rest, signal, {
        engine,
        defaultModel: DEFAULT_MODEL,
        writeOutput,
        usage: USAGE,
      });
    case 'imbalance':
      return imbalanceCommand(rest, signal, {
        engine,
        defaultModel: DEFAULT_MODEL,
        writeOutput,
        usage: USAGE,
      });
    case 'knockout':
      return knockoutCommand(rest, signal, {
        engine,
        defaultModel: DEFAULT_MODEL,
        writeOutput,
        usage: USAGE,
      });
    case 'eval':
      return evalCommand(rest, signal, {
        workerScript: WORKER_SCRIPT,
        defaultModels: ['emotion-llama-tiny', 'mosear-tiny'].map((n) =>
          join(packageRoot, 'models', 'checkpoints', `${n}.onnx`),
        ),
        decodeCacheDir: join(packageRoot, '.tmp', 'decode-cache'),
      });
    case 'merge':
      return mergeCommand(rest);
    case 'choose':
      return chooseCommand(rest);
    case 'conflicts':
      return conflictsCommand(rest, signal, { defaultModel: DEFAULT_MODEL, usage: USAGE });
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    case '--version':
      console.log(packageJson.version);
      return;
    default:
      throw new UsageError(
        `unknown command "${command}" (commands: analyze, info, show, compare, counterfactual, knockout, imbalance, eval, merge, choose, conflicts; try --help)`,
      );
  }
}

const controller = new AbortController();
/** The signal that interrupted the run, if one did: the exit code is 128 + its number. */
let interruptedBy: 'SIGINT' | 'SIGTERM' | 'SIGHUP' | undefined;
// SIGINT (Ctrl+C), SIGTERM (kill, a supervisor) and SIGHUP (the terminal closed) all cancel the
// run cleanly (workers and decoders stopped, records kept); the same signal again exits at once.
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(name, () => {
    interruptedBy ??= name;
    controller.abort();
    process.once(name, () => process.exit(signalExitCode(name)));
  });
}
main(process.argv.slice(2), controller.signal).then(
  () => {
    process.exitCode = EXIT.ok;
  },
  (error: unknown) => {
    const mapped = exitCodeFor(error);
    const { userError } = mapped;
    const code =
      interruptedBy !== undefined && mapped.code === EXIT.interrupted
        ? signalExitCode(interruptedBy)
        : mapped.code;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`mosear-lens: ${terminalLines(message)}`);
    if (code === EXIT.usage) console.error('(mosear-lens --help lists the commands and options)');
    if (!userError) {
      console.error(error instanceof Error && error.stack ? error.stack : '');
      console.error('This is a bug in MoSEAR Lens; please report it with the lines above.');
    }
    process.exitCode = code;
  },
);

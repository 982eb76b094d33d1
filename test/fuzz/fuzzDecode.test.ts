// The fuzz tier (issue 13, "Keep it fixed"): every generated clip (generateClips.ts: seven
// mutation classes, ≥ 30 clips each) goes through AnalysisEngine.analyze — the CLI's decode and
// analysis path, a real onnxruntime session on the shipped mosear-tiny checkpoint for the clips
// that decode — with the system decoder (every clip) and the ffmpeg.wasm decoder (every
// WASM_EVERY-th clip of each class, for time). Each outcome must be a valid AnalysisResult or a
// documented error code whose message names the file, carries no stack trace, and comes within
// the per-clip limit; a planted playlist never yields a result; no decoder or inference process
// is left behind. The tally (class × outcome) is printed per decoder.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClipDecoder } from '../../src/core/decode/clipDecoder';
import { DecodeError, type DecodeErrorCode } from '../../src/core/decode/decodeError';
import {
  SystemFfmpegDecoder,
  type DecodeProcessEvent,
} from '../../src/core/decode/systemFfmpegDecoder';
import { WasmFfmpegDecoder } from '../../src/core/decode/wasmFfmpegDecoder';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { EngineError, type EngineErrorCode } from '../../src/core/engine/engineError';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { MODEL, SAMPLES_DIR, WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { WASM_WORKER } from '../fixtures/decodeClips';
import { REPO_ROOT } from '../helpers/golden';
import {
  MUTATION_CLASSES,
  generateFuzzClips,
  type FuzzClip,
  type MutationClass,
} from './generateClips';

/** Generated here, never committed; removed afterwards. */
const CLIP_DIR = join(REPO_ROOT, '.tmp', 'fuzz-clips');
/** The wasm decoder gets every WASM_EVERY-th clip of each class. */
const WASM_EVERY = 4;
/** Analyses at once per decoder (the tier's machines have 2 cores). */
const CONCURRENCY = 2;
/** A clip's whole analysis must settle within this, or it counts as a hang. */
const PER_CLIP_MS = 45_000;

/**
 * The documented outcomes an analysis of a damaged clip may end in (decodeError.ts and
 * engineError.ts list them). The rest (FFMPEG_NOT_FOUND, BAD_SPEC, CANCELLED, …) are bugs here.
 */
const EXPECTED_DECODE: Record<DecodeErrorCode, boolean> = {
  FILE_NOT_FOUND: false,
  FFMPEG_NOT_FOUND: false,
  NO_VIDEO: true,
  UNREADABLE: true,
  PLAYLIST: true,
  NO_FRAME: true,
  TIMEOUT: true,
  OUTPUT_LIMIT: true,
  CANCELLED: false,
  BAD_SPEC: false,
  TOO_LARGE: true,
  DECODER_MISSING: false,
};
const EXPECTED_ENGINE: Record<EngineErrorCode, boolean> = {
  MODEL_NOT_FOUND: false,
  NO_AUDIO: true,
  BAD_SETTINGS: false,
};

type Tally = Map<MutationClass, Map<string, number>>;
/** Each clip's outcome (code and message) per decoder, to compare the two. */
const outcomes = new Map<string, Partial<Record<'system' | 'wasm', Outcome>>>();
/** The wasm messages of the two documented differences (README, "Decoding clips"). */
const KNOWN_DIFFERENCE = /second MP4 header|16 pixels wide or narrower/;

interface Outcome {
  label: string;
  message?: string;
  problem?: string;
}

/** Analyses `clips` with one engine, `CONCURRENCY` at a time; returns the problems found. */
async function fuzz(
  engine: AnalysisEngine,
  backend: 'system' | 'wasm',
  clips: FuzzClip[],
  tally: Tally,
): Promise<string[]> {
  const problems: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < clips.length) {
      const clip = clips[next++]!;
      const outcome = await analyseOne(engine, clip);
      outcomes.set(clip.path, { ...outcomes.get(clip.path), [backend]: outcome });
      const row = tally.get(clip.mutationClass) ?? new Map<string, number>();
      row.set(outcome.label, (row.get(outcome.label) ?? 0) + 1);
      tally.set(clip.mutationClass, row);
      if (outcome.problem !== undefined) {
        problems.push(`${basename(clip.path)} (${clip.recipe}): ${outcome.problem}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return problems;
}

/** One analysis: its outcome label and, when it broke a rule, why. */
async function analyseOne(engine: AnalysisEngine, clip: FuzzClip): Promise<Outcome> {
  const name = basename(clip.path);
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((settle) => {
    timer = setTimeout(() => settle('hang'), PER_CLIP_MS);
  });
  const run = engine
    .analyze({ clipPath: clip.path, modelPath: MODEL, executionProvider: 'cpu' })
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  const settled = await Promise.race([run, hang]);
  clearTimeout(timer);
  if (settled === 'hang') return { label: 'HANG', problem: `no outcome within ${PER_CLIP_MS} ms` };
  if ('result' in settled) {
    if (clip.mutationClass === 'playlist') {
      return { label: 'result', problem: 'a planted playlist was analysed as a clip' };
    }
    try {
      // The result is boundary data: it must read back through the protocol's reader.
      readAnalysisResult(JSON.parse(jsonWithTokenRows(settled.result)));
    } catch (error) {
      return { label: 'result', problem: `an invalid result: ${(error as Error).message}` };
    }
    return { label: 'result' };
  }
  const error = settled.error;
  const known =
    (error instanceof DecodeError && EXPECTED_DECODE[error.code]) ||
    (error instanceof EngineError && EXPECTED_ENGINE[error.code]);
  const label = error instanceof DecodeError || error instanceof EngineError ? error.code : 'CRASH';
  if (!known) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { label, problem: `an unexpected error: ${text}` };
  }
  const message = (error as Error).message;
  if (!message.includes(name))
    return { label, problem: `the message does not name the file: ${message}` };
  if (/\n\s+at |\bat .+\.js:\d+/.test(message)) {
    return { label, problem: `a stack trace in the message: ${message}` };
  }
  if (clip.mutationClass === 'playlist' && label !== 'PLAYLIST' && label !== 'UNREADABLE') {
    return { label, problem: `a playlist failed as ${label}, not PLAYLIST: ${message}` };
  }
  return { label, message };
}

/** The tally as a table: one row per class, one column per outcome. */
function formatTally(title: string, tally: Tally): string {
  const outcomes = [...new Set([...tally.values()].flatMap((row) => [...row.keys()]))].sort();
  const lines = [`${title}: class × outcome`];
  lines.push(
    ['class'.padEnd(14), ...outcomes.map((o) => o.padStart(12)), 'total'.padStart(7)].join(''),
  );
  for (const mutationClass of MUTATION_CLASSES) {
    const row = tally.get(mutationClass);
    if (row === undefined) continue;
    const total = [...row.values()].reduce((a, b) => a + b, 0);
    lines.push(
      [
        mutationClass.padEnd(14),
        ...outcomes.map((o) => String(row.get(o) ?? 0).padStart(12)),
        String(total).padStart(7),
      ].join(''),
    );
  }
  return lines.join('\n');
}

/** Every process that started has ended and is gone. */
function assertAllGone(pids: number[], what: string): void {
  for (const pid of pids) {
    assert.throws(() => process.kill(pid, 0), /ESRCH/, `${what} ${pid} is still alive`);
  }
}

describe('fuzz: damaged clips through the engine with both decoders', () => {
  let clips: FuzzClip[] = [];
  const decoderProcesses: DecodeProcessEvent[] = [];
  const workerPids: number[] = [];
  const onProcess = (event: DecodeProcessEvent): void => void decoderProcesses.push(event);

  /** An engine like the CLI's, with a tracked decoder and tracked inference workers. */
  const engineWith = (decoder: ClipDecoder): AnalysisEngine =>
    new AnalysisEngine({
      workerScript: WORKER_SCRIPT,
      decoder,
      cores: 1,
      // Each clip once: a cached decode would hide the second decoder's outcome.
      clipCacheEntries: 1,
      onWorkerEvent: (event) => {
        if (event.kind === 'start') workerPids.push(event.pid);
      },
    });

  before(() => {
    requireEngineFiles();
    const started = performance.now();
    clips = generateFuzzClips(CLIP_DIR, SAMPLES_DIR);
    console.log(
      `generated ${clips.length} clips in ${(performance.now() - started).toFixed(0)} ms`,
    );
  });
  after(() => rmSync(CLIP_DIR, { recursive: true, force: true }));

  test('every class has at least 30 clips', () => {
    for (const mutationClass of MUTATION_CLASSES) {
      const n = clips.filter((c) => c.mutationClass === mutationClass).length;
      assert.ok(n >= 30, `${mutationClass}: ${n} clips`);
    }
  });

  for (const backend of ['system', 'wasm'] as const) {
    test(`${backend} decoder: every outcome is a result or a documented error naming the file`, async () => {
      const decoder =
        backend === 'system'
          ? new SystemFfmpegDecoder({ processTimeoutMs: 20_000, onProcess })
          : new WasmFfmpegDecoder({ workerScript: WASM_WORKER, timeoutMs: 30_000, onProcess });
      const chosen =
        backend === 'system'
          ? clips
          : MUTATION_CLASSES.flatMap((c) =>
              clips
                .filter((clip) => clip.mutationClass === c)
                .filter((_, i) => i % WASM_EVERY === 0),
            );
      const engine = engineWith(decoder);
      const tally: Tally = new Map();
      const started = performance.now();
      let problems: string[];
      try {
        problems = await fuzz(engine, backend, chosen, tally);
      } finally {
        await engine.dispose();
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `${formatTally(`${backend} decoder, ${chosen.length} clips in ${seconds} s`, tally)}\n`,
      );
      assert.deepEqual(problems, []);
      const results = [...tally.values()].reduce((n, row) => n + (row.get('result') ?? 0), 0);
      assert.ok(results > 0, 'some damaged clips still decode and are analysed');
    });
  }

  test('the decoders end the same way but for the documented differences', () => {
    const differ: string[] = [];
    const unexplained: string[] = [];
    for (const clip of clips) {
      const { system, wasm } = outcomes.get(clip.path) ?? {};
      if (system === undefined || wasm === undefined || system.label === wasm.label) continue;
      const line = `${basename(clip.path)} (${clip.recipe}): system ${system.label}, wasm ${wasm.label}`;
      differ.push(line);
      if (!KNOWN_DIFFERENCE.test(wasm.message ?? '')) unexplained.push(`${line}: ${wasm.message}`);
    }
    const compared = clips.filter((clip) => outcomes.get(clip.path)?.wasm !== undefined).length;
    console.log(`decoders differ on ${differ.length} of ${compared} clips\n${differ.join('\n')}`);
    assert.ok(compared > 0);
    assert.deepEqual(unexplained, []);
  });

  test('no decoder process or inference worker is left behind', () => {
    const started = decoderProcesses.filter((e) => e.phase === 'start');
    assert.equal(decoderProcesses.filter((e) => e.phase === 'end').length, started.length);
    assertAllGone(
      started.map((e) => e.pid),
      'decoder process',
    );
    assert.ok(workerPids.length > 0);
    assertAllGone(workerPids, 'inference worker');
  });
});

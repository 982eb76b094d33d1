// `npm run bench:full-width`: how long one full-width LLaMA-2-7B decoder layer takes through
// onnxruntime-node on this machine's CPU, and what that predicts for a whole Emotion-LLaMA /
// MoSEAR analysis. bench/full_width_layer.py writes the layer (random weights, ~0.8 GB) under
// .tmp/bench/; this times `session.run` in process with the worker's thread count and
// extrapolates to 32 layers plus the encoders by FLOP count (the formulas are printed). Not a
// test, and no substitute for timing the real export: attention at other lengths, the encoders'
// own efficiency and memory traffic of 13 GB of float32 weights all move the real figure.
// Usage: node dist/bench/fullWidthLayer.js [--runs N] [--positions N] [--json FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { intraOpThreadsFor } from '../src/core/inference/workerPool';

const root = resolve(__dirname, '..', '..');

/** LLaMA-2-7B (config.json of Llama-2-7b-chat-hf). */
const LLAMA = { layers: 32, hidden: 4096, heads: 32, intermediate: 11008 };
/** EVA-CLIP ViT-g/14 as MiniGPT-v2 uses it: 39 blocks kept, width 1408, MLP 6144, 448 px. */
const EVA = { layers: 39, hidden: 1408, mlp: 6144, tokens: (448 / 14) ** 2 + 1 };
/** chinese-hubert-large: 24 layers, width 1024, FFN 4096, 50 frames per second of audio. */
const HUBERT = { layers: 24, hidden: 1024, ffn: 4096, framesPerSecond: 50 };

/** Multiply-adds ×2 of a transformer stack: dense weights per token, plus QKᵀ and PV. */
function transformerFlops(layers: number, weightsPerLayer: number, width: number, n: number) {
  return layers * (2 * weightsPerLayer * n + 4 * n * n * width);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      positions: { type: 'string', default: '330' },
      'audio-seconds': { type: 'string', default: '10' },
      json: { type: 'string' },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  const n = Math.max(2, Number(values.positions));
  const audioSeconds = Number(values['audio-seconds']);
  const dir = join(root, '.tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `llama2-layer-n${n}.onnx`);
  if (!existsSync(file)) {
    console.log(`writing ${file} (one LLaMA-2-7B layer, random weights) ...`);
    execFileSync(
      '/usr/bin/python3',
      [join(root, 'bench', 'full_width_layer.py'), file, '--positions', String(n)],
      { stdio: 'inherit' },
    );
  }
  const threads = intraOpThreadsFor(availableParallelism(), 1);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
  });
  const openMs = performance.now() - t0;
  const hidden = new Float32Array(n * LLAMA.hidden);
  for (let i = 0; i < hidden.length; i++) hidden[i] = Math.sin(i * 12.9898) * 0.5;
  const feeds = { hidden: new ort.Tensor('float32', hidden, [1, n, LLAMA.hidden]) };
  await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  const layerMs = median(times);
  const llamaWeights = 4 * LLAMA.hidden ** 2 + 3 * LLAMA.hidden * LLAMA.intermediate;
  const layerFlops = transformerFlops(1, llamaWeights, LLAMA.hidden, n);
  const gflops = layerFlops / (layerMs * 1e6);
  const evaFlops = transformerFlops(
    EVA.layers,
    4 * EVA.hidden ** 2 + 2 * EVA.hidden * EVA.mlp,
    EVA.hidden,
    EVA.tokens,
  );
  const hubertFrames = Math.round(HUBERT.framesPerSecond * audioSeconds);
  const hubertFlops = transformerFlops(
    HUBERT.layers,
    4 * HUBERT.hidden ** 2 + 2 * HUBERT.hidden * HUBERT.ffn,
    HUBERT.hidden,
    hubertFrames,
  );
  const llamaMs = layerMs * LLAMA.layers;
  const encodersMs = (evaFlops + hubertFlops) / (gflops * 1e6);
  // An analysis runs the model twice (off and the intervention); a re-run with new AR settings
  // once (the engine reuses the off run). The encoders run inside every session.run.
  const forwardMs = llamaMs + encodersMs;
  const figures = {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverage1m: loadavg()[0],
      onnxruntime: ort.env.versions.common,
    },
    positions: n,
    intraOpNumThreads: threads,
    layerFileBytes: statSync(file).size,
    sessionOpenMs: Math.round(openMs),
    layerRunMs: times.map((t) => Math.round(t)),
    layerMedianMs: Math.round(layerMs),
    layerGflop: layerFlops / 1e9,
    measuredGflopPerSecond: gflops,
    extrapolated: {
      llamaMs: Math.round(llamaMs),
      evaGflop: evaFlops / 1e9,
      hubertGflop: hubertFlops / 1e9,
      audioSeconds,
      encodersMs: Math.round(encodersMs),
      forwardMs: Math.round(forwardMs),
      analysisMs: Math.round(2 * forwardMs),
      rerunMs: Math.round(forwardMs),
    },
  };
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    [
      `one LLaMA-2-7B layer, N ${n}, ${threads} threads: median ${layerMs.toFixed(0)} ms ` +
        `over ${runs} runs (${times.map((t) => t.toFixed(0)).join(', ')}); session open ${s(openMs)}`,
      `  ${(layerFlops / 1e9).toFixed(0)} GFLOP per layer → ${gflops.toFixed(1)} GFLOP/s`,
      `extrapolated by FLOP count: LLaMA 32 layers ${s(llamaMs)}; EVA-CLIP ViT-g ` +
        `${(evaFlops / 1e9).toFixed(0)} GFLOP + HuBERT-large (${audioSeconds} s of audio) ` +
        `${(hubertFlops / 1e9).toFixed(0)} GFLOP → ${s(encodersMs)}`,
      `  one forward ≈ ${s(forwardMs)}; an analysis (off + intervention) ≈ ${s(2 * forwardMs)}; ` +
        `a re-run with new settings ≈ ${s(forwardMs)}`,
    ].join('\n'),
  );
  if (values.json !== undefined)
    writeFileSync(values.json, `${JSON.stringify(figures, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

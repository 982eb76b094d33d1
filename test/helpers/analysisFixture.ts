// A complete AnalysisResult built from hand-made tensors on the contract fixture's metadata
// (4 layers × 4 heads, 73 tokens, 6 labels): no ffmpeg, no onnxruntime.
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ArControls, ContractMetadata } from '../../src/protocol/contract';
import { defaultControls } from '../../src/shared/controls';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import type { DecodedClip } from '../../src/core/decode/clipDecoder';
import type { ContractOutputs } from '../../src/core/inference/contractModel';
import { flagRuleForRun } from '../../src/core/analysis/runAnalysis';
import { assembleAnalysisResult } from '../../src/core/engine/resultAssembly';
import { toProps, validMetadataValues } from './contractFixture';

/** The fixture's parsed metadata. */
export function fixtureMetadata(): ContractMetadata {
  return parseContractMetadata(toProps(validMetadataValues()));
}

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Outputs shaped like a contract model's: softmax rows, masses summed from them. */
export function fixtureOutputs(meta: ContractMetadata, seed: number): ContractOutputs {
  const { layers: L, heads: Hh } = meta.architecture;
  const N = meta.tokenLayout.total;
  const random = lcg(seed);
  const rows = new Float32Array(L * Hh * N);
  const mass = new Float32Array(L * Hh * 3);
  for (let lh = 0; lh < L * Hh; lh++) {
    let total = 0;
    for (let k = 0; k < N; k++) total += rows[lh * N + k] = random() ** 3;
    for (let k = 0; k < N; k++) {
      const p = (rows[lh * N + k] = (rows[lh * N + k] as number) / total);
      const m = k < 64 ? 0 : k === 64 ? 1 : 2;
      mass[lh * 3 + m] = (mass[lh * 3 + m] as number) + p;
    }
  }
  const arFlags = new Float32Array(L * Hh);
  const t = (data: Float32Array, dims: number[]) => ({ data, dims });
  return {
    logits: t(
      Float32Array.from(meta.labels, () => random() * 4 - 2),
      [1, meta.labels.length],
    ),
    modality_mass: t(mass, [L, Hh, 3]),
    modality_mass_after: t(mass.slice(), [L, Hh, 3]),
    ar_flags: t(arFlags, [L, Hh]),
    token_attention_before: t(rows, [L, Hh, N]),
    token_attention: t(rows.slice(), [L, Hh, N]),
    mose_gate: t(
      Float32Array.from({ length: L }, () => random()),
      [L],
    ),
  };
}

/** A decoded 2 s clip of the fixture's size (grey frames, a quiet tone). */
export function fixtureClip(meta: ContractMetadata, hasAudio = true): DecodedClip {
  const { count: T, height: H, width: W } = meta.frames;
  const frames = new Float32Array(T * 3 * H * W).fill(0.5);
  return {
    specName: 'mosear-decode-1',
    spec: {
      frames: T,
      height: H,
      width: W,
      sampleRateHz: meta.audio.sampleRateHz,
      samples: meta.audio.samples,
    },
    backend: 'system',
    source: {
      path: '/clips/fixture clip.mp4',
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
      durationSeconds: 2,
      durationSource: 'video-stream',
      video: {
        index: 0,
        codec: 'h264',
        width: 128,
        height: 128,
        sampleAspectRatio: '1:1',
        rotationDegrees: 0,
        displayWidth: 128,
        displayHeight: 128,
        averageFrameRateHz: 10,
      },
      videoStreams: 1,
      audio: hasAudio ? { index: 1, codec: 'aac', sampleRateHz: 16000, channels: 1 } : null,
    },
    frames,
    audio: hasAudio ? new Float32Array(meta.audio.samples) : null,
    frameTimesSeconds: [0.25, 0.75, 1.25, 1.75],
    frameFromTail: [false, false, false, false],
    audioStartSeconds: 0,
    timings: { probeMs: 1, framesMs: 1, audioMs: 1, totalMs: 3, processes: 6 },
  };
}

/** A full result on the fixture: the rule's own flags in the graph's place (they agree). */
export function fixtureResult(controls?: ArControls): AnalysisResult {
  const meta = fixtureMetadata();
  const c = controls ?? defaultControls(meta);
  const baseline = fixtureOutputs(meta, 1);
  const intervention = fixtureOutputs(meta, 2);
  intervention.ar_flags.data.set(flagRuleForRun(meta, intervention.modality_mass.data, c).arFlags);
  return assembleAnalysisResult({
    tool: { name: 'mosear-lens', version: 'test', onnxruntime: 'none' },
    model: {
      path: '/models/fixture.onnx',
      fileName: 'fixture.onnx',
      sizeBytes: 1,
      modifiedMs: 0,
      metadata: meta,
    },
    clip: fixtureClip(meta),
    file: { sizeBytes: 1234, modifiedMs: 5 },
    silenceUsed: false,
    settings: {
      controls: c,
      promptIds: [...meta.prompt.defaultIds],
      executionProvider: 'auto',
      allowFallback: false,
    },
    runtime: {
      provider: 'cpu',
      attempts: [{ provider: 'cpu', ok: true, ms: 1 }],
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    },
    intervention,
    baseline,
    thumbnails: [],
    timings: {
      decodeMs: 1,
      decodeCached: false,
      sessionOpenMs: 0,
      inferenceMs: 1,
      sessionRunMs: [1, 1],
      sessionRuns: 2,
    },
    startedAt: performance.now(),
  });
}

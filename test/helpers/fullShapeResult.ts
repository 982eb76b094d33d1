// A real AnalysisResult at a real model's shape for the panel and CLI tests: the committed
// contract-1.1 full-shape fixture (models/fixtures/emotion-llama-fullshape.onnx: Emotion-LLaMA's
// 32 layers × 32 heads, the 32 × 8 strip grid of the first frame, 3 global visual tokens, one
// audio token, a prompt with a transcript, N = 329; random weights) run by the real engine on a
// shipped sample clip, decoded as its metadata says (first frame squashed to 448 × 448 bicubic).
import { join } from 'node:path';
import type { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { compareClip } from '../../src/core/engine/compareClip';
import { readComparisonResult, type ComparisonResult } from '../../src/protocol/comparisonResult';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import type { ArControls } from '../../src/protocol/contract';
import { SAMPLES_DIR } from './engineFixtures';
import { REPO_ROOT } from './golden';

/** The fixture's shape. */
export const FULL_SHAPE = { layers: 32, heads: 32, tokens: 329 } as const;

/** The shipped clip the fixture result is computed on. */
export const FULL_SHAPE_CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');

/** The committed full-shape fixture. */
export function fullShapeModel(): Promise<string> {
  return Promise.resolve(join(REPO_ROOT, 'models', 'fixtures', 'emotion-llama-fullshape.onnx'));
}

/**
 * AR on every layer, the share statistic at τ, margin −0.5 (heads above half their layer's
 * mean): 115 of 1024 heads flag on the clip at τ 0.001, spread over most layers.
 */
export function fullShapeControls(tau = 0.001): Partial<ArControls> {
  const L = FULL_SHAPE.layers;
  return {
    mode: 1,
    ratioKind: 2,
    tau: Array.from({ length: L }, () => tau),
    layers: Array.from({ length: L }, () => 1),
    headMargin: -0.5,
    alpha: 0.3,
  };
}

/** The engine's result of the 32 × 32 model on the shipped clip, as read back from its JSON. */
export async function fullShapeResult(
  engine: AnalysisEngine,
  controls: Partial<ArControls> = fullShapeControls(),
): Promise<AnalysisResult> {
  const result = await engine.analyze({
    clipPath: FULL_SHAPE_CLIP,
    modelPath: await fullShapeModel(),
    controls,
    executionProvider: 'cpu',
  });
  return readAnalysisResult(JSON.parse(jsonWithTokenRows(result)));
}

/**
 * The 32 × 32 model on the shipped clip under two settings (A: τ 0.001 on every layer, B: τ
 * 0.006, between the layers' statistics), so the two grids flag different heads; as JSON read back.
 */
export async function fullShapeComparison(engine: AnalysisEngine): Promise<ComparisonResult> {
  const modelPath = await fullShapeModel();
  const real = await compareClip(engine, {
    clipPath: FULL_SHAPE_CLIP,
    subjects: {
      a: { modelPath, controls: fullShapeControls(0.001) },
      b: { modelPath, controls: fullShapeControls(0.006) },
    },
    executionProvider: 'cpu',
  });
  return readComparisonResult(JSON.parse(jsonWithTokenRows(real)));
}

// A real AnalysisResult at a real model's head count (32 layers × 32 heads) for the panel and CLI
// tests: a contract-v1 model with random weights, exported by the project's own Python
// (models/mosear/model.py + export.py, small d_model so it builds in seconds), cached under
// .tmp/full-shape/ by the content of the script and both modules, and run by the real engine on
// a shipped sample clip. The one place to point at the contract-1.1 fixture once it lands.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { compareClip } from '../../src/core/engine/compareClip';
import { readComparisonResult, type ComparisonResult } from '../../src/protocol/comparisonResult';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ArControls } from '../../src/protocol/contract';
import { SAMPLES_DIR } from './engineFixtures';
import { REPO_ROOT } from './golden';

/** The fixture's shape. */
export const FULL_SHAPE = { layers: 32, heads: 32, dModel: 64 } as const;

const MODELS_DIR = join(REPO_ROOT, 'models');
const CACHE_DIR = join(REPO_ROOT, '.tmp', 'full-shape');

/** Builds the model with the reference code; argv[1] is the output path. */
const EXPORT_SCRIPT = `
import sys
import torch
from mosear.export import export
from mosear.model import ModelConfig, MoSEARModel

torch.manual_seed(15)
torch.set_num_threads(1)
L, H, D = ${FULL_SHAPE.layers}, ${FULL_SHAPE.heads}, ${FULL_SHAPE.dModel}
model = MoSEARModel(ModelConfig(layers=L, heads=H, d_model=D, ffn_hidden=2 * D))
model.eval()
meta = {
    "name": "random-32x32",
    "description": "Random weights at 32 layers x 32 heads (a test fixture, not a model).",
    "training_data": "none: random weights",
    "ar_defaults": {"mode": 1, "ratio_kind": 2, "tau": [0.0] * L, "head_margin": 0.0,
                    "alpha": 0.3, "pai_alpha": 0.5, "layers": [1.0] * L},
}
with torch.no_grad():
    export(model, meta, sys.argv[1])
`;

/** The shipped clip the fixture result is computed on. */
export const FULL_SHAPE_CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');

/** The cached 32 × 32 model's path, exported first when missing (python3 with torch and onnx). */
export async function fullShapeModel(): Promise<string> {
  const key = createHash('sha256')
    .update(EXPORT_SCRIPT)
    .update(readFileSync(join(MODELS_DIR, 'mosear', 'model.py')))
    .update(readFileSync(join(MODELS_DIR, 'mosear', 'export.py')))
    .digest('hex')
    .slice(0, 16);
  const path = join(CACHE_DIR, `random-32x32-${key}.onnx`);
  if (existsSync(path)) return path;
  mkdirSync(CACHE_DIR, { recursive: true });
  // A private name, then a rename: two tiers building at once never read half a file.
  const partial = join(CACHE_DIR, `partial-${process.pid}-${key}.onnx`);
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        '/usr/bin/python3',
        ['-c', EXPORT_SCRIPT, partial],
        {
          cwd: MODELS_DIR,
          env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
          timeout: 900_000,
          maxBuffer: 4 * 1024 * 1024,
        },
        (error, _stdout, stderr) =>
          error === null
            ? resolve()
            : reject(
                new Error(`exporting the 32 × 32 test model failed: ${error.message}\n${stderr}`),
              ),
      );
    });
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
  return path;
}

/** AR on every layer, the share statistic at τ, margin 0: about half of the heads flag. */
export function fullShapeControls(tau = 0.005): Partial<ArControls> {
  const L = FULL_SHAPE.layers;
  return {
    mode: 1,
    ratioKind: 2,
    tau: Array.from({ length: L }, () => tau),
    layers: Array.from({ length: L }, () => 1),
    headMargin: 0,
    alpha: 0.3,
  };
}

/** The engine's result of the 32 × 32 model on the shipped clip, as a panel receives it (JSON). */
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
  return JSON.parse(JSON.stringify(result)) as AnalysisResult;
}

/**
 * The 32 × 32 model on the shipped clip under two settings (A: τ 0.005 on every layer, B: τ
 * 0.0155, between the layers' statistics), so the two grids flag different heads; as JSON read back.
 */
export async function fullShapeComparison(engine: AnalysisEngine): Promise<ComparisonResult> {
  const modelPath = await fullShapeModel();
  const real = await compareClip(engine, {
    clipPath: FULL_SHAPE_CLIP,
    subjects: {
      a: { modelPath, controls: fullShapeControls(0.005) },
      b: { modelPath, controls: fullShapeControls(0.0155) },
    },
    executionProvider: 'cpu',
  });
  return readComparisonResult(JSON.parse(JSON.stringify(real)));
}

// The inputs of the real-checkpoint exporter's miniature goldens
// (models/fixtures/realexport/emotion-llama-mini.golden.json, models/realexport/golden.py),
// rebuilt from their xorshift32 recipe.

export interface MiniInput {
  generator: { kind: 'xorshift32'; seed: number };
  frames_shape: number[];
  audio_shape: number[];
  prompt_ids: number[];
}

/** xorshift32 (13, 17, 5): frames (x >>> 24) / 255, then audio ((x >>> 8) / 2^24 − 0.5) · 0.5. */
export function miniRecipe(input: MiniInput): { frames: Float32Array; audio: Float32Array } {
  let x = input.generator.seed >>> 0;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const frames = new Float32Array(input.frames_shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < frames.length; i++) frames[i] = (next() >>> 24) / 255;
  const audio = new Float32Array(input.audio_shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < audio.length; i++) audio[i] = ((next() >>> 8) / 2 ** 24 - 0.5) * 0.5;
  return { frames, audio };
}

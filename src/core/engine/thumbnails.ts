// The decoded frames as small PNG data URIs, saved in the AnalysisResult so a result renders
// (frames with attention drawn over them) without the clip.
import type { FrameThumbnail } from '../../protocol/analysisResult';
import { encodePngRgb, pngDataUri } from '../images/png';

/** One PNG per frame of a float32 [T, 3, H, W] tensor in [0, 1]. */
export function frameThumbnails(
  frames: Float32Array,
  width: number,
  height: number,
  frameTimesSeconds: readonly number[],
): FrameThumbnail[] {
  const plane = width * height;
  const count = frames.length / (3 * plane);
  if (!Number.isInteger(count)) {
    throw new RangeError(
      `frames: ${frames.length} values is not a whole number of ${width}×${height} RGB frames`,
    );
  }
  return Array.from({ length: count }, (_, frame) => {
    const base = frame * 3 * plane;
    const rgb = new Uint8Array(3 * plane);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const v = frames[base + c * plane + p] as number;
        rgb[3 * p + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
    return {
      frame,
      timeSeconds: frameTimesSeconds[frame] ?? NaN,
      width,
      height,
      dataUri: pngDataUri(encodePngRgb(rgb, width, height)),
    };
  });
}

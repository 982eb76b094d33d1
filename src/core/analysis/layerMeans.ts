// Dataset-level averages of per-layer records (UAP, token attention) over many clips.

/**
 * The mean of each numeric field per layer over a list of per-clip records, each an array of one
 * record per layer. Every clip must have the same number of layers. An empty list gives `[]`.
 */
export function meanPerLayer<K extends string>(
  clips: readonly (readonly Readonly<Record<K, number>>[])[],
  keys: readonly K[],
): Record<K, number>[] {
  const first = clips[0];
  if (first === undefined) return [];
  const layers = first.length;
  const sums = Array.from({ length: layers }, () => {
    const zero = {} as Record<K, number>;
    for (const k of keys) zero[k] = 0;
    return zero;
  });
  clips.forEach((clip, i) => {
    if (clip.length !== layers) {
      throw new RangeError(`meanPerLayer: clip ${i} has ${clip.length} layers, expected ${layers}`);
    }
    clip.forEach((record, l) => {
      const sum = sums[l] as Record<K, number>;
      for (const k of keys) sum[k] += record[k];
    });
  });
  for (const sum of sums) for (const k of keys) sum[k] /= clips.length;
  return sums;
}

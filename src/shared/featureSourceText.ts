// How a run's FaceMAE / VideoMAE source reads in the panel header, the CLI summary and a
// benchmark record: "zeros (as the public demo)" or the file and who named it.
import type { FeatureSource, FeatureSources } from '../protocol/analysisResult';

/** The features in display order: the result's key and the name users know. */
export const FEATURE_LABELS: readonly { key: keyof FeatureSources; label: string }[] = [
  { key: 'faceMae', label: 'FaceMAE' },
  { key: 'videoMae', label: 'VideoMAE' },
];

/** One source as text: "zeros (as the public demo)" or "<path> (sidecar)". */
export function featureSourceText(source: FeatureSource): string {
  return source.kind === 'zeros' ? 'zeros (as the public demo)' : `${source.path} (${source.from})`;
}

/** Each recorded source as "FaceMAE: …" lines (none when the model has no feature inputs). */
export function featureSourceLines(sources: FeatureSources | undefined): string[] {
  if (sources === undefined) return [];
  return FEATURE_LABELS.flatMap(({ key, label }) => {
    const source = sources[key];
    return source === undefined ? [] : [`${label}: ${featureSourceText(source)}`];
  });
}

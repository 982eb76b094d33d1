// The header line of a decode cache entry (src/core/evaluation/decodeCache.ts): what identifies
// the entry, the tensors' sizes, and the decode's facts besides the tensors (the probe, the frame
// times, the audio window), so that a cached clip can stand in for a decode. Parsed on every read.
import * as v from 'valibot';
import { ClipProbeSchema } from './decodeWorkerMessages';
import { numberArray } from './issues';

/** What a decode tells besides its tensors and timings (DecodedClip without them). */
export const DecodedClipFactsSchema = v.object({
  specName: v.literal('mosear-decode-1'),
  backend: v.picklist(['system', 'wasm']),
  source: ClipProbeSchema,
  frameTimesSeconds: numberArray(1),
  frameFromTail: v.array(v.boolean()),
  audioStartSeconds: v.number(),
});
export type DecodedClipFacts = v.InferOutput<typeof DecodedClipFactsSchema>;

/** An entry's header: its key and identity, the tensors' lengths, the decode's facts. */
export const DecodeCacheHeaderSchema = v.object({
  key: v.string(),
  identity: v.record(v.string(), v.unknown()),
  frameValues: v.number(),
  audioSamples: v.nullable(v.number()),
  clip: DecodedClipFactsSchema,
});
export type DecodeCacheHeader = v.InferOutput<typeof DecodeCacheHeaderSchema>;

/** The header, or undefined when the value is not one (a damaged or older entry: a miss). */
export function parseDecodeCacheHeader(value: unknown): DecodeCacheHeader | undefined {
  const parsed = v.safeParse(DecodeCacheHeaderSchema, value);
  return parsed.success ? parsed.output : undefined;
}

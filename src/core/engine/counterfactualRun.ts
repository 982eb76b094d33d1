// Modality counterfactuals of one clip (`AnalysisEngine.counterfactuals`): the clip as it is
// (an ordinary analysis, so its `ar_mode` 0 run comes from the engine's baseline cache), then
// each variant of its inputs — audio silenced, audio from each partner, frames grey, frames from
// each partner, and for a contract-1.1 model with a transcript slot the transcript removed — run
// under off and the intervention in one request to the checkpoint's worker (logits only). Partners are decoded with the
// model's own decode spec, so a fixed-length model gets the partner's window as the spec cuts it
// and a variable-length one the partner's own length. The verdict comes from the swaps only.
import type { GivenTranscript } from './transcriptSource';
import { basename } from 'node:path';
import type { AnalysisResult } from '../../protocol/analysisResult';
import type { ArControls, ContractMetadata } from '../../protocol/contract';
import {
  COUNTERFACTUAL_RESULT_KIND,
  COUNTERFACTUAL_SCHEMA_VERSION,
  type CounterfactualResult,
  type CounterfactualVariant,
  type SwapPartner,
  type VariantKind,
} from '../../protocol/counterfactualResult';
import type { ExecutionProviderChoice } from '../../protocol/executionProviders';
import {
  GREY_MEANING,
  GREY_VALUE,
  VERDICT_RULE,
  greyFrames,
  silencedAudio,
  variantOutcome,
  verdictOf,
} from '../analysis/counterfactuals';
import type { DecodedClip } from '../decode/clipDecoder';
import { DecodeError } from '../decode/decodeError';
import type { StoredDecodes } from './clipCache';
import { choosePartners } from './counterfactualPartners';

/** The clip, the checkpoint, the intervention and the partners of a counterfactual run. */
export interface CounterfactualRequest {
  clipPath: string;
  modelPath: string;
  /** The intervention compared with off (fields left out: the checkpoint's defaults). */
  controls?: Partial<ArControls>;
  /** Contract 1.1 prompt slots of the original (the transcript variant empties `transcript`). */
  slots?: Record<string, string>;
  /** Contract 1.1: the transcript as given (CLI, panel); else a sidecar when asked. */
  transcript?: GivenTranscript;
  transcriptSidecar?: boolean;
  headGate?: number[][];
  executionProvider?: ExecutionProviderChoice;
  allowFallback?: boolean;
  storedDecodes?: StoredDecodes;
  /** Partners chosen already (an evaluation); otherwise from the fields below. */
  partners?: SwapPartner[];
  /** Clips whose audio to swap in (default: automatic). */
  audioFrom?: readonly string[];
  /** Clips whose frames to swap in (default: automatic). */
  framesFrom?: readonly string[];
  /** A labelled manifest to choose partners from (default: the clip's folder's, if any). */
  manifest?: string;
}

/** One variant's inputs, run under the request's intervention and off. */
export interface VariantInputs {
  frames: Float32Array;
  audio: Float32Array;
  slots?: Record<string, string>;
}

/** What the engine lends a counterfactual run. */
export interface CounterfactualHost {
  metadata(modelPath: string): Promise<ContractMetadata>;
  /** The ordinary analysis of the clip (no thumbnails). */
  analyze(request: CounterfactualRequest, signal?: AbortSignal): Promise<AnalysisResult>;
  /** A clip decoded with the model's decode spec (through the engine's clip cache). */
  decode(
    clipPath: string,
    modelPath: string,
    signal?: AbortSignal,
    stored?: StoredDecodes,
  ): Promise<DecodedClip>;
  /** The clip's inputs as the original run fed them (silence in place of missing audio). */
  inputsOf(clip: DecodedClip): { frames: Float32Array; audio: Float32Array };
  /** Logits of the intervention and the off run on each variant's inputs (one worker request). */
  variantLogits(
    request: CounterfactualRequest,
    inputs: readonly VariantInputs[],
    signal?: AbortSignal,
  ): Promise<{ intervention: ArrayLike<number>; off: ArrayLike<number> }[]>;
}

/** The slot a transcript fills (CONTRACT.md §3.1). */
const TRANSCRIPT_SLOT = 'transcript';

/** Runs the clip and its variants; see the file comment. */
export async function runCounterfactuals(
  host: CounterfactualHost,
  request: CounterfactualRequest,
  signal?: AbortSignal,
): Promise<CounterfactualResult> {
  const meta = await host.metadata(request.modelPath);
  const labels = meta.labels;
  const partners =
    request.partners ??
    (await choosePartners({
      clipPath: request.clipPath,
      ...(request.audioFrom === undefined ? {} : { audioFrom: request.audioFrom }),
      ...(request.framesFrom === undefined ? {} : { framesFrom: request.framesFrom }),
      ...(request.manifest === undefined ? {} : { manifest: request.manifest }),
      labels,
    }));
  const original = await host.analyze(request, signal);
  const clip = await host.decode(
    request.clipPath,
    request.modelPath,
    signal,
    request.storedDecodes,
  );
  const own = host.inputsOf(clip);
  const notes: string[] = [];
  if (clip.audio === null) {
    notes.push(`${basename(clip.source.path)} has no audio stream: its original run heard silence`);
  }
  // A result keeps each float32 logit as its shortest decimal (float32ForJson); Math.fround gives
  // back the exact float32 a variant's raw logits are compared with.
  const originalLogits = {
    off: original.baseline.logits.map(Math.fround),
    intervention: original.intervention.logits.map(Math.fround),
  };
  const variants: CounterfactualVariant[] = [
    {
      kind: 'original',
      off: variantOutcome(labels, originalLogits.off, originalLogits.off),
      intervention: variantOutcome(
        labels,
        originalLogits.intervention,
        originalLogits.intervention,
      ),
    },
  ];
  // The variants are planned in their order first, then run in one worker request.
  const planned: (
    | { kind: VariantKind; inputs: VariantInputs; partner?: string }
    | { kind: VariantKind; partner: string; problem: string }
  )[] = [];
  const run = (kind: VariantKind, inputs: VariantInputs, partner?: string): void => {
    planned.push({ kind, inputs, ...(partner === undefined ? {} : { partner }) });
  };
  const skip = (kind: VariantKind, partner: string, problem: string): void => {
    notes.push(problem);
    planned.push({ kind, partner, problem });
  };
  // The variants keep the original's prompt: its slots as resolved (a sidecar's transcript too).
  const slots = original.settings.slots ?? request.slots;
  const decodePartner = async (partner: SwapPartner): Promise<DecodedClip> => {
    try {
      return await host.decode(partner.path, request.modelPath, signal, request.storedDecodes);
    } catch (error) {
      if (error instanceof DecodeError && error.code !== 'CANCELLED') {
        throw new DecodeError(
          error.code,
          `swap partner ${partner.name} (${partner.how}): ${error.message}`,
          partner.path,
        );
      }
      throw error;
    }
  };

  run('audio-silenced', {
    frames: own.frames,
    audio: silencedAudio(own.audio),
    ...slotsOf(slots),
  });
  const swapping = (modality: 'audio' | 'frames') =>
    partners.filter((p) => p.replaces === modality || p.replaces === 'both');
  for (const partner of swapping('audio')) {
    const other = await decodePartner(partner);
    if (other.audio === null) {
      skip(
        'audio-swapped',
        partner.path,
        `${partner.name} has no audio stream: no audio to swap in (the silenced variant shows silence)`,
      );
      continue;
    }
    run(
      'audio-swapped',
      { frames: own.frames, audio: other.audio, ...slotsOf(slots) },
      partner.path,
    );
  }
  run('frames-grey', { frames: greyFrames(own.frames), audio: own.audio, ...slotsOf(slots) });
  for (const partner of swapping('frames')) {
    const other = await decodePartner(partner);
    if (other.frames.length !== own.frames.length) {
      skip(
        'frames-swapped',
        partner.path,
        `${partner.name} decodes to ${other.frames.length} frame values, the clip to ${own.frames.length}: no frames swap`,
      );
      continue;
    }
    run(
      'frames-swapped',
      { frames: other.frames, audio: own.audio, ...slotsOf(slots) },
      partner.path,
    );
  }
  if (meta.contract !== '1' && meta.prompt.slots?.[TRANSCRIPT_SLOT] !== undefined) {
    run('transcript-removed', {
      ...own,
      slots: { ...(slots ?? {}), [TRANSCRIPT_SLOT]: '' },
    });
  }
  const runnable = planned.flatMap((p) => ('inputs' in p ? [p.inputs] : []));
  const logits = await host.variantLogits(request, runnable, signal);
  if (logits.length !== runnable.length) {
    throw new Error(`the worker returned ${logits.length} variants for ${runnable.length} sent`);
  }
  let ran = 0;
  for (const p of planned) {
    if ('problem' in p) {
      variants.push({
        kind: p.kind,
        partner: p.partner,
        problem: p.problem,
        off: null,
        intervention: null,
      });
      continue;
    }
    const out = logits[ran++] as { intervention: ArrayLike<number>; off: ArrayLike<number> };
    variants.push({
      kind: p.kind,
      ...(p.partner === undefined ? {} : { partner: p.partner }),
      off: variantOutcome(labels, originalLogits.off, out.off),
      intervention: variantOutcome(labels, originalLogits.intervention, out.intervention),
    });
  }
  return {
    kind: COUNTERFACTUAL_RESULT_KIND,
    schemaVersion: COUNTERFACTUAL_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    clip: { path: original.clip.path, name: original.clip.name, hasAudio: original.clip.hasAudio },
    model: {
      path: original.model.path,
      fileName: original.model.fileName,
      checkpoint: meta.checkpoint.name,
    },
    labels: [...labels],
    controls: original.settings.controls,
    greyValue: GREY_VALUE,
    greyMeaning: GREY_MEANING,
    rule: VERDICT_RULE,
    partners,
    variants,
    verdict: { off: verdictOf(variants, 'off'), intervention: verdictOf(variants, 'intervention') },
    audioShareOff: original.baseline.uapBefore.map((u) => u.audioOfAV),
    notes,
  };
}

function slotsOf(slots: Record<string, string> | undefined): { slots?: Record<string, string> } {
  return slots === undefined ? {} : { slots };
}

// Execution providers as the settings, the CLI and saved results name them (onnxruntime-node's
// own names). Which ones exist on a platform, and the order `auto` tries, live in the engine.
import * as v from 'valibot';

/** Every execution provider the engine can ask onnxruntime-node for. */
export const EXECUTION_PROVIDERS = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;

/** An execution provider's name. */
export const ExecutionProviderNameSchema = v.picklist(EXECUTION_PROVIDERS);
export type ExecutionProviderName = v.InferOutput<typeof ExecutionProviderNameSchema>;

/** What the user asks for: one provider, or `auto` (the platform's chain, ending with cpu). */
export const ExecutionProviderChoiceSchema = v.picklist(['auto', ...EXECUTION_PROVIDERS]);
export type ExecutionProviderChoice = v.InferOutput<typeof ExecutionProviderChoiceSchema>;

/** One try at opening a session on a provider, in the order they were tried. */
export const ProviderAttemptSchema = v.object({
  provider: ExecutionProviderNameSchema,
  ok: v.boolean(),
  /** Why it failed (onnxruntime's words, plus a hint where one helps); absent when ok. */
  reason: v.exactOptional(v.string()),
  /** How long the try took (session creation included). */
  ms: v.number(),
});
export type ProviderAttempt = v.InferOutput<typeof ProviderAttemptSchema>;

/** True for one of the provider names or `auto`. */
export function isExecutionProviderChoice(value: unknown): value is ExecutionProviderChoice {
  return v.is(ExecutionProviderChoiceSchema, value);
}

// Execution providers as the settings, the CLI and saved results name them (onnxruntime-node's
// own names). Which ones exist on a platform, and the order `auto` tries, live in the engine.

/** Every execution provider the engine can ask onnxruntime-node for. */
export const EXECUTION_PROVIDERS = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;

/** An execution provider's name. */
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/** What the user asks for: one provider, or `auto` (the platform's chain, ending with cpu). */
export type ExecutionProviderChoice = 'auto' | ExecutionProviderName;

/** One try at opening a session on a provider, in the order they were tried. */
export interface ProviderAttempt {
  provider: ExecutionProviderName;
  ok: boolean;
  /** Why it failed (onnxruntime's words, plus a hint where one helps); absent when ok. */
  reason?: string;
  /** How long the try took (session creation included). */
  ms: number;
}

/** True for one of the provider names or `auto`. */
export function isExecutionProviderChoice(value: unknown): value is ExecutionProviderChoice {
  return value === 'auto' || (EXECUTION_PROVIDERS as readonly unknown[]).includes(value);
}

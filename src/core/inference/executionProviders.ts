// Which execution providers to try, in which order, and why one failed. Pure: the worker passes
// in a function that opens a session on one provider. onnxruntime-node has no automatic
// fallback (a compiled-in provider that fails to start throws even with cpu listed after it), so
// providers are tried one at a time and every failure is recorded.
import type {
  ExecutionProviderChoice,
  ExecutionProviderName,
  ProviderAttempt,
} from '../../protocol/executionProviders';
import { InferenceError } from './inferenceError';

/** The order `auto` tries on a platform: the native GPU provider, WebGPU, then CPU. */
export function autoProviderChain(platform: NodeJS.Platform): ExecutionProviderName[] {
  switch (platform) {
    case 'linux':
      return ['cuda', 'webgpu', 'cpu'];
    case 'win32':
      return ['dml', 'webgpu', 'cpu'];
    case 'darwin':
      return ['coreml', 'webgpu', 'cpu'];
    default:
      return ['cpu'];
  }
}

/**
 * The providers to try for a choice: `auto` → the platform's chain; an explicit provider → just
 * it, or (with `allowFallback`) it followed by the rest of the platform's chain.
 */
export function providerChain(
  choice: ExecutionProviderChoice,
  platform: NodeJS.Platform,
  allowFallback: boolean,
): ExecutionProviderName[] {
  const auto = autoProviderChain(platform);
  if (choice === 'auto') return auto;
  return allowFallback ? [choice, ...auto.filter((p) => p !== choice)] : [choice];
}

const PLATFORM_ONLY: Partial<
  Record<ExecutionProviderName, { platform: NodeJS.Platform; os: string }>
> = {
  dml: { platform: 'win32', os: 'Windows' },
  coreml: { platform: 'darwin', os: 'macOS' },
};

/** Why a provider cannot exist on this platform at all, without trying it; undefined if it may. */
export function providerPlatformProblem(
  provider: ExecutionProviderName,
  platform: NodeJS.Platform,
): string | undefined {
  const only = PLATFORM_ONLY[provider];
  if (only === undefined || only.platform === platform) return undefined;
  return `${provider} is only available on ${only.os}; this machine runs ${platform}`;
}

/** onnxruntime's failure message made readable: first lines, trimmed, plus a hint where one helps. */
export function describeProviderFailure(provider: ExecutionProviderName, message: string): string {
  // onnxruntime prefixes its messages with a source location and a C++ signature; WebGPU's
  // useful words follow an assertion. Keep what a user can read.
  const readable =
    /Failed to get a WebGPU adapter[^\n]*/.exec(message)?.[0] ??
    message.replace(/\/onnxruntime_src\/\S+:\d+ (\S+ )*?\S+\)\S* /g, '');
  const text = readable
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, 2)
    .join(' ')
    .replace(/\s+/g, ' ');
  const short = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  let hint = '';
  if (provider === 'cuda' && /shared librar|load library|providers_shared/i.test(message)) {
    hint =
      ' (the CUDA provider is not installed: onnxruntime-node was installed without it; with network ' +
      'access, CUDA 12 and cuDNN 9, reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci)';
  } else if (provider === 'webgpu' && /adapter/i.test(message)) {
    hint = ' (no usable GPU adapter: WebGPU needs a GPU with Vulkan, Metal or Direct3D 12 drivers)';
  } else if (/backend not found|not supported/i.test(message)) {
    hint = ' (not compiled into this onnxruntime-node build)';
  }
  return `${short}${hint}`;
}

/** The opened value and where it opened. */
export interface OpenedOnProvider<T> {
  value: T;
  provider: ExecutionProviderName;
  /** Every try in order, the successful one last. */
  attempts: ProviderAttempt[];
}

/**
 * Tries `open` on each provider in turn until one succeeds. Providers that cannot exist on the
 * platform are recorded as failed without a try. Throws PROVIDER_UNAVAILABLE listing every
 * attempt when none opens; errors `isFatal` says are not about the provider (a broken model)
 * are rethrown at once.
 */
export async function openWithFallback<T>(
  chain: readonly ExecutionProviderName[],
  open: (provider: ExecutionProviderName) => Promise<T>,
  options: { platform: NodeJS.Platform; isFatal?: (error: unknown) => boolean },
): Promise<OpenedOnProvider<T>> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of chain) {
    const problem = providerPlatformProblem(provider, options.platform);
    if (problem !== undefined) {
      attempts.push({ provider, ok: false, reason: problem, ms: 0 });
      continue;
    }
    const started = performance.now();
    try {
      const value = await open(provider);
      attempts.push({ provider, ok: true, ms: performance.now() - started });
      return { value, provider, attempts };
    } catch (error) {
      if (options.isFatal?.(error) === true) throw error;
      const message = error instanceof Error ? error.message : String(error);
      attempts.push({
        provider,
        ok: false,
        reason: describeProviderFailure(provider, message),
        ms: performance.now() - started,
      });
    }
  }
  throw new InferenceError(
    'PROVIDER_UNAVAILABLE',
    providerFailureMessage(chain, attempts),
    attempts,
  );
}

/** "No execution provider could run the model: cuda: …; webgpu: …" */
export function providerFailureMessage(
  chain: readonly ExecutionProviderName[],
  attempts: readonly ProviderAttempt[],
): string {
  const reasons = attempts.map((a) => `${a.provider}: ${a.reason ?? 'failed'}`).join('; ');
  if (chain.length === 1) {
    return (
      `The execution provider "${chain[0]}" is not available: ${reasons}. ` +
      'Choose another provider (or auto), or allow falling back to the next one.'
    );
  }
  return `No execution provider could open the model (tried ${chain.join(', ')}): ${reasons}`;
}

// Execution-provider chains per platform and the one-at-a-time fallback, with a fake opener.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutionProviderName } from '../../src/protocol/executionProviders';
import {
  autoProviderChain,
  describeProviderFailure,
  openWithFallback,
  providerChain,
} from '../../src/core/inference/executionProviders';
import { isInferenceError } from '../../src/core/inference/inferenceError';
import { intraOpThreadsFor } from '../../src/core/inference/workerPool';

describe('provider chains', () => {
  test('auto: the platform GPU provider, webgpu, cpu', () => {
    assert.deepEqual(autoProviderChain('linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(autoProviderChain('win32'), ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(autoProviderChain('darwin'), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(autoProviderChain('freebsd'), ['cpu']);
  });

  test('an explicit choice is tried alone unless fallback is allowed', () => {
    assert.deepEqual(providerChain('webgpu', 'linux', false), ['webgpu']);
    assert.deepEqual(providerChain('webgpu', 'linux', true), ['webgpu', 'cuda', 'cpu']);
    assert.deepEqual(providerChain('auto', 'darwin', false), ['coreml', 'webgpu', 'cpu']);
  });

  test('threads per session: cores shared by the workers, at least one', () => {
    assert.equal(intraOpThreadsFor(16, 1), 16);
    assert.equal(intraOpThreadsFor(16, 3), 5);
    assert.equal(intraOpThreadsFor(2, 4), 1);
    assert.equal(intraOpThreadsFor(2, 0), 2);
  });
});

describe('openWithFallback', () => {
  const fakeOpen = (working: ExecutionProviderName[]) => {
    const tried: ExecutionProviderName[] = [];
    const open = async (p: ExecutionProviderName) => {
      tried.push(p);
      await Promise.resolve();
      if (!working.includes(p)) throw new Error(`${p} exploded`);
      return `session on ${p}`;
    };
    return { tried, open };
  };

  test('tries one at a time and records why each failed', async () => {
    const { tried, open } = fakeOpen(['cpu']);
    const opened = await openWithFallback(['cuda', 'webgpu', 'cpu'], open, { platform: 'linux' });
    assert.equal(opened.value, 'session on cpu');
    assert.equal(opened.provider, 'cpu');
    assert.deepEqual(tried, ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(
      opened.attempts.map((a) => [a.provider, a.ok, a.reason]),
      [
        ['cuda', false, 'cuda exploded'],
        ['webgpu', false, 'webgpu exploded'],
        ['cpu', true, undefined],
      ],
    );
  });

  test('stops at the first that opens', async () => {
    const { tried, open } = fakeOpen(['webgpu', 'cpu']);
    const opened = await openWithFallback(['webgpu', 'cpu'], open, { platform: 'linux' });
    assert.equal(opened.provider, 'webgpu');
    assert.deepEqual(tried, ['webgpu']);
  });

  test('providers the platform cannot have are recorded without a try', async () => {
    const { tried, open } = fakeOpen(['cpu']);
    const opened = await openWithFallback(['dml', 'cpu'], open, { platform: 'linux' });
    assert.deepEqual(tried, ['cpu']);
    assert.match(opened.attempts[0]!.reason ?? '', /only available on Windows/);
  });

  test('none opens: PROVIDER_UNAVAILABLE listing every attempt', async () => {
    const { open } = fakeOpen([]);
    await assert.rejects(
      openWithFallback(['webgpu'], open, { platform: 'linux' }),
      (e: unknown) => {
        assert.ok(isInferenceError(e, 'PROVIDER_UNAVAILABLE'));
        assert.match(e.message, /"webgpu" is not available: webgpu: webgpu exploded/);
        assert.equal(e.attempts.length, 1);
        return true;
      },
    );
  });

  test('an error about the model (isFatal) is rethrown at once', async () => {
    const open = () => Promise.reject(new SyntaxError('broken model'));
    await assert.rejects(
      openWithFallback(['cuda', 'cpu'], open, {
        platform: 'linux',
        isFatal: (e) => e instanceof SyntaxError,
      }),
      SyntaxError,
    );
  });

  test('onnxruntime messages are trimmed and get a hint', () => {
    const webgpu = describeProviderFailure(
      'webgpu',
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters',
    );
    assert.match(
      webgpu,
      /^Failed to get a WebGPU adapter: No supported adapters \(no usable GPU adapter/,
    );
    assert.match(
      describeProviderFailure(
        'cuda',
        'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
      ),
      /ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
    assert.match(
      describeProviderFailure('dml', 'no available backend found. ERR: [dml] backend not found.'),
      /not compiled into/,
    );
  });
});

// The worker IPC schemas (src/protocol/workerMessages.ts, decodeWorkerMessages.ts): valid
// messages pass as they are; typed arrays are checked by type and length; errors name the field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseWasmWorkerReply,
  parseWasmWorkerRequest,
} from '../../src/protocol/decodeWorkerMessages';
import { parseWorkerRequest, parseWorkerResponse } from '../../src/protocol/workerMessages';

const settings = {
  modelPath: '/m.onnx',
  modelIdentity: '/m.onnx:1:2',
  providers: ['cpu'],
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};
const tensor = (dims: number[]) => ({
  data: new Float32Array(dims.reduce((n, d) => n * d, 1)),
  dims,
});
const outputs = {
  logits: tensor([1, 6]),
  modality_mass: tensor([1, 2, 4, 3]),
  modality_mass_after: tensor([1, 2, 4, 3]),
  ar_flags: tensor([1, 2, 4]),
  token_attention_before: tensor([1, 2, 4, 10]),
  token_attention: tensor([1, 2, 4, 10]),
};
const session = {
  provider: 'cpu',
  attempts: [{ provider: 'cpu', ok: true, ms: 3 }],
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  openMs: 0,
};

describe('inference worker messages', () => {
  test('a run request and its answer pass unchanged (typed arrays included)', () => {
    const request = {
      type: 'run',
      id: 3,
      settings,
      inputs: { frames: new Float32Array(12), audio: new Float32Array(4), promptIds: [1, 2] },
      controls: [],
    };
    assert.deepEqual(parseWorkerRequest(request), request);
    const answer = { type: 'ran', id: 3, session, runs: [{ outputs, runMs: 2 }], sessionRuns: 1 };
    const parsed = parseWorkerResponse(answer);
    assert.deepEqual(parsed, answer);
    assert.equal(parsed.type === 'ran' && parsed.runs[0]?.outputs.logits.data, outputs.logits.data);
  });

  test('a logits-only run of several input sets and its answer pass; a logit row must be float32', () => {
    const inputs = { frames: new Float32Array(12), audio: new Float32Array(4), promptIds: [1] };
    const request = {
      type: 'runLogits',
      id: 4,
      settings,
      inputSets: [inputs, inputs],
      controls: [],
    };
    assert.deepEqual(parseWorkerRequest(request), request);
    const logits = [[new Float32Array(6)], [new Float32Array(6)]];
    const answer = { type: 'ranLogits', id: 4, session, logits, runMs: 1.5, sessionRuns: 2 };
    assert.deepEqual(parseWorkerResponse(answer), answer);
    assert.throws(
      () => parseWorkerResponse({ ...answer, logits: [[[0, 1, 2]]] }),
      /logits\[0\]\[0\]: must be a Float32Array/,
    );
  });

  test('tensors are checked by type and by the length their dims give', () => {
    assert.throws(
      () =>
        parseWorkerRequest({
          type: 'run',
          id: 1,
          settings,
          inputs: { frames: [0.5], audio: new Float32Array(1), promptIds: [] },
          controls: [],
        }),
      { message: 'inputs.frames: must be a Float32Array or { held: id }' },
    );
    // A re-run names the tensors the worker holds; the ids it keeps sent ones under pass too.
    const held = {
      type: 'run',
      id: 2,
      settings,
      inputs: { frames: { held: 7 }, audio: new Float32Array(1), promptIds: [] },
      holdAs: { audio: 8 },
      controls: [],
    };
    assert.deepEqual(parseWorkerRequest(held), held);
    assert.throws(
      () => parseWorkerRequest({ ...held, inputs: { ...held.inputs, audio: { held: 1.5 } } }),
      /^Error: inputs\.audio: must be a Float32Array or \{ held: id \}$/,
    );
    const bad = {
      ...outputs,
      token_attention: { data: new Float32Array(79), dims: [1, 2, 4, 10] },
    };
    assert.throws(
      () =>
        parseWorkerResponse({
          type: 'ran',
          id: 1,
          session,
          runs: [{ outputs: bad, runMs: 1 }],
          sessionRuns: 1,
        }),
      {
        message:
          'runs[0].outputs.token_attention: holds 79 values, not the 80 of dims [1, 2, 4, 10]',
      },
    );
  });

  test('unknown types, bad ids and bad errors are refused with the field named', () => {
    assert.throws(() => parseWorkerRequest({ type: 'shutdown', id: 1 }), /^Error: type: expected/);
    assert.throws(() => parseWorkerRequest({ type: 'open', id: 1.5, settings }), /^Error: id: /);
    assert.throws(
      () =>
        parseWorkerResponse({ type: 'failed', id: 1, error: { name: 'TypeError', message: 'x' } }),
      /^Error: error\.name: expected one of/,
    );
    assert.throws(() => parseWorkerResponse(null), /expected an object/);
  });
});

describe('wasm decode worker messages', () => {
  const spec = { frames: 2, height: 4, width: 4, sampleRateHz: 16000, samples: 8 };
  const core = { script: '/core.js', wasm: '/core.wasm' };
  const source = {
    path: '/clip.mp4',
    formatName: 'mp4',
    durationSeconds: 1,
    durationSource: 'format',
    video: {
      index: 0,
      codec: 'h264',
      width: 4,
      height: 4,
      sampleAspectRatio: '1:1',
      rotationDegrees: 90,
      displayWidth: 4,
      displayHeight: 4,
      averageFrameRateHz: null,
    },
    videoStreams: 1,
    audio: null,
  };
  const timings = { probeMs: 1, framesMs: 2, audioMs: 3, commands: 4 };
  const decoded = (frames: number, audio: Float32Array | null) => ({
    kind: 'decoded',
    timings,
    clip: {
      specName: 'mosear-decode-1',
      spec,
      backend: 'wasm',
      source,
      frames: new Float32Array(frames),
      audio,
      frameTimesSeconds: [0.25, 0.75],
      frameFromTail: [false, false],
      audioStartSeconds: 0,
    },
  });

  test('requests and replies pass unchanged', () => {
    const request = { kind: 'decode', path: '/clip.mp4', core, maxFileBytes: 10, spec };
    assert.deepEqual(parseWasmWorkerRequest(request), request);
    const reply = decoded(96, new Float32Array(8));
    assert.deepEqual(parseWasmWorkerReply(reply, spec), reply);
    assert.deepEqual(parseWasmWorkerReply(decoded(96, null), spec), decoded(96, null));
    const probed = { kind: 'probed', probe: source, timings };
    assert.deepEqual(parseWasmWorkerReply(probed), probed);
  });

  test("decoded tensors must hold the request's spec lengths", () => {
    assert.throws(() => parseWasmWorkerReply(decoded(95, null), spec), {
      message: 'clip.frames: must hold 96 values',
    });
    assert.throws(() => parseWasmWorkerReply(decoded(96, new Float32Array(7)), spec), {
      message: 'clip.audio: must hold 8 values',
    });
    // Without a spec only the type is checked.
    assert.equal(parseWasmWorkerReply(decoded(95, null)).kind, 'decoded');
  });

  test('malformed requests and replies name the field', () => {
    assert.throws(
      () => parseWasmWorkerRequest({ kind: 'decode', path: '/c', core, maxFileBytes: 1 }),
      { message: 'spec: missing' },
    );
    assert.throws(
      () => parseWasmWorkerReply({ kind: 'failed', code: 'OOPS', message: 'x' }),
      /^Error: code: expected one of/,
    );
  });
});

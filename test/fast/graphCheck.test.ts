// A model file against contract v1 before any session: the graph's declared inputs and outputs
// read with its initializers skipped (instant and memory-flat on a 200 MB one), compared with the
// metadata, and every problem reported at once with the file and CONTRACT.md's sections.
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import {
  graphProblems,
  readCheckedModelFile,
  unrunnableModelError,
} from '../../src/core/contract/graphCheck';
import { readExternalDataLocations, readOnnxGraphSignature } from '../../src/core/onnx/graphProto';
import { OnnxModelError } from '../../src/core/onnx/modelProto';
import { toProps, validGraphValues, validMetadataValues } from '../helpers/contractFixture';
import {
  bytesField,
  concat,
  graphBytes,
  onnxModelBytes,
  tag,
  valueInfoBytes,
  varint,
  varintField,
  type GraphSpec,
  type ValueSpec,
} from '../helpers/protoEncode';
import { CHECKPOINT_DIR, REPO_ROOT } from '../helpers/golden';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const dir = scratchDir('graph-check');
const OPSETS = [{ domain: '', version: 17 }];

type Values = Record<string, unknown>;
type Graph = ReturnType<typeof validGraphValues>;

/** Writes a contract model with the fixture's metadata and graph, each edited as asked. */
function modelFile(
  name: string,
  edit: { metadata?: (values: Values) => void; graph?: (graph: Graph) => void } = {},
): string {
  const values = validMetadataValues();
  edit.metadata?.(values);
  const graph = validGraphValues();
  edit.graph?.(graph);
  const bytes = onnxModelBytes({
    irVersion: 8,
    graph: graphBytes(graph),
    opsets: OPSETS,
    metadata: [...toProps(values)],
  });
  return writeTemp(dir, name, bytes);
}

function retype(list: ValueSpec[], name: string, change: Partial<ValueSpec>): void {
  const at = list.findIndex((v) => v.name === name);
  assert.ok(at >= 0, name);
  list[at] = { ...(list[at] as ValueSpec), ...change };
}

/** The problem lines of readCheckedModelFile's error (after asserting its first line). */
async function problemsOf(path: string): Promise<string[]> {
  let lines: string[] = [];
  await assert.rejects(readCheckedModelFile(path), (error: unknown) => {
    assert.ok(error instanceof ContractError, `expected ContractError, got ${String(error)}`);
    lines = error.message.split('\n');
    assert.match(
      lines[0] ?? '',
      /^\S+ does not follow the MoSEAR model contract v1 \(models\/CONTRACT\.md\), \d+ problems?:$/,
    );
    assert.ok(lines[0]?.startsWith(path), 'the message names the file');
    for (const line of lines.slice(1)) {
      assert.match(line, /^ {2}- .+ \(models\/CONTRACT\.md §\d(, §\d)*\)$/, line);
    }
    assert.ok(lines[0]?.includes(`${lines.length - 1} problem`), 'the count matches the list');
    return true;
  });
  return lines.slice(1);
}

describe('readOnnxGraphSignature', () => {
  it('reads names, element types and shapes (sizes, named and unknown dimensions)', async () => {
    const graph: GraphSpec = {
      inputs: [
        { name: 'frames', type: 'float32', shape: [1, 'T', 3, null, 64] },
        { name: 'ids', type: 'int64', shape: [] },
        { name: 'untyped' },
        { name: 'list', type: 'float32', sequence: true },
      ],
      outputs: [{ name: 'logits', type: 'float32', shape: [1, 6] }],
      nodes: [bytesField(4, 'MatMul')],
    };
    const path = writeTemp(
      dir,
      'shapes.onnx',
      onnxModelBytes({ irVersion: 8, graph: graphBytes(graph), opsets: OPSETS }),
    );
    const signature = await readOnnxGraphSignature(path);
    assert.deepEqual(signature, {
      inputs: [
        { name: 'frames', isTensor: true, type: 'float32', shape: [1, 'T', 3, '?', 64] },
        { name: 'ids', isTensor: true, type: 'int64', shape: [] },
        { name: 'untyped', isTensor: true },
        { name: 'list', isTensor: false },
      ],
      outputs: [{ name: 'logits', isTensor: true, type: 'float32', shape: [1, 6] }],
    });
  });

  it('leaves out initializers listed as inputs (IR < 4), as onnxruntime does', async () => {
    const graph: GraphSpec = {
      inputs: [
        { name: 'x', type: 'float32', shape: [2] },
        { name: 'weight', type: 'float32', shape: [4] },
      ],
      outputs: [{ name: 'y', type: 'float32', shape: [2] }],
      initializers: [{ name: 'weight', raw: new Uint8Array(16) }],
    };
    const path = writeTemp(
      dir,
      'ir3.onnx',
      onnxModelBytes({ irVersion: 3, graph: graphBytes(graph), opsets: OPSETS }),
    );
    const signature = await readOnnxGraphSignature(path);
    assert.deepEqual(
      signature.inputs.map((v) => v.name),
      ['x'],
    );
  });

  it('names the file when the graph is cut short or absent', async () => {
    const whole = onnxModelBytes({ irVersion: 8, graph: graphBytes(validGraphValues()) });
    // The graph's length says more bytes than its inputs hold: a ValueInfo runs past its end.
    const graph = graphBytes(validGraphValues());
    const cut = concat(varintField(1, 8), tag(7, 2), varint(graph.length), graph.subarray(0, 40));
    for (const [name, bytes] of [
      ['cut.onnx', cut],
      ['no-graph.onnx', whole.subarray(0, 2)],
    ] as const) {
      const path = writeTemp(dir, name, bytes);
      await assert.rejects(readOnnxGraphSignature(path), (error: unknown) => {
        assert.ok(error instanceof OnnxModelError, String(error));
        assert.ok(error.message.startsWith(`not an ONNX model: ${path}: `), error.message);
        return true;
      });
    }
  });

  it('skips a 200 MB initializer: fast, and without reading it into memory', async () => {
    // A sparse file: the initializer's raw_data is a hole, so writing it costs nothing either.
    const rawBytes = 200 * 1024 * 1024;
    const rawHeader = concat(
      varintField(1, rawBytes / 4),
      varintField(2, 1),
      bytesField(8, 'huge_weight'),
      tag(9, 2),
      varint(rawBytes),
    );
    const initializerLength = rawHeader.length + rawBytes;
    const graphHead = concat(bytesField(2, 'big'), tag(5, 2), varint(initializerLength));
    const values = validGraphValues();
    const graphTail = concat(
      ...values.inputs.map((v) => bytesField(11, valueInfoBytes(v))),
      ...values.outputs.map((v) => bytesField(12, valueInfoBytes(v))),
    );
    const graphLength = graphHead.length + initializerLength + graphTail.length;
    const head = concat(varintField(1, 8), tag(7, 2), varint(graphLength), graphHead, rawHeader);
    const tail = concat(
      graphTail,
      onnxModelBytes({ opsets: OPSETS, metadata: [...toProps(validMetadataValues())] }),
    );
    const path = join(dir, 'huge.onnx');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, head, 0, head.length, 0);
      writeSync(fd, tail, 0, tail.length, head.length + rawBytes);
    } finally {
      closeSync(fd);
    }
    assert.ok(statSync(path).size > rawBytes);

    const memory = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = memory();
    const started = performance.now();
    const checked = await readCheckedModelFile(path);
    const ms = performance.now() - started;
    const grownBytes = memory() - before;
    assert.equal(checked.metadata.checkpoint.name, 'fixture-tiny');
    assert.equal(checked.graph.inputs.length, 11);
    assert.equal(checked.info.graphBytes, graphLength);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
    assert.ok(grownBytes < 32 * 1024 * 1024, `memory grew by ${(grownBytes / 1e6).toFixed(1)} MB`);
  });
});

describe('readCheckedModelFile', () => {
  it('accepts the v1 fixture (metadata and graph that agree)', async () => {
    const checked = await readCheckedModelFile(modelFile('valid.onnx'));
    assert.equal(checked.metadata.architecture.layers, 4);
    assert.deepEqual(graphProblems(checked.metadata, checked.graph), []);
  });

  const cases: [string, Parameters<typeof modelFile>[1], RegExp[]][] = [
    [
      'declared L disagrees with the graph',
      {
        metadata: (v) => {
          (v['mosear.architecture'] as Values)['layers'] = 3;
          const defaults = v['mosear.ar_defaults'] as { tau: number[]; layers: number[] };
          defaults.tau = defaults.tau.slice(0, 3);
          defaults.layers = defaults.layers.slice(0, 3);
        },
      },
      [
        /^input "ar_tau" has shape \[4\], expected \[3\] \(.* §1, §3\)$/,
        /^input "ar_head_override" has shape \[4, 4\], expected \[3, 4\]/,
        /^output "mose_gate" has shape \[4\], expected \[3\] \(.* §2, §3\)$/,
      ],
    ],
    [
      'declared Hh disagrees with the graph',
      { metadata: (v) => ((v['mosear.architecture'] as Values)['heads'] = 2) },
      [/^output "token_attention" has shape \[4, 4, 73\], expected \[4, 2, 73\]/],
    ],
    [
      'declared T disagrees with the graph',
      {
        metadata: (v) => {
          (v['mosear.frames'] as Values)['count'] = 2;
          const layout = v['mosear.token_layout'] as { segments: { grid?: Values }[] };
          layout.segments[0]!.grid = { frames: 2, rows: 4, cols: 8, order: 'frame,row,col' };
        },
      },
      [/^input "frames" has shape \[1, 4, 3, 64, 64\], expected \[1, 2, 3, 64, 64\]/],
    ],
    [
      'mose_gate missing',
      { graph: (g) => (g.outputs = g.outputs.filter((o) => o.name !== 'mose_gate')) },
      [/^missing output "mose_gate" \(.* §2, §3\)$/],
    ],
    [
      'mose_gate present without MoSE',
      {
        metadata: (v) => {
          (v['mosear.architecture'] as Values)['mose'] = false;
        },
      },
      [/^output "mose_gate" is present but mosear\.architecture\.mose is false/],
    ],
    [
      'logits renamed',
      { graph: (g) => retype(g.outputs, 'logits', { name: 'scores' }) },
      [/^missing output "logits" \(.* §2\)$/],
    ],
    [
      'the wrong label count',
      {
        metadata: (v) => {
          (v['mosear.labels'] as string[]).push('bored');
        },
      },
      [/^output "logits" has shape \[1, 6\], expected \[1, 7\]/],
    ],
    [
      'int64 frames',
      { graph: (g) => retype(g.inputs, 'frames', { type: 'int64' }) },
      [/^input "frames" has type int64, expected float32 \(.* §1\)$/],
    ],
    [
      'an extra input and a sequence output',
      {
        graph: (g) => {
          g.inputs.push({ name: 'temperature', type: 'float32', shape: [] });
          retype(g.outputs, 'ar_flags', { sequence: true });
        },
      },
      [/^unexpected input "temperature"/, /^output "ar_flags" is not a tensor/],
    ],
    [
      'a named size where the contract fixes it (L, and the batch)',
      {
        graph: (g) => {
          retype(g.inputs, 'ar_tau', { shape: ['layers'] });
          retype(g.inputs, 'audio', { shape: ['batch', 32000] });
        },
      },
      [/^input "audio" has shape \[batch, 32000\], expected \[1, 32000\]/, /^input "ar_tau"/],
    ],
  ];
  for (const [what, edit, expected] of cases) {
    it(`rejects ${what}, naming the file, each problem and its section`, async () => {
      const problems = await problemsOf(modelFile(`${what.replace(/\W+/g, '-')}.onnx`, edit));
      for (const pattern of expected) {
        assert.ok(
          problems.some((p) => pattern.test(p.trim().replace(/^- /, ''))),
          `${pattern} not in\n${problems.join('\n')}`,
        );
      }
    });
  }

  it('lists every problem at once, not the first', async () => {
    const problems = await problemsOf(
      modelFile('nine.onnx', {
        metadata: (v) => {
          (v['mosear.labels'] as string[]).push('bored');
          (v['mosear.architecture'] as Values)['heads'] = 2;
        },
        graph: (g) => {
          retype(g.inputs, 'frames', { type: 'int64' });
          retype(g.inputs, 'ar_mode', { name: 'mode' });
          g.outputs = g.outputs.filter((o) => o.name !== 'mose_gate');
        },
      }),
    );
    // frames' type; ar_mode missing and "mode" unexpected; head_override; 5 outputs with Hh;
    // logits' label count; mose_gate missing.
    assert.equal(problems.length, 11, problems.join('\n'));
  });

  it('lists a metadata problem together with the graph problems that need no metadata', async () => {
    const problems = await problemsOf(
      modelFile('meta-and-graph.onnx', {
        metadata: (v) => {
          v['mosear.labels'] = 'oops';
        },
        graph: (g) => {
          retype(g.inputs, 'frames', { type: 'int64', shape: [1, 4, 3, 64] });
          g.outputs = g.outputs.filter((o) => o.name !== 'logits');
        },
      }),
    );
    assert.match(problems[0] ?? '', /mosear\.labels.* \(models\/CONTRACT\.md §3\)$/);
    assert.match(problems.join('\n'), /input "frames" has type int64/);
    assert.match(
      problems.join('\n'),
      /input "frames" has shape \[1, 4, 3, 64\], expected \[1, \?, 3, \?, \?\]/,
    );
    assert.match(problems.join('\n'), /missing output "logits"/);
    assert.equal(problems.length, 4, problems.join('\n'));
  });

  it('allows a named T only when the frame count is dynamic', async () => {
    const dynamic = (v: Values) => ((v['mosear.frames'] as Values)['dynamic_count'] = true);
    const namedT = (g: Graph) => retype(g.inputs, 'frames', { shape: [1, 'T', 3, 64, 64] });
    await readCheckedModelFile(modelFile('dynamic.onnx', { metadata: dynamic, graph: namedT }));
    const problems = await problemsOf(modelFile('fixed.onnx', { graph: namedT }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /input "frames" has shape \[1, T, 3, 64, 64\]/);
  });

  it('reports another contract version alone, naming the file and §7', async () => {
    // Its graph lacks every output, but v1's tables do not judge a v2 model.
    const graph = { ...validGraphValues(), outputs: [] };
    const bytes = onnxModelBytes({
      irVersion: 8,
      graph: graphBytes(graph),
      metadata: [...toProps(validMetadataValues(), '2')],
    });
    const v2 = writeTemp(dir, 'v2.onnx', bytes);
    await assert.rejects(readCheckedModelFile(v2), (error: unknown) => {
      assert.ok(error instanceof ContractError);
      assert.equal(
        error.message,
        `${v2}: mosear.contract: unsupported contract version "2" (this engine knows "1", "1.1" and "1.2") (models/CONTRACT.md §7)`,
      );
      return true;
    });
  });
});

describe('unrunnableModelError', () => {
  it('is a model error when no cpu session opens, and nothing when cpu works', () => {
    const failed = unrunnableModelError('/m.onnx', [
      { provider: 'cuda', ok: false, reason: 'not installed', ms: 0 },
      { provider: 'cpu', ok: false, reason: 'Unsupported model IR version: 99', ms: 3 },
    ]);
    assert.ok(failed instanceof OnnxModelError);
    assert.match(failed.message, /^\/m\.onnx cannot be used: .*not even on cpu.*IR version: 99$/);
    assert.equal(
      unrunnableModelError('/m.onnx', [{ provider: 'cpu', ok: true, ms: 3 }]),
      undefined,
    );
  });
});

describe('readExternalDataLocations', () => {
  it('names the file a real-checkpoint export keeps its weights in; none for a model that holds them', async () => {
    const mini = join(REPO_ROOT, 'models', 'fixtures', 'realexport', 'emotion-llama-mini.onnx');
    assert.deepEqual(await readExternalDataLocations(mini), ['emotion-llama-mini.onnx.data']);
    assert.deepEqual(await readExternalDataLocations(join(CHECKPOINT_DIR, 'mosear-tiny.onnx')), []);
  });
});

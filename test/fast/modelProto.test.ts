import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { OnnxModelError, readOnnxModelInfo } from '../../src/core/onnx/modelProto';
import {
  bytesField,
  concat,
  onnxModelBytes,
  tag,
  varint,
  varintField,
} from '../helpers/protoEncode';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const dir = scratchDir('proto');
const graph = bytesField(1, 'a node would be here'); // opaque: the reader never decodes it

const valid = {
  irVersion: 8,
  producerName: 'pytorch',
  graph,
  opsets: [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ],
  metadata: [
    ['mosear.contract', '1'],
    ['mosear.labels', '["neutral","sad"]'],
    ['emoji', 'ünïcødé ✓'],
  ] as [string, string][],
};

async function rejects(bytes: Uint8Array, pattern: RegExp, name = 'bad.onnx') {
  const path = writeTemp(dir, name, bytes);
  await assert.rejects(readOnnxModelInfo(path), (error: unknown) => {
    assert.ok(error instanceof OnnxModelError, `expected OnnxModelError, got ${String(error)}`);
    assert.match(error.message, /^not an ONNX model: /);
    assert.ok(error.message.includes(path), 'the message names the file');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('readOnnxModelInfo', () => {
  it('reads ir_version, producer, opset_import and metadata_props in file order', async () => {
    const info = await readOnnxModelInfo(writeTemp(dir, 'valid.onnx', onnxModelBytes(valid)));
    assert.equal(info.irVersion, 8);
    assert.equal(info.producerName, 'pytorch');
    assert.deepEqual(info.opsetImports, valid.opsets);
    assert.deepEqual([...info.metadata], valid.metadata);
    assert.equal(info.graphBytes, graph.length);
  });

  it('finds metadata written before the graph and skips unknown fields of every wire type', async () => {
    const bytes = concat(
      bytesField(14, concat(bytesField(1, 'early'), bytesField(2, 'yes'))),
      varintField(1, 9),
      bytesField(6, 'doc string'), // doc_string
      concat(tag(99, 5), Uint8Array.of(1, 2, 3, 4)), // unknown fixed32
      concat(tag(98, 1), new Uint8Array(8)), // unknown fixed64
      varintField(97, 123456789n), // unknown varint
      bytesField(7, graph),
      bytesField(25, 'a function'), // functions
      bytesField(14, concat(bytesField(2, 'value first'), bytesField(1, 'late'))),
    );
    const info = await readOnnxModelInfo(writeTemp(dir, 'order.onnx', bytes));
    assert.equal(info.irVersion, 9);
    assert.deepEqual(Object.fromEntries(info.metadata), { early: 'yes', late: 'value first' });
    assert.deepEqual(info.opsetImports, []);
  });

  it('reads a metadata entry with an empty value and large (multi-byte) varints', async () => {
    const bytes = onnxModelBytes({
      irVersion: 2 ** 40,
      graph,
      opsets: [{ domain: 'ai.onnx.ml', version: 300 }],
      metadata: [['empty', '']],
    });
    const info = await readOnnxModelInfo(writeTemp(dir, 'edge.onnx', bytes));
    assert.equal(info.irVersion, 2 ** 40);
    assert.deepEqual(info.opsetImports, [{ domain: 'ai.onnx.ml', version: 300 }]);
    assert.equal(info.metadata.get('empty'), '');
  });

  it('skips a 3 GiB graph without reading it (sparse file)', async () => {
    const graphSize = 3 * 2 ** 30;
    const head = concat(varintField(1, 8), tag(7, 2), varint(graphSize));
    const tail = onnxModelBytes({
      opsets: [{ domain: '', version: 17 }],
      metadata: [['after', 'the graph']],
    });
    const path = writeTemp(dir, 'huge.onnx', head);
    const handle = await open(path, 'r+');
    await handle.write(tail, 0, tail.length, head.length + graphSize); // leaves a hole
    await handle.close();
    const started = performance.now();
    const info = await readOnnxModelInfo(path);
    const ms = performance.now() - started;
    assert.equal(info.graphBytes, graphSize);
    assert.equal(info.metadata.get('after'), 'the graph');
    assert.ok(ms < 2000, `took ${ms} ms: the graph must be skipped, not read`);
  });

  it('rejects an empty file', async () => {
    await rejects(new Uint8Array(0), /empty/);
  });

  it('rejects text and other formats', async () => {
    await rejects(new TextEncoder().encode('{"this": "is json"}\n'), /wire type|field/);
    await rejects(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), /./);
  });

  it('rejects a file truncated inside a varint', async () => {
    await rejects(Uint8Array.of(0x08, 0x80), /truncated varint/);
  });

  it('rejects a file truncated inside a length-delimited field', async () => {
    const whole = onnxModelBytes(valid);
    const cut = whole.subarray(0, whole.length - 3);
    await rejects(cut, /runs past|needs \d+ bytes/);
  });

  it('rejects every truncation of a valid model except at a field boundary', async () => {
    const whole = onnxModelBytes({ irVersion: 8, graph, metadata: [['k', 'v']] });
    const boundary = onnxModelBytes({ irVersion: 8, graph }).length; // a complete model
    const accepted: number[] = [];
    for (let length = 1; length < whole.length; length++) {
      const path = writeTemp(dir, 'cut.onnx', whole.subarray(0, length));
      try {
        await readOnnxModelInfo(path);
        accepted.push(length);
      } catch (error) {
        assert.ok(error instanceof OnnxModelError, `length ${length}: ${String(error)}`);
      }
    }
    assert.deepEqual(accepted, [boundary]);
  });

  it('rejects a model without ir_version or without a graph', async () => {
    await rejects(onnxModelBytes({ ...valid, irVersion: undefined }), /no ir_version/);
    await rejects(onnxModelBytes({ ...valid, graph: undefined }), /no graph/);
  });

  it('rejects group wire types, field number 0 and over-long varints', async () => {
    await rejects(concat(varintField(1, 8), tag(5, 3)), /unsupported wire type 3/);
    await rejects(Uint8Array.of(0x00, 0x01), /invalid field number 0/);
    await rejects(concat(Uint8Array.of(0x08), new Uint8Array(11).fill(0xff)), /longer than 10/);
  });

  it('rejects fields with the wrong wire type', async () => {
    await rejects(onnxModelBytes({ graph, trailer: bytesField(1, 'eight') }), /ir_version/);
    await rejects(onnxModelBytes({ irVersion: 8, trailer: varintField(7, 1) }), /graph/);
  });

  it('rejects duplicate metadata keys, keyless entries and invalid UTF-8', async () => {
    await rejects(
      onnxModelBytes({
        ...valid,
        metadata: [
          ['k', '1'],
          ['k', '2'],
        ],
      }),
      /"k" appears twice/,
    );
    await rejects(
      onnxModelBytes({ ...valid, trailer: bytesField(14, bytesField(2, 'v')) }),
      /no key/,
    );
    const badUtf8 = bytesField(14, concat(bytesField(1, 'k'), bytesField(2, Uint8Array.of(0xc3))));
    await rejects(onnxModelBytes({ ...valid, metadata: [], trailer: badUtf8 }), /UTF-8/);
  });

  it('passes file-system errors through unchanged', async () => {
    await assert.rejects(readOnnxModelInfo(`${dir}/missing.onnx`), { code: 'ENOENT' });
  });
});

// readOnnxGraphSignature: a graph's declared inputs and outputs (names, element types, shapes),
// read from the file's GraphProto while its nodes and initializers are stepped over by length, so
// the cost is the same for a 20 MB checkpoint and a multi-gigabyte one.
import type { FileProtoReader, FieldHeader } from './fileProtoReader';
import { OnnxModelError, readOnnxFile } from './modelProto';
import { WireType, decodeMessage, decodeUtf8, type ProtoField } from './protoWire';

/** One declared graph input or output, shaped like onnxruntime's ValueMetadata. */
export interface GraphValue {
  readonly name: string;
  /** False for sequences, maps, optionals and sparse tensors. */
  readonly isTensor: boolean;
  /** onnxruntime's name of the element type ('float32', 'int64', …); absent when undeclared. */
  readonly type?: string;
  /** Absent when the graph declares no shape; a symbolic dimension is its name ('?' if unnamed). */
  readonly shape?: ReadonlyArray<number | string>;
}

/** What a graph declares it takes and gives. */
export interface GraphSignature {
  /** Inputs that are not initializers (the ones a caller must feed), in graph order. */
  inputs: GraphValue[];
  outputs: GraphValue[];
}

// ModelProto.graph; GraphProto fields; ValueInfoProto, TypeProto, TensorShapeProto fields.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_SPARSE_INITIALIZER = 15;
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const VALUE_NAME = 1;
const VALUE_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_ELEM_TYPE = 1;
const TENSOR_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const DIM_PARAM = 2;

/** TensorProto.DataType → onnxruntime-node's type names. */
const ELEMENT_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

/**
 * Reads the graph's declared inputs and outputs. Only the tags of the graph's fields and the
 * small ValueInfoProtos are read; nodes, initializers and their raw data are skipped by position.
 * Throws OnnxModelError ("not an ONNX model: <path>: …") when the structure is broken.
 */
export async function readOnnxGraphSignature(path: string): Promise<GraphSignature> {
  return readOnnxFile(path, async (reader) => readGraph(await graphOf(reader)));
}

/** A reader over the model's GraphProto (the last `graph` field when there are several). */
async function graphOf(model: FileProtoReader): Promise<FileProtoReader> {
  let graph: FieldHeader | undefined;
  for (let header = await model.next(); header; header = await model.next()) {
    if (header.field === MODEL_GRAPH) graph = header;
  }
  if (graph === undefined) throw new OnnxModelError('no graph field');
  return model.nested(graph);
}

async function readGraph(graph: FileProtoReader): Promise<GraphSignature> {
  const inputs: GraphValue[] = [];
  const outputs: GraphValue[] = [];
  const initializers: { header: FieldHeader; sparse: boolean }[] = [];
  for (let header = await graph.next(); header; header = await graph.next()) {
    switch (header.field) {
      case GRAPH_INPUT:
        inputs.push(valueOf(await graph.payload(header)));
        break;
      case GRAPH_OUTPUT:
        outputs.push(valueOf(await graph.payload(header)));
        break;
      case GRAPH_INITIALIZER:
      case GRAPH_SPARSE_INITIALIZER:
        initializers.push({ header, sparse: header.field === GRAPH_SPARSE_INITIALIZER });
        break;
      default:
        break; // nodes, value_info, doc_string, …: skipped by graph.next()
    }
  }
  // Before IR 4 initializers were also listed as inputs; onnxruntime does not count them as
  // inputs to feed. Their names are read (tensor headers only) just when that could matter.
  if (initializers.length > 0 && inputs.length > 0) {
    const constant = new Set<string>();
    for (const { header, sparse } of initializers) {
      const name = await tensorName(graph, header, sparse);
      if (name !== undefined) constant.add(name);
    }
    return { inputs: inputs.filter((i) => !constant.has(i.name)), outputs };
  }
  return { inputs, outputs };
}

/** A TensorProto's name (field 8), walking its fields so raw_data is skipped, not read. */
async function tensorName(
  parent: FileProtoReader,
  header: FieldHeader,
  sparse: boolean,
): Promise<string | undefined> {
  if (header.wireType !== WireType.LengthDelimited) return undefined;
  const tensor = parent.nested(header);
  for (let field = await tensor.next(); field; field = await tensor.next()) {
    if (sparse && field.field === SPARSE_VALUES) return tensorName(tensor, field, false);
    if (!sparse && field.field === TENSOR_NAME && field.wireType === WireType.LengthDelimited) {
      return decodeUtf8(await tensor.payload(field), 'initializer name');
    }
  }
  return undefined;
}

/**
 * The files the initializers' data lives in (TensorProto.external_data's `location`, relative to
 * the model's folder), each once, in graph order; none for a model that holds its weights. Only
 * the initializers' small fields are read; their raw data is skipped by position.
 */
export async function readExternalDataLocations(path: string): Promise<string[]> {
  return readOnnxFile(path, async (reader) => {
    const graph = await graphOf(reader);
    const initializers: { header: FieldHeader; sparse: boolean }[] = [];
    for (let header = await graph.next(); header; header = await graph.next()) {
      if (header.field === GRAPH_INITIALIZER || header.field === GRAPH_SPARSE_INITIALIZER) {
        initializers.push({ header, sparse: header.field === GRAPH_SPARSE_INITIALIZER });
      }
    }
    const found = new Set<string>();
    for (const { header, sparse } of initializers) {
      await collectLocations(graph, header, sparse, found);
    }
    return [...found];
  });
}

/** Adds a TensorProto's external data location (a sparse tensor's values and indices) to `found`. */
async function collectLocations(
  parent: FileProtoReader,
  header: FieldHeader,
  sparse: boolean,
  found: Set<string>,
): Promise<void> {
  if (header.wireType !== WireType.LengthDelimited) return;
  const tensor = parent.nested(header);
  const parts: FieldHeader[] = [];
  for (let field = await tensor.next(); field; field = await tensor.next()) {
    if (sparse && (field.field === SPARSE_VALUES || field.field === SPARSE_INDICES)) {
      parts.push(field);
    } else if (!sparse && field.field === TENSOR_EXTERNAL_DATA) {
      const entry = decodeMessage(await tensor.payload(field));
      const key = entry.find((f) => f.field === ENTRY_KEY);
      const value = entry.find((f) => f.field === ENTRY_VALUE);
      if (key === undefined || value === undefined) continue;
      if (decodeUtf8(message(key, 'external data key'), 'external data key') === 'location') {
        found.add(decodeUtf8(message(value, 'external data location'), 'external data location'));
      }
    }
  }
  for (const part of parts) await collectLocations(tensor, part, false, found);
}

function message(f: ProtoField, what: string): Uint8Array {
  if (f.wireType !== WireType.LengthDelimited) {
    throw new OnnxModelError(`${what} has wire type ${f.wireType}, expected a message`);
  }
  return f.value;
}

/** ValueInfoProto { 1: name, 2: TypeProto }. */
function valueOf(bytes: Uint8Array): GraphValue {
  let name: string | undefined;
  let type: Uint8Array | undefined;
  for (const f of decodeMessage(bytes)) {
    if (f.field === VALUE_NAME) name = decodeUtf8(message(f, 'value name'), 'value name');
    if (f.field === VALUE_TYPE) type = message(f, 'value type');
  }
  if (name === undefined) throw new OnnxModelError('a graph input or output has no name');
  if (type === undefined) return { name, isTensor: true };
  const tensor = decodeMessage(type).find((f) => f.field === TYPE_TENSOR);
  if (tensor === undefined) return { name, isTensor: false };
  return { name, isTensor: true, ...tensorTypeOf(message(tensor, `${name}'s tensor type`), name) };
}

/** TypeProto.Tensor { 1: elem_type, 2: TensorShapeProto }. */
function tensorTypeOf(
  bytes: Uint8Array,
  name: string,
): { type?: string; shape?: (number | string)[] } {
  const out: { type?: string; shape?: (number | string)[] } = {};
  for (const f of decodeMessage(bytes)) {
    if (f.field === TENSOR_ELEM_TYPE && f.wireType === WireType.Varint && f.value !== 0n) {
      out.type = ELEMENT_TYPES[Number(f.value)] ?? `element type ${f.value}`;
    }
    if (f.field === TENSOR_SHAPE) {
      out.shape = decodeMessage(message(f, `${name}'s shape`))
        .filter((d) => d.field === SHAPE_DIM)
        .map((d) => dimensionOf(message(d, `${name}'s dimension`)));
    }
  }
  return out;
}

/** TensorShapeProto.Dimension { 1: dim_value, 2: dim_param }; neither set: unknown. */
function dimensionOf(bytes: Uint8Array): number | string {
  let dim: number | string = '?';
  for (const f of decodeMessage(bytes)) {
    if (f.field === DIM_VALUE && f.wireType === WireType.Varint) {
      dim = Number(BigInt.asIntN(64, f.value));
    }
    if (f.field === DIM_PARAM && f.wireType === WireType.LengthDelimited) {
      dim = decodeUtf8(f.value, 'dimension name') || '?';
    }
  }
  return dim;
}

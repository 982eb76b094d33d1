// A tiny protobuf encoder for building ONNX bytes in tests, and a field-level editor for
// changing committed models (rename an input, drop an output) without a protobuf library.
import { WireType, decodeMessage, type ProtoField } from '../../src/core/onnx/protoWire';

/** Encodes a varint. */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A tag for a field number and wire type. */
export function tag(field: number, wireType: number): Uint8Array {
  return varint((BigInt(field) << 3n) | BigInt(wireType));
}

/** A varint field. */
export function varintField(field: number, value: number | bigint): Uint8Array {
  return concat(tag(field, WireType.Varint), varint(value));
}

/** A length-delimited field holding bytes or a UTF-8 string. */
export function bytesField(field: number, value: Uint8Array | string): Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  return concat(tag(field, WireType.LengthDelimited), varint(bytes.length), bytes);
}

/** What a hand-built ONNX ModelProto holds. */
export interface ModelSpec {
  irVersion?: number | undefined;
  producerName?: string | undefined;
  opsets?: { domain: string; version: number }[] | undefined;
  metadata?: [string, string][] | undefined;
  graph?: Uint8Array | undefined;
  /** Bytes appended after the standard fields (unknown fields, padding, ...). */
  trailer?: Uint8Array | undefined;
}

/** Builds ModelProto bytes: ir_version (1), producer (2), graph (7), opsets (8), metadata (14). */
export function onnxModelBytes(spec: ModelSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  if (spec.irVersion !== undefined) parts.push(varintField(1, spec.irVersion));
  if (spec.producerName !== undefined) parts.push(bytesField(2, spec.producerName));
  if (spec.graph !== undefined) parts.push(bytesField(7, spec.graph));
  for (const o of spec.opsets ?? []) {
    parts.push(bytesField(8, concat(bytesField(1, o.domain), varintField(2, o.version))));
  }
  for (const [key, value] of spec.metadata ?? []) {
    parts.push(bytesField(14, concat(bytesField(1, key), bytesField(2, value))));
  }
  if (spec.trailer) parts.push(spec.trailer);
  return concat(...parts);
}

/** Re-encodes decoded fields. */
export function encodeFields(fields: ProtoField[]): Uint8Array {
  return concat(
    ...fields.map((f) => {
      if (f.wireType === WireType.Varint) return varintField(f.field, f.value);
      if (f.wireType === WireType.LengthDelimited) return bytesField(f.field, f.value);
      return concat(tag(f.field, f.wireType), f.value);
    }),
  );
}

const utf8 = new TextDecoder();
const GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const VALUE_INFO_NAME = 1;

function valueInfoName(bytes: Uint8Array): string | undefined {
  const name = decodeMessage(bytes).find((f) => f.field === VALUE_INFO_NAME);
  return name?.wireType === WireType.LengthDelimited ? utf8.decode(name.value) : undefined;
}

function editGraph(model: Uint8Array, edit: (graph: ProtoField[]) => ProtoField[]): Uint8Array {
  const fields = decodeMessage(model).map((f) => {
    if (f.field !== GRAPH || f.wireType !== WireType.LengthDelimited) return f;
    return { ...f, value: encodeFields(edit(decodeMessage(f.value))) };
  });
  return encodeFields(fields);
}

function renameString(f: ProtoField, from: string, to: string): ProtoField {
  if (f.wireType !== WireType.LengthDelimited || utf8.decode(f.value) !== from) return f;
  return { ...f, value: new TextEncoder().encode(to) };
}

/**
 * Renames a graph input (`valueField` 11, `nodeField` 1: the node inputs that read it) or output
 * (12 and 2: the node output that produces it), so the model still loads.
 */
function renameGraphValue(
  model: Uint8Array,
  from: string,
  to: string,
  valueField: number,
  nodeField: number,
): Uint8Array {
  return editGraph(model, (graph) =>
    graph.map((f) => {
      if (f.wireType !== WireType.LengthDelimited) return f;
      if (f.field === valueField && valueInfoName(f.value) === from) {
        const info = decodeMessage(f.value).map((g) =>
          g.field === VALUE_INFO_NAME ? renameString(g, from, to) : g,
        );
        return { ...f, value: encodeFields(info) };
      }
      if (f.field === GRAPH_NODE) {
        const node = decodeMessage(f.value).map((g) =>
          g.field === nodeField ? renameString(g, from, to) : g,
        );
        return { ...f, value: encodeFields(node) };
      }
      return f;
    }),
  );
}

/** Renames a graph input and every node input that reads it (so the model still loads). */
export function renameGraphInput(model: Uint8Array, from: string, to: string): Uint8Array {
  return renameGraphValue(model, from, to, GRAPH_INPUT, NODE_INPUT);
}

/** Removes a graph output (the node producing it stays; its value is just no longer an output). */
export function dropGraphOutput(model: Uint8Array, name: string): Uint8Array {
  return editGraph(model, (graph) =>
    graph.filter(
      (f) =>
        !(
          f.field === GRAPH_OUTPUT &&
          f.wireType === WireType.LengthDelimited &&
          valueInfoName(f.value) === name
        ),
    ),
  );
}

/** Replaces one metadata_props value (or adds the key). */
export function setMetadata(model: Uint8Array, key: string, value: string): Uint8Array {
  let found = false;
  const fields = decodeMessage(model).map((f) => {
    if (f.field !== 14 || f.wireType !== WireType.LengthDelimited) return f;
    const entry = decodeMessage(f.value);
    const k = entry.find((e) => e.field === 1);
    if (k?.wireType !== WireType.LengthDelimited || utf8.decode(k.value) !== key) return f;
    found = true;
    return { ...f, value: concat(bytesField(1, key), bytesField(2, value)) };
  });
  const out = encodeFields(fields);
  return found
    ? out
    : concat(out, bytesField(14, concat(bytesField(1, key), bytesField(2, value))));
}

/** Renames a graph output and the node output that produces it (so the model still loads). */
export function renameGraphOutput(model: Uint8Array, from: string, to: string): Uint8Array {
  return renameGraphValue(model, from, to, GRAPH_OUTPUT, NODE_OUTPUT);
}

const NODE_OP_TYPE = 4;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_ELEM_TYPE = 1;

/** Changes the declared element type (TensorProto.DataType, e.g. 7 = int64) of a graph input. */
export function setGraphInputElemType(
  model: Uint8Array,
  name: string,
  elemType: number,
): Uint8Array {
  const retype = (fields: ProtoField[], field: number, edit: (f: ProtoField[]) => ProtoField[]) =>
    fields.map((f) =>
      f.field === field && f.wireType === WireType.LengthDelimited
        ? { ...f, value: encodeFields(edit(decodeMessage(f.value))) }
        : f,
    );
  return editGraph(model, (graph) =>
    graph.map((f) => {
      if (f.field !== GRAPH_INPUT || f.wireType !== WireType.LengthDelimited) return f;
      if (valueInfoName(f.value) !== name) return f;
      const info = retype(decodeMessage(f.value), VALUE_INFO_TYPE, (type) =>
        retype(type, TYPE_TENSOR, (tensor) =>
          tensor.map((t) =>
            t.field === TENSOR_ELEM_TYPE && t.wireType === WireType.Varint
              ? { ...t, value: BigInt(elemType) }
              : t,
          ),
        ),
      );
      return { ...f, value: encodeFields(info) };
    }),
  );
}

/** Changes the op_type of the first node of type `from` (e.g. to an operator no runtime knows). */
export function setFirstNodeOpType(model: Uint8Array, from: string, to: string): Uint8Array {
  let done = false;
  return editGraph(model, (graph) =>
    graph.map((f) => {
      if (done || f.field !== GRAPH_NODE || f.wireType !== WireType.LengthDelimited) return f;
      const node = decodeMessage(f.value);
      const op = node.find((g) => g.field === NODE_OP_TYPE);
      if (op?.wireType !== WireType.LengthDelimited || utf8.decode(op.value) !== from) return f;
      done = true;
      return {
        ...f,
        value: encodeFields(
          node.map((g) => (g.field === NODE_OP_TYPE ? renameString(g, from, to) : g)),
        ),
      };
    }),
  );
}

/** Replaces ModelProto.ir_version. */
export function setIrVersion(model: Uint8Array, irVersion: number): Uint8Array {
  return encodeFields(
    decodeMessage(model).map((f) =>
      f.field === 1 && f.wireType === WireType.Varint ? { ...f, value: BigInt(irVersion) } : f,
    ),
  );
}

/** A graph input or output for graphBytes: a tensor of an element type and shape. */
export interface ValueSpec {
  name: string;
  /** onnxruntime's type name ('float32', 'int64', …); undefined: no element type declared. */
  type?: string | undefined;
  /** Sizes, dim_param names, or null for a dimension with neither; undefined: no shape. */
  shape?: readonly (number | string | null)[] | undefined;
  /** A sequence instead of a tensor. */
  sequence?: boolean | undefined;
}

const ELEM_TYPES: Record<string, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 };

/** Encodes a ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape } } }. */
export function valueInfoBytes(value: ValueSpec): Uint8Array {
  const tensor: Uint8Array[] = [];
  if (value.type !== undefined) {
    const elem = ELEM_TYPES[value.type];
    if (elem === undefined) throw new Error(`no element type number for ${value.type}`);
    tensor.push(varintField(1, elem));
  }
  if (value.shape !== undefined) {
    const dims = value.shape.map((d) =>
      bytesField(
        1,
        d === null
          ? new Uint8Array()
          : typeof d === 'number'
            ? varintField(1, d)
            : bytesField(2, d),
      ),
    );
    tensor.push(bytesField(2, concat(...dims)));
  }
  // TypeProto: 1 tensor_type, 4 sequence_type (holding a TypeProto).
  const tensorType = bytesField(1, concat(...tensor));
  const type = value.sequence === true ? bytesField(4, tensorType) : tensorType;
  return concat(bytesField(1, value.name), bytesField(2, type));
}

/** Encodes a TensorProto initializer: dims, float data type, name, raw_data. */
export function initializerBytes(name: string, raw: Uint8Array): Uint8Array {
  return concat(
    varintField(1, raw.length / 4),
    varintField(2, 1),
    bytesField(8, name),
    bytesField(9, raw),
  );
}

/** What a hand-built GraphProto holds (nodes are opaque bytes; the readers never decode them). */
export interface GraphSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: { name: string; raw: Uint8Array }[] | undefined;
  nodes?: Uint8Array[] | undefined;
}

/** Encodes a GraphProto: nodes (1), name (2), initializers (5), inputs (11), outputs (12). */
export function graphBytes(spec: GraphSpec): Uint8Array {
  return concat(
    ...(spec.nodes ?? []).map((n) => bytesField(1, n)),
    bytesField(2, 'hand-built'),
    ...(spec.initializers ?? []).map((i) => bytesField(5, initializerBytes(i.name, i.raw))),
    ...spec.inputs.map((v) => bytesField(11, valueInfoBytes(v))),
    ...spec.outputs.map((v) => bytesField(12, valueInfoBytes(v))),
  );
}

const GRAPH_INITIALIZER = 5;

/**
 * Turns a float32 graph input into an initializer of `values` with `dims` (the graph then has
 * no such input: what a model that never declared it sees, with that constant in its place).
 */
export function graphInputToInitializer(
  model: Uint8Array,
  name: string,
  dims: number[],
  values: Float32Array,
): Uint8Array {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const tensor = concat(
    ...dims.map((d) => varintField(1, d)),
    varintField(2, 1),
    bytesField(8, name),
    bytesField(9, raw),
  );
  return editGraph(model, (graph) => [
    ...graph.filter(
      (f) =>
        !(
          f.field === GRAPH_INPUT &&
          f.wireType === WireType.LengthDelimited &&
          valueInfoName(f.value) === name
        ),
    ),
    { field: GRAPH_INITIALIZER, wireType: WireType.LengthDelimited, value: tensor },
  ]);
}

// readOnnxModelInfo: what an ONNX file says about itself (ir_version, opsets, producer,
// `metadata_props`) read without decoding its graph.
import { open } from 'node:fs/promises';
import { FileProtoReader, type FieldHeader } from './fileProtoReader';
import { ProtoWireError, WireType, decodeMessage, decodeUtf8, type ProtoField } from './protoWire';

/** One entry of ModelProto.opset_import. The default ONNX domain is the empty string. */
export interface OpsetImport {
  domain: string;
  version: number;
}

/** What an ONNX file says about itself, read without decoding its graph. */
export interface OnnxModelInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: OpsetImport[];
  /** ModelProto.metadata_props in file order. */
  metadata: ReadonlyMap<string, string>;
  /** Size of the serialised graph in bytes (skipped, not read). */
  graphBytes: number;
}

/** Thrown when a file is not a readable ONNX model; the message starts with "not an ONNX model". */
export class OnnxModelError extends Error {
  override name = 'OnnxModelError';
}

// ModelProto field numbers (onnx.proto3).
const IR_VERSION = 1;
const PRODUCER_NAME = 2;
const PRODUCER_VERSION = 3;
const GRAPH = 7;
const OPSET_IMPORT = 8;
const METADATA_PROPS = 14;

/**
 * Reads ir_version, producer, opset_import and metadata_props from an ONNX file. The graph
 * (field 7, which holds the weights) is skipped by moving the file position, so the cost does
 * not grow with the model's size.
 */
export async function readOnnxModelInfo(path: string): Promise<OnnxModelInfo> {
  return readOnnxFile(path, readFields);
}

/**
 * Runs `read` on the file's ModelProto and closes the file; a broken structure becomes
 * OnnxModelError ("not an ONNX model: <path>: …").
 */
export async function readOnnxFile<T>(
  path: string,
  read: (reader: FileProtoReader) => Promise<T>,
): Promise<T> {
  const handle = await open(path, 'r');
  try {
    return await read(await FileProtoReader.open(handle));
  } catch (error) {
    if (error instanceof ProtoWireError || error instanceof OnnxModelError) {
      throw new OnnxModelError(`not an ONNX model: ${path}: ${error.message}`);
    }
    throw error;
  } finally {
    await handle.close();
  }
}

async function readFields(reader: FileProtoReader): Promise<OnnxModelInfo> {
  if (reader.byteLength === 0) throw new OnnxModelError('the file is empty');
  let irVersion: number | undefined;
  let graphBytes: number | undefined;
  let producerName = '';
  let producerVersion = '';
  const opsetImports: OpsetImport[] = [];
  const metadata = new Map<string, string>();
  for (let header = await reader.next(); header; header = await reader.next()) {
    switch (header.field) {
      case IR_VERSION:
        irVersion = toSafeNumber(expectVarint(header, 'ir_version'), 'ir_version');
        break;
      case PRODUCER_NAME:
        producerName = decodeUtf8(
          await expectBytes(reader, header, 'producer_name'),
          'producer_name',
        );
        break;
      case PRODUCER_VERSION:
        producerVersion = decodeUtf8(
          await expectBytes(reader, header, 'producer_version'),
          'producer_version',
        );
        break;
      case GRAPH:
        expectLengthDelimited(header, 'graph');
        graphBytes = header.payloadSize;
        break;
      case OPSET_IMPORT:
        opsetImports.push(parseOpsetImport(await expectBytes(reader, header, 'opset_import')));
        break;
      case METADATA_PROPS: {
        const [key, value] = parseStringEntry(await expectBytes(reader, header, 'metadata_props'));
        if (metadata.has(key)) throw new OnnxModelError(`metadata key "${key}" appears twice`);
        metadata.set(key, value);
        break;
      }
      default:
        break; // doc_string, functions, training_info, ...: skipped by reader.next()
    }
  }
  if (irVersion === undefined) throw new OnnxModelError('no ir_version field');
  if (graphBytes === undefined) throw new OnnxModelError('no graph field');
  return { irVersion, producerName, producerVersion, opsetImports, metadata, graphBytes };
}

function expectVarint(header: FieldHeader, name: string): bigint {
  if (header.wireType !== WireType.Varint || header.varint === undefined) {
    throw new OnnxModelError(`${name} has wire type ${header.wireType}, expected a varint`);
  }
  return header.varint;
}

function expectLengthDelimited(header: FieldHeader, name: string): void {
  if (header.wireType !== WireType.LengthDelimited) {
    throw new OnnxModelError(`${name} has wire type ${header.wireType}, expected bytes`);
  }
}

async function expectBytes(
  reader: FileProtoReader,
  header: FieldHeader,
  name: string,
): Promise<Uint8Array> {
  expectLengthDelimited(header, name);
  return reader.payload(header);
}

function toSafeNumber(value: bigint, name: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new OnnxModelError(`${name} is too large`);
  return Number(value);
}

/** OperatorSetIdProto { 1: domain (string), 2: version (int64) }. */
function parseOpsetImport(bytes: Uint8Array): OpsetImport {
  let domain = '';
  let version: number | undefined;
  for (const f of decodeMessage(bytes)) {
    if (f.field === 1) domain = decodeUtf8(stringBytes(f, 'opset_import.domain'), 'opset domain');
    if (f.field === 2) {
      if (f.wireType !== WireType.Varint) throw new OnnxModelError('opset version is not a varint');
      version = toSafeNumber(f.value, 'opset version');
    }
  }
  if (version === undefined) throw new OnnxModelError(`opset_import "${domain}" has no version`);
  return { domain, version };
}

/** StringStringEntryProto { 1: key, 2: value }. */
function parseStringEntry(bytes: Uint8Array): [string, string] {
  let key: string | undefined;
  let value = '';
  for (const f of decodeMessage(bytes)) {
    if (f.field === 1) key = decodeUtf8(stringBytes(f, 'metadata key'), 'metadata key');
    if (f.field === 2) value = decodeUtf8(stringBytes(f, 'metadata value'), 'metadata value');
  }
  if (key === undefined) throw new OnnxModelError('a metadata_props entry has no key');
  return [key, value];
}

function stringBytes(f: ProtoField, name: string): Uint8Array {
  if (f.wireType !== WireType.LengthDelimited) {
    throw new OnnxModelError(`${name} has wire type ${f.wireType}, expected a string`);
  }
  return f.value;
}

// Reads a protobuf message stored in a file field by field, skipping payloads by position, so a
// large graph is never read into memory.
import type { FileHandle } from 'node:fs/promises';
import { MAX_VARINT_BYTES, ProtoWireError, WireType, splitTag } from './protoWire';

/** A top-level field header: where its payload starts and how long it is. */
export interface FieldHeader {
  field: number;
  wireType: WireType;
  /** File offset of the tag. */
  tagOffset: number;
  /** For varints: the value. */
  varint?: bigint;
  /** For length-delimited and fixed fields: payload offset and size in bytes. */
  payloadOffset: number;
  payloadSize: number;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Walks the top-level fields of a protobuf message stored in a file, reading only tags, varints
 * and the payloads the caller asks for; skipping a field only moves the position, so a
 * multi-gigabyte graph is never read.
 */
export class FileProtoReader {
  private position = 0;
  private chunk = Buffer.alloc(0);
  private chunkStart = 0;

  private constructor(
    private readonly handle: FileHandle,
    /** Where this message's bytes end in the file (the file size for the top level). */
    private readonly size: number,
    start = 0,
  ) {
    this.position = start;
  }

  /** Opens a reader over an already opened file. */
  static async open(handle: FileHandle): Promise<FileProtoReader> {
    const stat = await handle.stat();
    return new FileProtoReader(handle, stat.size);
  }

  /** File size in bytes (for a nested reader: the offset where its message ends). */
  get byteLength(): number {
    return this.size;
  }

  /**
   * A reader over the fields of a length-delimited field's payload (a nested message), with the
   * same skip-by-position walk: a GraphProto's initializers are stepped over, never read.
   */
  nested(header: FieldHeader): FileProtoReader {
    if (header.wireType !== WireType.LengthDelimited) {
      throw new ProtoWireError(
        `field ${header.field} at byte ${header.tagOffset} is not a message`,
      );
    }
    return new FileProtoReader(
      this.handle,
      header.payloadOffset + header.payloadSize,
      header.payloadOffset,
    );
  }

  /** Reads the next field header, or returns undefined at the end of the file. */
  async next(): Promise<FieldHeader | undefined> {
    if (this.position >= this.size) return undefined;
    const tagOffset = this.position;
    const { field, wireType } = splitTag(await this.readVarint(), tagOffset);
    if (wireType === WireType.Varint) {
      const varint = await this.readVarint();
      return { field, wireType, tagOffset, varint, payloadOffset: this.position, payloadSize: 0 };
    }
    let payloadSize: number;
    if (wireType === WireType.LengthDelimited) {
      const length = await this.readVarint();
      if (length > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new ProtoWireError(`field ${field} at byte ${tagOffset} has an absurd length`);
      }
      payloadSize = Number(length);
    } else {
      payloadSize = wireType === WireType.Fixed32 ? 4 : 8;
    }
    const payloadOffset = this.position;
    if (payloadOffset + payloadSize > this.size) {
      throw new ProtoWireError(
        `field ${field} at byte ${tagOffset} needs ${payloadSize} bytes but its message ends ` +
          `after ${this.size - payloadOffset}`,
      );
    }
    this.position = payloadOffset + payloadSize;
    return { field, wireType, tagOffset, payloadOffset, payloadSize };
  }

  /** Reads a field's payload into memory (only for fields the caller needs, which are small). */
  async payload(header: FieldHeader): Promise<Uint8Array> {
    const out = Buffer.alloc(header.payloadSize);
    let filled = 0;
    while (filled < out.length) {
      const { bytesRead } = await this.handle.read(
        out,
        filled,
        out.length - filled,
        header.payloadOffset + filled,
      );
      if (bytesRead === 0) throw new ProtoWireError('file shrank while being read');
      filled += bytesRead;
    }
    return out;
  }

  private async readVarint(): Promise<bigint> {
    const start = this.position;
    let value = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = await this.readByte(start);
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return value;
    }
    throw new ProtoWireError(`varint longer than ${MAX_VARINT_BYTES} bytes at byte ${start}`);
  }

  private async readByte(varintStart: number): Promise<number> {
    if (this.position >= this.size) {
      throw new ProtoWireError(`truncated varint at byte ${varintStart}`);
    }
    let index = this.position - this.chunkStart;
    if (index < 0 || index >= this.chunk.length) {
      const length = Math.min(CHUNK_BYTES, this.size - this.position);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await this.handle.read(chunk, 0, length, this.position);
      this.chunk = chunk.subarray(0, bytesRead);
      this.chunkStart = this.position;
      index = 0;
      if (bytesRead === 0) throw new ProtoWireError('file shrank while being read');
    }
    this.position++;
    return this.chunk[index] as number;
  }
}

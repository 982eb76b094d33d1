// The protobuf wire format on in-memory bytes: varints, tags, one message's fields, UTF-8 text.
/** Protobuf wire types (the low three bits of a field's tag). */
export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

/** One decoded field of a small in-memory message: varints as bigint, bytes as a view. */
export type ProtoField =
  | { field: number; wireType: WireType.Varint; value: bigint }
  | { field: number; wireType: WireType.LengthDelimited; value: Uint8Array }
  | { field: number; wireType: WireType.Fixed32 | WireType.Fixed64; value: Uint8Array };

/** Thrown when bytes are not a well-formed protobuf message. */
export class ProtoWireError extends Error {
  override name = 'ProtoWireError';
}

/** Longest legal varint (64-bit value, 7 bits per byte). */
export const MAX_VARINT_BYTES = 10;

/** Decodes a varint at `offset`; returns the value and the offset after it. */
export function decodeVarint(bytes: Uint8Array, offset: number): { value: bigint; next: number } {
  let value = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const at = offset + i;
    if (at >= bytes.length) throw new ProtoWireError(`truncated varint at byte ${offset}`);
    const byte = bytes[at] as number;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + 1 };
  }
  throw new ProtoWireError(`varint longer than ${MAX_VARINT_BYTES} bytes at byte ${offset}`);
}

/** Splits a tag varint into field number and wire type, rejecting what protobuf forbids. */
export function splitTag(tag: bigint, offset: number): { field: number; wireType: WireType } {
  const field = tag >> 3n;
  const wireType = Number(tag & 7n);
  if (field === 0n || field > 0x1fffffffn) {
    throw new ProtoWireError(`invalid field number ${field} at byte ${offset}`);
  }
  if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
    throw new ProtoWireError(`unsupported wire type ${wireType} at byte ${offset}`);
  }
  return { field: Number(field), wireType };
}

/** Decodes every field of a small message held in memory (used for metadata entries). */
export function decodeMessage(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const tagAt = offset;
    const tag = decodeVarint(bytes, offset);
    const { field, wireType } = splitTag(tag.value, tagAt);
    offset = tag.next;
    if (wireType === WireType.Varint) {
      const v = decodeVarint(bytes, offset);
      fields.push({ field, wireType, value: v.value });
      offset = v.next;
      continue;
    }
    let size: number;
    if (wireType === WireType.LengthDelimited) {
      const len = decodeVarint(bytes, offset);
      offset = len.next;
      size = Number(len.value);
    } else {
      size = wireType === WireType.Fixed32 ? 4 : 8;
    }
    if (offset + size > bytes.length) {
      throw new ProtoWireError(`field ${field} at byte ${tagAt} runs past the end of its message`);
    }
    const value = bytes.subarray(offset, offset + size);
    offset += size;
    if (wireType === WireType.LengthDelimited) fields.push({ field, wireType, value });
    else fields.push({ field, wireType: wireType as WireType.Fixed32 | WireType.Fixed64, value });
  }
  return fields;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a protobuf `string` field's bytes, rejecting invalid UTF-8. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtoWireError(`${what} is not valid UTF-8`);
  }
}

// A minimal protobuf wire-format reader: walks the fields of one message by byte range, decoding nothing it is not asked for.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message: `keyStart` is where its key begins, [start, end) its payload (for varints, the varint bytes). */
export interface WireField {
  number: number;
  wireType: number;
  keyStart: number;
  start: number;
  end: number;
  /** The value of a varint field; exact up to 2^53 (an int64 of -1 reads as ~1.8e19). */
  varint?: number;
}

/** Thrown for bytes that are not a well-formed protobuf message (truncated, or a wire type proto3/proto2 never writes). */
export class ProtobufFormatError extends Error {
  override readonly name = 'ProtobufFormatError';
}

export function readVarint(buf: Uint8Array, pos: number, end = buf.length): [number, number] {
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ProtobufFormatError('truncated varint');
    const byte = buf[pos++] as number;
    result += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [result, pos];
    multiplier *= 128;
  }
  throw new ProtobufFormatError('varint longer than 10 bytes');
}

/** Top-level fields of one message in buf[start, end), in file order. Throws ProtobufFormatError on malformed bytes. */
export function* fields(buf: Uint8Array, start: number, end: number): Generator<WireField> {
  let pos = start;
  while (pos < end) {
    const keyStart = pos;
    const [key, afterKey] = readVarint(buf, pos, end);
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (number === 0) throw new ProtobufFormatError('field number 0');
    pos = afterKey;
    let field: WireField;
    if (wireType === WIRE_VARINT) {
      const [value, next] = readVarint(buf, pos, end);
      field = { number, wireType, keyStart, start: pos, end: next, varint: value };
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const [length, next] = readVarint(buf, pos, end);
      field = { number, wireType, keyStart, start: next, end: next + length };
    } else if (wireType === WIRE_FIXED64) {
      field = { number, wireType, keyStart, start: pos, end: pos + 8 };
    } else if (wireType === WIRE_FIXED32) {
      field = { number, wireType, keyStart, start: pos, end: pos + 4 };
    } else {
      throw new ProtobufFormatError(`unsupported protobuf wire type ${wireType}`);
    }
    if (field.end > end) throw new ProtobufFormatError('truncated protobuf message');
    pos = field.end;
    yield field;
  }
}

/** The UTF-8 text of a length-delimited field. */
export function fieldText(buf: Uint8Array, field: WireField): string {
  return Buffer.from(buf.buffer, buf.byteOffset + field.start, field.end - field.start).toString('utf8');
}

/** The values of a repeated varint field, packed (one length-delimited field) or not (one varint field each). */
export function repeatedVarints(buf: Uint8Array, field: WireField, into: number[]): void {
  if (field.wireType === WIRE_VARINT) {
    into.push(field.varint ?? 0);
    return;
  }
  if (field.wireType !== WIRE_LENGTH_DELIMITED) throw new ProtobufFormatError(`field ${field.number}: not a varint field`);
  for (let pos = field.start; pos < field.end; ) {
    const [value, next] = readVarint(buf, pos, field.end);
    into.push(value);
    pos = next;
  }
}

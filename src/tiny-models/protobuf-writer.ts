// A minimal protobuf wire-format encoder (varints, fixed32, length-delimited fields): enough to write ONNX's few messages without a protobuf library.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/**
 * Appends fields to a growing byte buffer. Fields are written in call order, so callers write them in
 * field-number order, as protobuf's reference encoders do: the output is then the canonical encoding.
 */
export class ProtoWriter {
  private bytes = new Uint8Array(256);
  private length = 0;

  private room(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** An unsigned varint; `value` is a non-negative integer up to 2^53, or any 64-bit pattern as a bigint. */
  varint(value: number | bigint): this {
    let rest = BigInt(value);
    if (rest < 0n) throw new Error(`varint of a negative value ${value}`);
    this.room(10);
    while (rest >= 0x80n) {
      this.bytes[this.length++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.bytes[this.length++] = Number(rest);
    return this;
  }

  private key(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  /** An int32/int64 field: negative values are sign-extended to 64 bits (ten bytes), as protobuf specifies. */
  int(field: number, value: number): this {
    return this.key(field, WIRE_VARINT).varint(value < 0 ? BigInt.asUintN(64, BigInt(value)) : value);
  }

  /** A float field, little-endian IEEE binary32. */
  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32).room(4);
    new DataView(this.bytes.buffer).setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  /** A bytes field, or an embedded message's encoding. */
  bytesField(field: number, value: Uint8Array): this {
    this.lengthPrefix(field, value.length).room(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  /** Only the key and length of a length-delimited field, for content that is written after it (streamed). */
  lengthPrefix(field: number, byteLength: number): this {
    return this.key(field, WIRE_LENGTH_DELIMITED).varint(byteLength);
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

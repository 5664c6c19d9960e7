// Streaming GGUF v3 writer: plans every offset from shapes up front, then writes tensor data to disk chunk by chunk.
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { encodedByteSize, type GgmlEncoding } from './ggml-encodings.ts';

/** GGUF metadata value type ids, as in the GGUF specification. */
export const GGUF_VALUE_TYPES = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** Numeric scalar types that fit a JS number exactly. */
export type GgufNumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
/** 64-bit integer types, given as bigint (or a safe-integer number). */
export type GgufBigIntType = 'uint64' | 'int64';

/** One metadata value, tagged with its GGUF type so the bytes are unambiguous. */
export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint | number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; value: readonly string[] }
  | { type: 'array'; itemType: 'bool'; value: readonly boolean[] }
  | { type: 'array'; itemType: GgufNumberType; value: ArrayLike<number> }
  | { type: 'array'; itemType: GgufBigIntType; value: readonly bigint[] };

/** Short constructors for metadata values. */
export const gv = {
  uint32: (value: number): GgufValue => ({ type: 'uint32', value }),
  int32: (value: number): GgufValue => ({ type: 'int32', value }),
  float32: (value: number): GgufValue => ({ type: 'float32', value }),
  uint64: (value: bigint | number): GgufValue => ({ type: 'uint64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  string: (value: string): GgufValue => ({ type: 'string', value }),
  stringArray: (value: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', value }),
  float32Array: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'float32', value }),
  int32Array: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'int32', value }),
} as const;

/** Metadata in file order. */
export type GgufMetadata = ReadonlyArray<readonly [key: string, value: GgufValue]>;

/** Source of a tensor's values: element order is ne0 fastest; chunks may be any length. Called once, at write time. */
export type TensorValues = () => Iterable<Float32Array> | AsyncIterable<Float32Array>;

/** A tensor to write. */
export interface GgufTensorSpec {
  name: string;
  /** Dimensions in ggml order: ne0 (the contiguous row length) first. */
  dims: readonly number[];
  encoding: GgmlEncoding;
  values: TensorValues;
}

/** Where everything lands in the file, known before a byte of tensor data is produced. */
export interface GgufLayout {
  alignment: number;
  /** Absolute file offset where tensor data starts (header plus padding). */
  dataOffset: number;
  tensors: Array<{ name: string; type: string; dims: number[]; elements: number; offset: number; byteLength: number }>;
  totalBytes: number;
  parameterCount: number;
}

/** Default `general.alignment` of GGUF. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Growable little-endian byte builder for the (small) header part. */
class ByteBuilder {
  private buf = Buffer.alloc(64 * 1024);
  length = 0;

  /** Appends n bytes and returns the (possibly regrown) buffer; they sit at [length - n, length). */
  private room(n: number): Buffer {
    if (this.length + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.length += n;
    return this.buf;
  }
  u8(v: number): void {
    this.room(1).writeUInt8(v, this.length - 1);
  }
  u32(v: number): void {
    this.room(4).writeUInt32LE(v, this.length - 4);
  }
  u64(v: bigint | number): void {
    this.room(8).writeBigUInt64LE(BigInt(v), this.length - 8);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    bytes.copy(this.room(bytes.length), this.length - bytes.length);
  }
  scalar(type: GgufNumberType | GgufBigIntType | 'bool' | 'string', v: number | bigint | boolean | string): void {
    const n = typeof v === 'number' ? v : Number(v);
    switch (type) {
      case 'uint8':
        this.room(1).writeUInt8(n, this.length - 1);
        break;
      case 'int8':
        this.room(1).writeInt8(n, this.length - 1);
        break;
      case 'uint16':
        this.room(2).writeUInt16LE(n, this.length - 2);
        break;
      case 'int16':
        this.room(2).writeInt16LE(n, this.length - 2);
        break;
      case 'uint32':
        this.room(4).writeUInt32LE(n, this.length - 4);
        break;
      case 'int32':
        this.room(4).writeInt32LE(n, this.length - 4);
        break;
      case 'float32':
        this.room(4).writeFloatLE(n, this.length - 4);
        break;
      case 'float64':
        this.room(8).writeDoubleLE(n, this.length - 8);
        break;
      case 'uint64':
        this.u64(typeof v === 'bigint' ? v : n);
        break;
      case 'int64':
        this.room(8).writeBigInt64LE(BigInt(typeof v === 'bigint' ? v : n), this.length - 8);
        break;
      case 'bool':
        this.u8(v ? 1 : 0);
        break;
      case 'string':
        this.str(String(v));
        break;
    }
  }
  zeros(n: number): void {
    this.room(n).fill(0, this.length - n, this.length);
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(b: ByteBuilder, value: GgufValue): void {
  if (value.type !== 'array') {
    b.u32(GGUF_VALUE_TYPES[value.type]);
    b.scalar(value.type, value.value);
    return;
  }
  b.u32(GGUF_VALUE_TYPES.array);
  b.u32(GGUF_VALUE_TYPES[value.itemType]);
  b.u64(value.value.length);
  // Array.from: number arrays may be typed arrays, which are only array-like here.
  for (const item of Array.from<number | bigint | boolean | string>(value.value)) b.scalar(value.itemType, item);
}

function alignmentOf(metadata: GgufMetadata): number {
  const entry = metadata.find(([key]) => key === 'general.alignment');
  if (!entry) return GGUF_DEFAULT_ALIGNMENT;
  const v = entry[1];
  if (v.type !== 'uint32' || !Number.isInteger(v.value) || v.value <= 0 || v.value % 8 !== 0) {
    throw new Error(`general.alignment must be a uint32 multiple of 8, got ${v.type} ${String(v.value)}`);
  }
  return v.value;
}

function validateTensor(t: GgufTensorSpec): number {
  const [rowLength] = t.dims;
  if (rowLength === undefined || t.dims.length > 4) throw new Error(`tensor ${t.name}: needs 1 to 4 dims, got ${t.dims.length}`);
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new Error(`tensor ${t.name}: dims must be positive integers, got [${t.dims.join(', ')}]`);
  }
  const { name, blockElements } = t.encoding;
  if (rowLength % blockElements !== 0) {
    throw new Error(`tensor ${t.name}: ggml type ${name} needs the row length (ne0 = ${rowLength}) to be a multiple of ${blockElements}`);
  }
  return t.dims.reduce((a, b) => a * b, 1);
}

/** Computes the header bytes and every tensor offset without producing tensor data. */
export function planGguf(metadata: GgufMetadata, tensors: readonly GgufTensorSpec[]): { header: Buffer; layout: GgufLayout } {
  const alignment = alignmentOf(metadata);
  const seen = new Set<string>();
  /** Each planned tensor with its ggml type id, which the tensor infos need and the layout does not keep. */
  const planned: Array<{ tensor: GgufLayout['tensors'][number]; typeId: number }> = [];
  let cursor = 0;
  let parameterCount = 0;
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`duplicate tensor name ${t.name}`);
    seen.add(t.name);
    const elements = validateTensor(t);
    cursor = alignUp(cursor, alignment);
    const byteLength = encodedByteSize(t.encoding, elements);
    const tensor = { name: t.name, type: t.encoding.name, dims: [...t.dims], elements, offset: cursor, byteLength };
    planned.push({ tensor, typeId: t.encoding.id });
    cursor += byteLength;
    parameterCount += elements;
  }

  const b = new ByteBuilder();
  b.u32(0x46554747); // 'GGUF' as little-endian bytes
  b.u32(3);
  b.u64(tensors.length);
  b.u64(metadata.length);
  const keys = new Set<string>();
  for (const [key, value] of metadata) {
    if (keys.has(key)) throw new Error(`duplicate metadata key ${key}`);
    keys.add(key);
    b.str(key);
    writeValue(b, value);
  }
  for (const { tensor: t, typeId } of planned) {
    b.str(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(typeId);
    b.u64(t.offset);
  }
  const dataOffset = alignUp(b.length, alignment);
  b.zeros(dataOffset - b.length);
  return {
    header: b.toBuffer(),
    layout: { alignment, dataOffset, tensors: planned.map(({ tensor }) => tensor), totalBytes: dataOffset + cursor, parameterCount },
  };
}

/** Writes all of buf[0, length) at the handle's current position (fs writes may be partial). */
async function writeAll(fh: FileHandle, buf: Buffer, length: number): Promise<void> {
  for (let off = 0; off < length; ) off += (await fh.write(buf, off, length - off)).bytesWritten;
}

/** Buffers encoded bytes and writes them through the file handle once the buffer is full. */
class ChunkedSink {
  readonly buf: Buffer;
  used = 0;

  constructor(
    private readonly fh: FileHandle,
    chunkBytes: number,
    public written: number,
  ) {
    this.buf = Buffer.alloc(chunkBytes);
  }
  get room(): number {
    return this.buf.length - this.used;
  }
  get position(): number {
    return this.written + this.used;
  }

  async flush(): Promise<void> {
    await writeAll(this.fh, this.buf, this.used);
    this.written += this.used;
    this.used = 0;
  }
  async zeros(n: number): Promise<void> {
    while (n > 0) {
      if (this.room === 0) await this.flush();
      const k = Math.min(this.room, n);
      this.buf.fill(0, this.used, this.used + k);
      this.used += k;
      n -= k;
    }
  }
}

/** Encodes one tensor's value stream into the sink, carrying partial quant blocks across chunk boundaries. */
async function streamTensor(sink: ChunkedSink, spec: GgufTensorSpec, elements: number): Promise<void> {
  const { blockElements, blockBytes, write: writeBlocks } = spec.encoding;
  const pending = new Float32Array(blockElements);
  let pendingCount = 0;
  let seen = 0;

  // Writes `count` whole blocks from src[start…], flushing whenever the buffer fills.
  const emit = async (src: Float32Array, start: number, count: number): Promise<void> => {
    while (count > 0) {
      let fit = Math.floor(sink.room / blockBytes);
      if (fit === 0) {
        await sink.flush();
        fit = Math.floor(sink.room / blockBytes);
      }
      const n = Math.min(fit, count);
      writeBlocks(sink.buf, sink.used, src, start, n);
      sink.used += n * blockBytes;
      start += n * blockElements;
      count -= n;
    }
  };

  for await (const chunk of spec.values()) {
    seen += chunk.length;
    if (seen > elements) throw new Error(`tensor ${spec.name}: values produced more than ${elements} elements`);
    let i = 0;
    if (pendingCount > 0) {
      const take = Math.min(blockElements - pendingCount, chunk.length);
      pending.set(chunk.subarray(0, take), pendingCount);
      pendingCount += take;
      i = take;
      if (pendingCount === blockElements) {
        await emit(pending, 0, 1);
        pendingCount = 0;
      }
    }
    const whole = Math.floor((chunk.length - i) / blockElements);
    await emit(chunk, i, whole);
    i += whole * blockElements;
    if (i < chunk.length) {
      pending.set(chunk.subarray(i), 0);
      pendingCount = chunk.length - i;
    }
  }
  if (seen !== elements) throw new Error(`tensor ${spec.name}: values produced ${seen} elements, expected ${elements}`);
}

/** Options for {@link writeGguf}. */
export interface WriteGgufOptions {
  /** Size of the write buffer in bytes; memory use stays near this regardless of file size. Default 4 MiB (minimum 64). */
  chunkBytes?: number;
}

/**
 * Writes a GGUF v3 file. The header is built in memory; tensor data is pulled from each
 * tensor's `values` generator and streamed to disk, so multi-GB files need only `chunkBytes` of buffer.
 */
export async function writeGguf(
  path: string,
  metadata: GgufMetadata,
  tensors: readonly GgufTensorSpec[],
  options: WriteGgufOptions = {},
): Promise<GgufLayout> {
  const { header, layout } = planGguf(metadata, tensors);
  const chunkBytes = Math.max(options.chunkBytes ?? 4 * 1024 * 1024, 64);
  const fh = await open(path, 'w');
  try {
    await writeAll(fh, header, header.length);
    const sink = new ChunkedSink(fh, chunkBytes, header.length);
    for (const [i, tensor] of tensors.entries()) {
      const planned = layout.tensors[i];
      if (!planned) throw new Error(`internal: no planned layout for tensor ${tensor.name}`);
      await sink.zeros(layout.dataOffset + planned.offset - sink.position);
      await streamTensor(sink, tensor, planned.elements);
    }
    await sink.flush();
    if (sink.written !== layout.totalBytes) {
      throw new Error(`internal: wrote ${sink.written} bytes, planned ${layout.totalBytes}`);
    }
  } catch (err) {
    // A truncated GGUF would look valid to header-only readers, so never leave one behind.
    await fh.close();
    await rm(path, { force: true });
    throw err;
  }
  await fh.close();
  return layout;
}

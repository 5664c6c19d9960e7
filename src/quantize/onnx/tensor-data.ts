// Reads an initializer's element bytes in bounded chunks, wherever they live: raw_data, float_data or an external-data file beside the model.
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ProtobufFormatError } from '../../store/protobuf-reader.ts';
import { TENSOR_TYPES, tensorTypeName, type InitializerInfo } from './onnx-model.ts';

/** Bytes per chunk: large enough for throughput, small enough that converting never holds a whole big tensor twice. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

/** Bytes per element of the fixed-size types (4-bit types are packed two per byte, handled by elementBytes). */
const ELEMENT_BYTES: Record<number, number> = {
  [TENSOR_TYPES.FLOAT]: 4,
  [TENSOR_TYPES.UINT8]: 1,
  [TENSOR_TYPES.INT8]: 1,
  [TENSOR_TYPES.UINT16]: 2,
  [TENSOR_TYPES.INT16]: 2,
  [TENSOR_TYPES.INT32]: 4,
  [TENSOR_TYPES.INT64]: 8,
  [TENSOR_TYPES.BOOL]: 1,
  [TENSOR_TYPES.FLOAT16]: 2,
  [TENSOR_TYPES.DOUBLE]: 8,
  [TENSOR_TYPES.UINT32]: 4,
  [TENSOR_TYPES.UINT64]: 8,
  [TENSOR_TYPES.COMPLEX64]: 8,
  [TENSOR_TYPES.COMPLEX128]: 16,
  [TENSOR_TYPES.BFLOAT16]: 2,
  [TENSOR_TYPES.FLOAT8E4M3FN]: 1,
  [TENSOR_TYPES.FLOAT8E4M3FNUZ]: 1,
  [TENSOR_TYPES.FLOAT8E5M2]: 1,
  [TENSOR_TYPES.FLOAT8E5M2FNUZ]: 1,
};
const PACKED_4BIT = new Set<number>([TENSOR_TYPES.UINT4, TENSOR_TYPES.INT4, TENSOR_TYPES.FLOAT4E2M1]);

/** The byte length of `count` elements of `dataType`, or undefined for variable-size types (strings). */
export function elementBytes(dataType: number, count: number): number | undefined {
  if (PACKED_4BIT.has(dataType)) return Math.ceil(count / 2);
  const size = ELEMENT_BYTES[dataType];
  return size === undefined ? undefined : size * count;
}

/** Open external-data files of one conversion, each opened once and closed together. */
export class ExternalFiles {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(private readonly modelFolder: string) {}

  /** The path `location` names, refused when it points outside the model's folder (a model must not read arbitrary files). */
  resolve(location: string): string {
    const resolved = path.resolve(this.modelFolder, location);
    const relative = path.relative(this.modelFolder, resolved);
    if (path.isAbsolute(location) || relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new ProtobufFormatError(`external data location "${location}" is outside the model's folder`);
    }
    return resolved;
  }

  /** Checks, before anything is written, that every external tensor's bytes are there. */
  async checkPresent(tensors: InitializerInfo[], bytes: Uint8Array): Promise<void> {
    for (const tensor of tensors) {
      if (tensor.data.kind !== 'external') continue;
      const { location, offset } = tensor.data;
      const end = offset + tensorBytes(bytes, tensor, this).byteLength;
      const size = await stat(this.resolve(location)).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === undefined) throw new ProtobufFormatError(`initializer ${tensor.name}: its external data file ${location} is missing`);
      if (size < end) throw new ProtobufFormatError(`initializer ${tensor.name}: ${location} ends at byte ${size}, before ${end}`);
    }
  }

  handle(location: string): Promise<FileHandle> {
    const resolved = this.resolve(location);
    let handle = this.handles.get(resolved);
    if (!handle) {
      handle = open(resolved, 'r');
      // A failed open is reported where the bytes are needed; this only keeps it from being an unhandled rejection.
      handle.catch(() => {});
      this.handles.set(resolved, handle);
    }
    return handle;
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map(async (h) => (await h).close()));
  }
}

/** An initializer's element bytes, re-readable; each yielded chunk is valid until the next is asked for. */
export interface TensorBytes {
  byteLength: number;
  chunks(chunkBytes?: number): AsyncIterable<Uint8Array>;
}

/** Where the bytes of `tensor` are and how long they are; throws ProtobufFormatError when they cannot be what its dims say. */
export function tensorBytes(bytes: Uint8Array, tensor: InitializerInfo, files: ExternalFiles): TensorBytes {
  const expected = elementBytes(tensor.dataType, tensor.elementCount);
  const { data } = tensor;
  const check = (byteLength: number): number => {
    if (expected !== undefined && byteLength !== expected) {
      throw new ProtobufFormatError(
        `initializer ${tensor.name}: ${byteLength} bytes of data for ${tensor.elementCount} ${tensorTypeName(tensor.dataType)} values (${expected} expected)`,
      );
    }
    return byteLength;
  };
  if (data.kind === 'raw' || data.kind === 'floatData') {
    // float_data is little-endian fixed32 values, packed in one field or one field per value: either way, byte ranges.
    const ranges: [number, number][] = data.kind === 'raw' ? [[data.start, data.end]] : data.fields.map((f) => [f.start, f.end]);
    const byteLength = check(ranges.reduce((n, [s, e]) => n + e - s, 0));
    return { byteLength, chunks: (chunkBytes = CHUNK_BYTES) => memoryChunks(bytes, ranges, chunkBytes) };
  }
  if (data.kind === 'external') {
    const byteLength = check(data.length ?? expected ?? 0);
    return { byteLength, chunks: (chunkBytes = CHUNK_BYTES) => fileChunks(files, data.location, data.offset, byteLength, chunkBytes) };
  }
  return { byteLength: check(0), chunks: async function* () {} };
}

/** Copies ranges of the model's bytes into one reused, aligned chunk (so callers can view it as any typed array). */
async function* memoryChunks(bytes: Uint8Array, ranges: [number, number][], chunkBytes: number): AsyncGenerator<Uint8Array> {
  const total = ranges.reduce((n, [s, e]) => n + e - s, 0);
  const chunk = new Uint8Array(Math.min(chunkBytes, total));
  let used = 0;
  for (const [start, end] of ranges) {
    for (let pos = start; pos < end; ) {
      const n = Math.min(end - pos, chunk.length - used);
      chunk.set(bytes.subarray(pos, pos + n), used);
      used += n;
      pos += n;
      if (used === chunk.length) {
        yield chunk;
        used = 0;
      }
    }
  }
  if (used > 0) yield chunk.subarray(0, used);
}

async function* fileChunks(
  files: ExternalFiles,
  location: string,
  offset: number,
  length: number,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  const fh = await files.handle(location);
  const chunk = new Uint8Array(Math.min(chunkBytes, length));
  for (let done = 0; done < length; ) {
    const want = Math.min(chunk.length, length - done);
    const { bytesRead } = await fh.read(chunk, 0, want, offset + done);
    if (bytesRead !== want) throw new ProtobufFormatError(`external data file ${location} ends before byte ${offset + length}`);
    done += want;
    yield want === chunk.length ? chunk : chunk.subarray(0, want);
  }
}

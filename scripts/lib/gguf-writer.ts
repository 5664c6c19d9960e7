// GGUF writing for fixtures: the server's streaming writer (src/tiny-models) with tensors typed by ggml name, plus in-memory encode/decode for tests.
import {
  planGguf as planEncodedGguf,
  writeGguf as writeEncodedGguf,
  type GgufLayout,
  type GgufMetadata,
  type TensorValues,
  type WriteGgufOptions,
} from '../../src/tiny-models/gguf-file-writer.ts';
import { GGML_TYPES, f16BitsToF32, tensorByteSize, type GgmlTypeName } from './ggml-blocks.ts';
import { decodeQ4_K, decodeQ6_K } from './ggml-kquants.ts';

export { GGML_TYPES, f16BitsToF32, f32ToF16Bits, tensorByteSize, type GgmlTypeInfo, type GgmlTypeName } from './ggml-blocks.ts';
export {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_VALUE_TYPES,
  gv,
  type GgufBigIntType,
  type GgufLayout,
  type GgufMetadata,
  type GgufNumberType,
  type GgufValue,
  type TensorValues,
  type WriteGgufOptions,
} from '../../src/tiny-models/gguf-file-writer.ts';

/** A tensor to write, its encoding named as ggml names it. */
export interface GgufTensorSpec {
  name: string;
  /** Dimensions in ggml order: ne0 (the contiguous row length) first. */
  dims: readonly number[];
  type: GgmlTypeName;
  values: TensorValues;
}

const encoded = (tensors: readonly GgufTensorSpec[]) => tensors.map(({ type, ...rest }) => ({ ...rest, encoding: GGML_TYPES[type] }));

/** Computes the header bytes and every tensor offset without producing tensor data. */
export function planGguf(metadata: GgufMetadata, tensors: readonly GgufTensorSpec[]): { header: Buffer; layout: GgufLayout } {
  return planEncodedGguf(metadata, encoded(tensors));
}

/** Writes a GGUF v3 file, streaming each tensor's values to disk (see the server's writer). */
export function writeGguf(
  path: string,
  metadata: GgufMetadata,
  tensors: readonly GgufTensorSpec[],
  options: WriteGgufOptions = {},
): Promise<GgufLayout> {
  return writeEncodedGguf(path, metadata, encoded(tensors), options);
}

/** Encodes values (a whole number of blocks) as `type`, in memory: for tests and small tensors. */
export function encodeValues(type: GgmlTypeName, values: Float32Array): Buffer {
  const out = Buffer.alloc(tensorByteSize(type, values.length));
  GGML_TYPES[type].write(out, 0, values, 0, values.length / GGML_TYPES[type].blockElements);
  return out;
}

/** Decodes bytes of `type` back to floats (Q4_0: low nibble = element j, high nibble = element j+16). */
export function decodeValues(type: GgmlTypeName, bytes: Uint8Array): Float32Array {
  if (type === 'Q4_K') return decodeQ4_K(bytes);
  if (type === 'Q6_K') return decodeQ6_K(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { blockElements, blockBytes } = GGML_TYPES[type];
  const blocks = Math.floor(buf.length / blockBytes);
  const out = new Float32Array(blocks * blockElements);
  for (let b = 0; b < blocks; b++) {
    const at = b * blockBytes;
    if (type === 'F32') out[b] = buf.readFloatLE(at);
    else if (type === 'F16') out[b] = f16BitsToF32(buf.readUInt16LE(at));
    else {
      const d = f16BitsToF32(buf.readUInt16LE(at));
      for (let j = 0; j < 32 && type === 'Q8_0'; j++) out[b * 32 + j] = d * buf.readInt8(at + 2 + j);
      for (let j = 0; j < 16 && type === 'Q4_0'; j++) {
        out[b * 32 + j] = d * ((buf[at + 2 + j] & 0x0f) - 8);
        out[b * 32 + j + 16] = d * ((buf[at + 2 + j] >>> 4) - 8);
      }
    }
  }
  return out;
}

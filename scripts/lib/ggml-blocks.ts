// ggml tensor types of the fixtures: the server's F32/F16/Q8_0 encodings (src/tiny-models) plus Q4_0 and the k-quants, by name.
import {
  F16,
  F32,
  Q8_0,
  encodedByteSize,
  f32ToF16Bits,
  type BlockWriter,
  type GgmlEncoding,
} from '../../src/tiny-models/ggml-encodings.ts';
import { Q4_K, Q6_K } from './ggml-kquants.ts';

export { f16BitsToF32, f32ToF16Bits } from '../../src/tiny-models/ggml-encodings.ts';

/** ggml tensor types this writer can encode. */
export type GgmlTypeName = 'F32' | 'F16' | 'Q4_0' | 'Q8_0' | 'Q4_K' | 'Q6_K';

/** Per-type ggml id, block geometry and encoder (Q4_0 and Q8_0 pack 32 values per block, the k-quants Q4_K and Q6_K 256). */
export type GgmlTypeInfo = GgmlEncoding;

const writeQ4_0: BlockWriter = (out, offset, src, start, count) => {
  for (let b = 0; b < count; b++, start += 32, offset += 18) {
    // d comes from the value with the largest magnitude, sign included, so that value maps exactly to -8.
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = src[start + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const h = f32ToF16Bits(d);
    out[offset] = h & 0xff;
    out[offset + 1] = h >>> 8;
    // (int8_t)(x*id + 8.5f) in llama.cpp: truncation after +8.5 is round-half-up, then clamp to 0…15.
    for (let j = 0; j < 16; j++) {
      const lo = Math.trunc(Math.fround(Math.fround(src[start + j] * id) + 8.5));
      const hi = Math.trunc(Math.fround(Math.fround(src[start + j + 16] * id) + 8.5));
      out[offset + 2 + j] = Math.min(Math.max(lo, 0), 15) | (Math.min(Math.max(hi, 0), 15) << 4);
    }
  }
};

export const Q4_0: GgmlEncoding = { name: 'Q4_0', id: 2, blockElements: 32, blockBytes: 18, write: writeQ4_0 };

export const GGML_TYPES: Readonly<Record<GgmlTypeName, GgmlTypeInfo>> = { F32, F16, Q4_0, Q8_0, Q4_K, Q6_K };

/** Bytes taken by `elements` values of a type (elements must be a whole number of blocks). */
export function tensorByteSize(type: GgmlTypeName, elements: number): number {
  return encodedByteSize(GGML_TYPES[type], elements);
}

// The ggml tensor encodings the tiny llama models use (F32, F16, Q8_0): a block encoder each (geometry from model-shape's table); f16 conversion.
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { GGML_BLOCKS } from '../model-shape/ggml-types.ts';

/** Encodes `count` blocks from src[start…] into out at `offset`. One function per type keeps each hot loop monomorphic for V8. */
export type BlockWriter = (out: Buffer, offset: number, src: Float32Array, start: number, count: number) => void;

/** A ggml tensor type as the GGUF writer needs it. */
export interface GgmlEncoding {
  /** ggml's name for the type (F16, Q8_0, …). */
  name: string;
  /** ggml_type id written in the tensor info. */
  id: number;
  /** Values per block (1 for plain floats, 32 for Q8_0). */
  blockElements: number;
  blockBytes: number;
  write: BlockWriter;
}

/** A type's id and block geometry, from the one GGML table. */
function geometry(type: T): Pick<GgmlEncoding, 'name' | 'id' | 'blockElements' | 'blockBytes'> {
  const block = GGML_BLOCKS[type];
  if (!block) throw new Error(`no block geometry for ggml type ${type}`);
  return { name: T[type], id: type, blockElements: block.elementsPerBlock, blockBytes: block.bytesPerBlock };
}

/** Bytes taken by `elements` values of an encoding (elements must be a whole number of blocks). */
export function encodedByteSize(encoding: GgmlEncoding, elements: number): number {
  const { name, blockElements, blockBytes } = encoding;
  if (elements % blockElements !== 0) throw new Error(`${name} needs a multiple of ${blockElements} elements, got ${elements}`);
  return (elements / blockElements) * blockBytes;
}

/** Four bytes to reinterpret a float32's bits as a uint32 (both reads use the same byte order). */
const scratch = new DataView(new ArrayBuffer(4));

/** IEEE binary32 → binary16 bits, round-to-nearest-even, with subnormals, overflow to inf and NaN kept quiet. */
export function f32ToF16Bits(value: number): number {
  scratch.setFloat32(0, value);
  const x = scratch.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: shift the full significand so one unit is 2^-24; below 2^-25 nothing survives.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const tie = 1 << (shift - 1);
    return sign | (rem > tie || (rem === tie && (half & 1) === 1) ? half + 1 : half);
  }
  const half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to inf: exactly what IEEE rounding wants.
  return rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1) ? half + 1 : half;
}

/** binary16 bits → number. */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** src[index], which must exist: a block writer reading past its source is a caller's bug, never a silent NaN. */
function valueAt(src: Float32Array, index: number): number {
  const value = src[index];
  if (value === undefined) throw new RangeError(`block writer read index ${index} of a ${src.length}-value source`);
  return value;
}

/** roundf() semantics (half away from zero), as llama.cpp's reference quantizer uses; v ± 0.5 is exact in doubles here. */
const roundHalfAway = (v: number): number => Math.trunc(v < 0 ? v - 0.5 : v + 0.5);

export const F32: GgmlEncoding = {
  ...geometry(T.F32),
  write: (out, offset, src, start, count) => {
    for (let i = 0; i < count; i++) out.writeFloatLE(valueAt(src, start + i), offset + i * 4);
  },
};

export const F16: GgmlEncoding = {
  ...geometry(T.F16),
  write: (out, offset, src, start, count) => {
    for (let i = 0; i < count; i++) {
      const h = f32ToF16Bits(valueAt(src, start + i));
      out[offset + i * 2] = h & 0xff;
      out[offset + i * 2 + 1] = h >>> 8;
    }
  },
};

/** 32 values per block: an f16 scale d = max|x| / 127, then 32 int8 values round(x / d). */
export const Q8_0: GgmlEncoding = {
  ...geometry(T.Q8_0),
  write: (out, offset, src, start, count) => {
    for (let b = 0; b < count; b++, start += 32, offset += 34) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(valueAt(src, start + j)));
      const d = Math.fround(amax / 127);
      const id = d !== 0 ? Math.fround(1 / d) : 0;
      const h = f32ToF16Bits(d);
      out[offset] = h & 0xff;
      out[offset + 1] = h >>> 8;
      // Direct byte stores (two's complement via & 0xff): writeInt8's checks cost a lot on GB-sized files.
      for (let j = 0; j < 32; j++) {
        const q = roundHalfAway(Math.fround(valueAt(src, start + j) * id));
        out[offset + 2 + j] = Math.min(Math.max(q, -127), 127) & 0xff;
      }
    }
  },
};

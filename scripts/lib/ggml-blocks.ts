// ggml tensor types: ids, block geometry, f16 conversion and the 32-value block encoders (F32, F16, Q8_0, Q4_0) the GGUF writer streams through.

/** ggml tensor types this writer can encode. */
export type GgmlTypeName = "F32" | "F16" | "Q4_0" | "Q8_0" | "Q4_K" | "Q6_K";

/** Per-type ggml id and block geometry (Q4_0 and Q8_0 pack 32 values per block, the k-quants Q4_K and Q6_K 256). */
export interface GgmlTypeInfo { id: number; blockElements: number; blockBytes: number }

export const GGML_TYPES: Readonly<Record<GgmlTypeName, GgmlTypeInfo>> = {
  F32: { id: 0, blockElements: 1, blockBytes: 4 },
  F16: { id: 1, blockElements: 1, blockBytes: 2 },
  Q4_0: { id: 2, blockElements: 32, blockBytes: 18 },
  Q8_0: { id: 8, blockElements: 32, blockBytes: 34 },
  Q4_K: { id: 12, blockElements: 256, blockBytes: 144 },
  Q6_K: { id: 14, blockElements: 256, blockBytes: 210 },
};

/** Bytes taken by `elements` values of a type (elements must be a whole number of blocks). */
export function tensorByteSize(type: GgmlTypeName, elements: number): number {
  const { blockElements, blockBytes } = GGML_TYPES[type];
  if (elements % blockElements !== 0) throw new Error(`${type} needs a multiple of ${blockElements} elements, got ${elements}`);
  return (elements / blockElements) * blockBytes;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary32 → binary16 bits, round-to-nearest-even, with subnormals, overflow to inf and NaN kept quiet. */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
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

// roundf() semantics (half away from zero), as llama.cpp's reference quantizer uses; v ± 0.5 is exact in doubles here.
const roundHalfAway = (v: number): number => Math.trunc(v < 0 ? v - 0.5 : v + 0.5);

// One function per type keeps each hot loop monomorphic for V8.
export type BlockWriter = (out: Buffer, offset: number, src: Float32Array, start: number, count: number) => void;

export const writeF32: BlockWriter = (out, offset, src, start, count) => {
  for (let i = 0; i < count; i++) out.writeFloatLE(src[start + i], offset + i * 4);
};

export const writeF16: BlockWriter = (out, offset, src, start, count) => {
  for (let i = 0; i < count; i++) {
    const h = f32ToF16Bits(src[start + i]);
    out[offset + i * 2] = h & 0xff;
    out[offset + i * 2 + 1] = h >>> 8;
  }
};

export const writeQ8_0: BlockWriter = (out, offset, src, start, count) => {
  for (let b = 0; b < count; b++, start += 32, offset += 34) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[start + j]));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const h = f32ToF16Bits(d);
    out[offset] = h & 0xff;
    out[offset + 1] = h >>> 8;
    // Direct byte stores (two's complement via & 0xff): writeInt8's checks cost a lot on GB-sized files.
    for (let j = 0; j < 32; j++) {
      const q = roundHalfAway(Math.fround(src[start + j] * id));
      out[offset + 2 + j] = (q > 127 ? 127 : q < -127 ? -127 : q) & 0xff;
    }
  }
};

export const writeQ4_0: BlockWriter = (out, offset, src, start, count) => {
  for (let b = 0; b < count; b++, start += 32, offset += 18) {
    // d comes from the value with the largest magnitude, sign included, so that value maps exactly to -8.
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = src[start + j];
      if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
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
      out[offset + 2 + j] = (lo > 15 ? 15 : lo < 0 ? 0 : lo) | ((hi > 15 ? 15 : hi < 0 ? 0 : hi) << 4);
    }
  }
};

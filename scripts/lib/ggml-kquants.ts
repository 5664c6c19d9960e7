// ggml's Q4_K and Q6_K block formats (256-value super-blocks), as llama.cpp lays them out: encoders for fixtures and decoders for tests.
import { f16BitsToF32, f32ToF16Bits, type GgmlEncoding } from '../../src/tiny-models/ggml-encodings.ts';

/** Values per k-quant super-block (QK_K). */
export const QK_K = 256;
/** block_q4_K: f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of 4-bit values. */
export const Q4_K_BLOCK_BYTES = 144;
/** block_q6_K: 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 int8 scales, f16 d. */
export const Q6_K_BLOCK_BYTES = 210;

// Scratch shared by the (synchronous) encoders.
const subScale = new Float64Array(16);
const subMin = new Float64Array(16);
const levels = new Uint8Array(QK_K);

function putF16(out: Uint8Array, at: number, bits: number): void {
  out[at] = bits & 0xff;
  out[at + 1] = bits >>> 8;
}

/**
 * Q4_K: each 32-value sub-block j is x ≈ d·sc[j]·q − dmin·m[j] with q in 0…15 and 6-bit sc, m. This encoder
 * takes each sub-block's own range (min clamped to ≤ 0) rather than llama.cpp's iterative search: a valid,
 * slightly less accurate choice of the same format.
 */
export function writeQ4_K(out: Uint8Array, offset: number, src: Float32Array, start: number, count: number): void {
  for (let b = 0; b < count; b++, start += QK_K, offset += Q4_K_BLOCK_BYTES) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      let lo = 0;
      let hi = 0;
      for (let i = start + 32 * j, end = i + 32; i < end; i++) {
        lo = Math.min(lo, src[i]);
        hi = Math.max(hi, src[i]);
      }
      subScale[j] = (hi - lo) / 15;
      subMin[j] = -lo;
      maxScale = Math.max(maxScale, subScale[j]);
      maxMin = Math.max(maxMin, subMin[j]);
    }
    const dBits = f32ToF16Bits(maxScale / 63);
    const mBits = f32ToF16Bits(maxMin / 63);
    const d = f16BitsToF32(dBits);
    const dmin = f16BitsToF32(mBits);
    putF16(out, offset, dBits);
    putF16(out, offset + 2, mBits);
    const scales = offset + 4;
    out.fill(0, scales, scales + 12);
    for (let j = 0; j < 8; j++) {
      const ls = d > 0 ? Math.min(63, Math.round(subScale[j] / d)) : 0;
      const lm = dmin > 0 ? Math.min(63, Math.round(subMin[j] / dmin)) : 0;
      // Sub-blocks 0-3 keep 6 bits in bytes 0-7; 4-7 keep their low nibbles in bytes 8-11 and top 2 bits in bytes 0-7's bits 6-7.
      if (j < 4) {
        out[scales + j] = ls;
        out[scales + j + 4] = lm;
      } else {
        out[scales + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        out[scales + j - 4] |= (ls >> 4) << 6;
        out[scales + j] |= (lm >> 4) << 6;
      }
      const step = d * ls;
      const shift = dmin * lm;
      for (let i = 0; i < 32; i++) {
        const q = step > 0 ? Math.round((src[start + 32 * j + i] + shift) / step) : 0;
        levels[32 * j + i] = Math.min(Math.max(q, 0), 15);
      }
    }
    // Each 32-byte group holds two sub-blocks: the first in the low nibbles, the next in the high ones.
    for (let g = 0; g < 4; g++) {
      for (let l = 0; l < 32; l++) out[offset + 16 + 32 * g + l] = levels[64 * g + l] | (levels[64 * g + 32 + l] << 4);
    }
  }
}

/** Q6_K: each 16-value sub-block is x ≈ d·sc[j]·(q − 32) with q in 0…63 and int8 sc. */
export function writeQ6_K(out: Uint8Array, offset: number, src: Float32Array, start: number, count: number): void {
  for (let b = 0; b < count; b++, start += QK_K, offset += Q6_K_BLOCK_BYTES) {
    let maxScale = 0;
    for (let j = 0; j < 16; j++) {
      let amax = 0;
      for (let i = start + 16 * j, end = i + 16; i < end; i++) amax = Math.max(amax, Math.abs(src[i]));
      subScale[j] = amax / 31;
      maxScale = Math.max(maxScale, subScale[j]);
    }
    const dBits = f32ToF16Bits(maxScale / 127);
    const d = f16BitsToF32(dBits);
    for (let j = 0; j < 16; j++) {
      const sc = d > 0 ? Math.min(127, Math.round(subScale[j] / d)) : 0;
      out[offset + 192 + j] = sc;
      const step = d * sc;
      for (let i = 0; i < 16; i++) {
        const q = step > 0 ? Math.round(src[start + 16 * j + i] / step) : 0;
        levels[16 * j + i] = Math.min(Math.max(q, -32), 31) + 32;
      }
    }
    putF16(out, offset + 208, dBits);
    // Per 128-value half: ql holds low nibbles of values l and l+64 (then l+32 and l+96); qh their top 2 bits, 4 per byte.
    for (let h = 0; h < 2; h++) {
      const n = 128 * h;
      const ql = offset + 64 * h;
      const qh = offset + 128 + 32 * h;
      for (let l = 0; l < 32; l++) {
        const q1 = levels[n + l];
        const q2 = levels[n + l + 32];
        const q3 = levels[n + l + 64];
        const q4 = levels[n + l + 96];
        out[ql + l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
        out[ql + l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4);
        out[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
}

const f16At = (bytes: Uint8Array, at: number): number => f16BitsToF32(bytes[at] | (bytes[at + 1] << 8));

/** Decodes Q4_K blocks (as llama.cpp's dequantize_row_q4_K reads them). */
export function decodeQ4_K(bytes: Uint8Array): Float32Array {
  const blocks = Math.floor(bytes.length / Q4_K_BLOCK_BYTES);
  const out = new Float32Array(blocks * QK_K);
  for (let b = 0; b < blocks; b++) {
    const at = b * Q4_K_BLOCK_BYTES;
    const d = f16At(bytes, at);
    const dmin = f16At(bytes, at + 2);
    const s = bytes.subarray(at + 4, at + 16);
    for (let j = 0; j < 8; j++) {
      const sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
      const m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
      const g = j >> 1;
      for (let l = 0; l < 32; l++) {
        const byte = bytes[at + 16 + 32 * g + l];
        const q = j % 2 === 0 ? byte & 0xf : byte >> 4;
        out[b * QK_K + 32 * j + l] = d * sc * q - dmin * m;
      }
    }
  }
  return out;
}

/** Decodes Q6_K blocks (as llama.cpp's dequantize_row_q6_K reads them). */
export function decodeQ6_K(bytes: Uint8Array): Float32Array {
  const blocks = Math.floor(bytes.length / Q6_K_BLOCK_BYTES);
  const out = new Float32Array(blocks * QK_K);
  for (let b = 0; b < blocks; b++) {
    const at = b * Q6_K_BLOCK_BYTES;
    const d = f16At(bytes, at + 208);
    for (let i = 0; i < QK_K; i++) {
      const h = i >> 7;
      const r = i & 127;
      const l = r & 31;
      const quarter = r >> 5; // 0: l, 1: l+32, 2: l+64, 3: l+96
      const low = bytes[at + 64 * h + l + (quarter & 1) * 32];
      const nibble = quarter < 2 ? low & 0xf : low >> 4;
      const high = (bytes[at + 128 + 32 * h + l] >> (2 * quarter)) & 3;
      const sc = (bytes[at + 192 + (i >> 4)] << 24) >> 24; // int8
      out[b * QK_K + i] = d * sc * ((nibble | (high << 4)) - 32);
    }
  }
  return out;
}

export const Q4_K: GgmlEncoding = { name: 'Q4_K', id: 12, blockElements: QK_K, blockBytes: Q4_K_BLOCK_BYTES, write: writeQ4_K };
export const Q6_K: GgmlEncoding = { name: 'Q6_K', id: 14, blockElements: QK_K, blockBytes: Q6_K_BLOCK_BYTES, write: writeQ6_K };

// IEEE binary16 conversion (Node 20 has no Math.f16round): float32 to float16 bits with round-to-nearest-even, and back.

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** float16 bits of a float32 bit pattern: round to nearest, ties to even; overflow gives ±inf, NaN stays a quiet NaN. */
function halfFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | (mantissa === 0 ? 0x7c00 : 0x7e00);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = m * 2^-24, so m = (1.mantissa) * 2^(exponent - 126) = significand >> (14 - halfExponent).
    const shift = 14 - halfExponent;
    if (shift > 24) return sign; // below half the smallest subnormal (2^-25): rounds to zero
    const significand = mantissa | 0x800000;
    const half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    // A carry out of the subnormal range lands exactly on the smallest normal (0x0400): the bit layout makes it right.
    return sign | (rest > halfway || (rest === halfway && (half & 1) === 1) ? half + 1 : half);
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry may ripple into the exponent, up to 0x7c00 (inf) for values from 65520 on: that is the correct rounding.
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half);
}

/** The float16 bit pattern nearest to `value` (which is first rounded to float32, as an ONNX float tensor holds it). */
export function float16Bits(value: number): number {
  scratch[0] = value;
  return halfFromFloatBits(scratchBits[0] as number);
}

/** The number a float16 bit pattern stands for. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Converts `source` (float32 bit patterns, e.g. a Uint32Array view of a Float32Array) into `target` float16 bits.
 * With `saturate`, finite values beyond the float16 range become ±65504 instead of ±inf (inf and NaN stay).
 */
export function float32BitsToFloat16(source: Uint32Array, target: Uint16Array, saturate = false): void {
  if (target.length < source.length) throw new RangeError('float16 target is shorter than the source');
  for (let i = 0; i < source.length; i++) {
    const bits = source[i] as number;
    let half = halfFromFloatBits(bits);
    if (saturate && (half & 0x7fff) === 0x7c00 && (bits & 0x7f800000) !== 0x7f800000) half = (half & 0x8000) | 0x7bff;
    target[i] = half;
  }
}

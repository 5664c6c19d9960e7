// float32 -> float16 conversion: known bit patterns, ties to even, subnormals, inf/NaN, saturation, and every float16 value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float16Bits, float16Value, float32BitsToFloat16 } from '../../src/quantize/onnx/float16.ts';

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

test('known values convert to their IEEE binary16 bit patterns', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [Math.PI, 0x4248],
    [65504, 0x7bff], // largest finite
    [65519.99, 0x7bff], // just under the halfway point to 65536
    [65520, 0x7c00], // halfway: ties to even, which is inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -24 * 3, 0x0003],
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // halfway to the smallest subnormal: ties to even (zero)
    [2 ** -25 * 1.5, 0x0001],
    [-(2 ** -25) * 1.5, 0x8001],
    [2 ** -26, 0x0000],
    [1e-12, 0x0000],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
  ];
  for (const [value, bits] of cases) assert.equal(hex(float16Bits(value)), hex(bits), `float16Bits(${value})`);
  const nan = float16Bits(Number.NaN);
  assert.equal(nan & 0x7c00, 0x7c00, 'NaN keeps an all-ones exponent');
  assert.notEqual(nan & 0x3ff, 0, 'NaN keeps a nonzero mantissa');
  assert.ok(Number.isNaN(float16Value(nan)));
});

test('ties round to the even neighbour, in normal and subnormal ranges', () => {
  assert.equal(hex(float16Bits(1 + 2 ** -11)), hex(0x3c00)); // halfway between 0x3c00 and 0x3c01: even is 0x3c00
  assert.equal(hex(float16Bits(1 + 3 * 2 ** -11)), hex(0x3c02)); // halfway between 0x3c01 and 0x3c02: even is 0x3c02
  assert.equal(hex(float16Bits(1 + 2 ** -11 + 2 ** -20)), hex(0x3c01)); // just above halfway rounds up
  assert.equal(hex(float16Bits(2 ** -24 * 2.5)), hex(0x0002)); // subnormal tie to even
  assert.equal(hex(float16Bits(2 ** -24 * 3.5)), hex(0x0004));
  assert.equal(hex(float16Bits(2 ** -14 - 2 ** -25)), hex(0x0400)); // halfway from the largest subnormal carries into the smallest normal
});

test('every finite float16 converts back to itself, and every midpoint between neighbours rounds to the even one', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = float16Value(bits);
    if (Number.isNaN(value)) continue;
    assert.equal(float16Bits(value), bits, `round trip of ${hex(bits)}`);
    const next = bits + 1;
    if ((bits & 0x7fff) >= 0x7bff || (next & 0x7c00) === 0x7c00) continue; // no finite neighbour above
    // The midpoint of two adjacent halves has at most 12 significant bits: exact in float32.
    const midpoint = (value + float16Value(next)) / 2;
    const even = (bits & 1) === 0 ? bits : next;
    assert.equal(float16Bits(midpoint), even, `midpoint of ${hex(bits)} and ${hex(next)}`);
  }
});

test('the bulk conversion matches the scalar one and saturates finite overflow when asked', () => {
  const values = new Float32Array([1, -2.5, 70000, -70000, Number.POSITIVE_INFINITY, Number.NaN, 2 ** -24, 0.1]);
  const bits = new Uint32Array(values.buffer);
  const plain = new Uint16Array(values.length);
  float32BitsToFloat16(bits, plain);
  assert.deepEqual(
    [...plain],
    [...values].map((v) => float16Bits(v)),
  );
  const saturated = new Uint16Array(values.length);
  float32BitsToFloat16(bits, saturated, true);
  assert.deepEqual([...saturated].map(hex), [0x3c00, 0xc100, 0x7bff, 0xfbff, 0x7c00, plain[5] as number, 0x0001, 0x2e66].map(hex));
  assert.throws(() => float32BitsToFloat16(bits, new Uint16Array(2)), RangeError);
});

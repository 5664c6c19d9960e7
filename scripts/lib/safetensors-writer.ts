// Test tooling: writes valid .safetensors files (8-byte LE header length, JSON header, tensor bytes) with seeded random F32/F16/BF16 data.
import { writeFile } from 'node:fs/promises';
import { SeededRandom } from './seeded-random.ts';

export type WrittenDtype = 'F32' | 'F16' | 'BF16';

export interface TensorSpec {
  name: string;
  dtype: WrittenDtype;
  shape: number[];
}

const BYTES: Readonly<Record<WrittenDtype, number>> = { F32: 4, F16: 2, BF16: 2 };
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from a float (round toward zero, subnormals flushed): enough for small random weights. */
function halfBits(value: number): number {
  f32[0] = value;
  const bits = u32[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7c00;
  return sign | (exponent << 10) | ((bits >>> 13) & 0x3ff);
}

function bfloatBits(value: number): number {
  f32[0] = value;
  return (u32[0] ?? 0) >>> 16;
}

function tensorBytes(spec: TensorSpec, random: SeededRandom): Buffer {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const out = Buffer.alloc(count * BYTES[spec.dtype]);
  for (let i = 0; i < count; i++) {
    const value = random.symmetric(0.05);
    if (spec.dtype === 'F32') out.writeFloatLE(value, i * 4);
    else out.writeUInt16LE(spec.dtype === 'F16' ? halfBits(value) : bfloatBits(value), i * 2);
  }
  return out;
}

/** Bytes of one tensor's data. */
export function tensorByteLength(spec: TensorSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1) * BYTES[spec.dtype];
}

/** Writes one safetensors file; returns its size in bytes. */
export async function writeSafetensors(
  file: string,
  tensors: TensorSpec[],
  seed: number,
  metadata?: Record<string, string>,
): Promise<number> {
  const random = new SeededRandom(seed);
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const data: Buffer[] = [];
  let offset = 0;
  for (const spec of tensors) {
    const bytes = tensorBytes(spec, random);
    header[spec.name] = { dtype: spec.dtype, shape: spec.shape, data_offsets: [offset, offset + bytes.length] };
    data.push(bytes);
    offset += bytes.length;
  }
  // The format pads the header with spaces to a multiple of 8 bytes, so the data starts aligned.
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const content = Buffer.concat([length, Buffer.from(json), ...data]);
  await writeFile(file, content);
  return content.length;
}

// The quantization types Hangar can make, per format: what a request may name (Q4_K_M, q4, fp16…) and what it resolves to.
import { InvalidInput } from '../errors.ts';
import { GGUF_QUANT_TYPES, type GgufQuantType } from './gguf/gguf-quantizer.ts';
import { ONNX_QUANT_DTYPES, type OnnxQuantDtype } from './onnx/index.ts';

export type { GgufQuantType } from './gguf/gguf-quantizer.ts';
export type { OnnxQuantDtype } from './onnx/index.ts';

/** What a quantization makes: a GGUF file type for llama.cpp, or a transformers.js dtype file for ONNX. */
export type QuantizationTarget = { format: 'gguf'; type: GgufQuantType } | { format: 'onnx'; type: OnnxQuantDtype };

/** Short names a person types (seed 004's "4-bit" / "8-bit"), per format: the type each one means. */
const SHORT_NAMES: { gguf: Record<string, GgufQuantType>; onnx: Record<string, OnnxQuantDtype> } = {
  gguf: { q8: 'Q8_0', q6: 'Q6_K', q5: 'Q5_K_M', q4: 'Q4_K_M', f16: 'F16', fp16: 'F16' },
  onnx: { q8: 'q8', int8: 'q8', fp16: 'fp16', f16: 'fp16' },
};

/** Bits per weight each type is named for (K-quant mixes hold some tensors at more bits). */
const TYPE_BITS: Record<string, number> = { F16: 16, fp16: 16, Q8_0: 8, q8: 8, Q6_K: 6, Q5_K_M: 5, Q5_K_S: 5, Q5_0: 5 };

/** GGUF file types and ONNX dtypes that hold weights as trained: the only ones Hangar quantizes from. */
const FULL_PRECISION = new Set(['F32', 'F16', 'BF16', 'ALL_F32', 'MOSTLY_F16', 'MOSTLY_BF16', 'fp32', 'FP32']);

export function isFullPrecisionQuantization(quantization: string | null): boolean {
  // A version that states no quantization is taken as full precision; the engines refuse it if its tensors say otherwise.
  return quantization === null || FULL_PRECISION.has(quantization);
}

/** The types a model of `format` can be quantized to, in the order a menu lists them. */
export function quantizationTypesFor(format: string): string[] {
  if (format === 'gguf') return [...GGUF_QUANT_TYPES];
  if (format === 'onnx') return [...ONNX_QUANT_DTYPES];
  return [];
}

export function typeBits(type: string): number | null {
  if (TYPE_BITS[type] !== undefined) return TYPE_BITS[type];
  const match = /^I?Q(\d)/.exec(type);
  return match ? Number(match[1]) : null;
}

/**
 * Resolves what a request names (`Q4_K_M`, `q4_k_m`, `q4`, `fp16`) for a model of `format`; 400 invalid_quantization_type
 * listing the valid names otherwise.
 */
export function quantizationTarget(format: string, requested: string): QuantizationTarget {
  const wanted = requested.trim();
  const lower = wanted.toLowerCase();
  if (format === 'gguf') {
    const type = GGUF_QUANT_TYPES.find((t) => t.toLowerCase() === lower) ?? SHORT_NAMES.gguf[lower];
    if (type) return { format, type };
  } else if (format === 'onnx') {
    const type = ONNX_QUANT_DTYPES.find((t) => t === lower) ?? SHORT_NAMES.onnx[lower];
    if (type) return { format, type };
  } else {
    throw new InvalidInput(
      `Hangar quantizes GGUF and ONNX models; this one is ${format}`,
      { format, type: requested },
      'unsupported_format',
    );
  }
  const valid = [...quantizationTypesFor(format), ...Object.keys(SHORT_NAMES[format])];
  throw new InvalidInput(
    `Unknown quantization type "${requested}" for a ${format.toUpperCase()} model; valid: ${valid.join(', ')}`,
    { type: requested, format, valid },
    'invalid_quantization_type',
  );
}

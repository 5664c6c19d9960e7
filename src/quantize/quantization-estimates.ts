// The estimate-memory reply's quantization options: for a full-precision model, what each type it could be quantized to would take, and where it fits.
import type { GGUFTensorInfo } from '@huggingface/gguf';
import { fitsDevices, type DeviceBudget } from '../model-shape/estimate-reply.ts';
import { estimateMemory } from '../model-shape/memory-model.ts';
import type { ModelShape } from '../model-shape/model-shape.ts';
import { countTensorTypes, predictGgufTensorTypes, quantizedGgufShape, quantizedOnnxShape } from '../model-shape/quantized-weights.ts';
import type { QuantizationOption } from '../schemas/estimate.ts';
import { isFullPrecisionQuantization, quantizationTypesFor, typeBits } from './quantization-types.ts';

export interface QuantizableModel {
  shape: ModelShape;
  /** A GGUF model's tensor table (from its header, local or remote). */
  ggufTensors?: readonly GGUFTensorInfo[];
}

/**
 * fp32 bytes of an encoder's MatMul weights, from its config's numbers: per layer the four attention projections
 * (4·h²) and the two feed-forward ones (2·h·ffn). The embedding tables are looked up, not multiplied, and stay float.
 */
function encoderMatMulBytes(shape: ModelShape): number {
  const h = shape.embeddingLength ?? 0;
  const ffn = shape.feedForwardLength ?? 4 * h;
  const layers = shape.layerCount ?? 0;
  return Math.min(shape.weightsBytes, 4 * layers * (4 * h * h + 2 * h * ffn));
}

/** The shape of `model` quantized to `type`, with the tensor types llama.cpp would choose (GGUF). */
function optionShape(model: QuantizableModel, type: string): { shape: ModelShape; tensorTypes: Record<string, number> | null } {
  if (model.shape.format === 'gguf' && model.ggufTensors) {
    return {
      shape: quantizedGgufShape(model.shape, model.ggufTensors, type),
      tensorTypes: countTensorTypes(predictGgufTensorTypes(model.ggufTensors, type).values()),
    };
  }
  return { shape: quantizedOnnxShape(model.shape, type as 'fp16' | 'q8', encoderMatMulBytes(model.shape)), tensorTypes: null };
}

/**
 * One option per type the model could be quantized to (none when it is already quantized, or a GGUF's tensor table is
 * unknown), each with its estimated weights and total, whether it fits each device, and the version that already holds it.
 */
export function quantizationOptions(
  model: QuantizableModel,
  options: { contextSize?: number; sequences?: number; devices: DeviceBudget[]; existing?: ReadonlyMap<string, number> },
): QuantizationOption[] {
  if (!isFullPrecisionQuantization(model.shape.quantization)) return [];
  if (model.shape.format === 'gguf' && !model.ggufTensors) return [];
  const current = (model.shape.quantization ?? '').toLowerCase();
  return quantizationTypesFor(model.shape.format)
    .filter((type) => type.toLowerCase() !== current)
    .map((type) => {
      const { shape, tensorTypes } = optionShape(model, type);
      const estimate = estimateMemory(shape, { contextSize: options.contextSize, sequences: options.sequences });
      return {
        type,
        bits: typeBits(type),
        weights_bytes: estimate.weights_bytes,
        total_bytes: estimate.total_bytes,
        tensor_types: tensorTypes,
        devices: fitsDevices(estimate.total_bytes, options.devices),
        version: options.existing?.get(type.toLowerCase()) ?? null,
      };
    });
}

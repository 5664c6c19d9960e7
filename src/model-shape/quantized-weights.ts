// What a quantization would make of a model before it is made: llama.cpp's per-tensor type choice for a GGUF, the weights' bytes, and the shape to estimate.
import { GGMLQuantizationType as T, type GGUFTensorInfo } from '@huggingface/gguf';
import { ggmlTypeName, tensorByteSize } from './ggml-types.ts';
import { isCopiedOnCpu } from './cpu-weight-copies.ts';
import type { ModelShape } from './model-shape.ts';

/** The type llama.cpp gives most tensors for each file type it quantizes to. */
const BASE_TYPE: Record<string, T> = {
  F16: T.F16,
  BF16: T.BF16,
  Q8_0: T.Q8_0,
  Q6_K: T.Q6_K,
  Q5_K_M: T.Q5_K,
  Q5_K_S: T.Q5_K,
  Q5_0: T.Q5_0,
  Q4_K_M: T.Q4_K,
  Q4_K_S: T.Q4_K,
  Q4_0: T.Q4_0,
  Q3_K_M: T.Q3_K,
  Q2_K: T.Q2_K,
};

/** K-quants store 256 values per block: a row that is not a multiple of that takes llama.cpp's fallback type. */
const QK_K = 256;
const K_QUANT_FALLBACK: Partial<Record<T, T>> = {
  [T.Q2_K]: T.Q4_0,
  [T.Q3_K]: T.Q4_0,
  [T.Q4_K]: T.Q5_0,
  [T.Q5_K]: T.Q5_1,
  [T.Q6_K]: T.Q8_0,
};

const isKQuant = (type: T) => type in K_QUANT_FALLBACK;
const isFloatType = (type: T) => type === T.F16 || type === T.BF16 || type === T.F32;

/** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third one between, get more bits. */
function takesMoreBits(index: number, count: number): boolean {
  return index < count / 8 || index >= (7 * count) / 8 || (index - Math.floor(count / 8)) % 3 === 2;
}

/** Tensors llama.cpp quantizes: 2-D (or more) weights; norms, biases and 1-D tensors stay as they are. */
function isQuantizable(tensor: GGUFTensorInfo): boolean {
  return tensor.name.endsWith('.weight') && tensor.shape.length >= 2 && !tensor.name.includes('_norm');
}

/**
 * The type llama.cpp (llama_tensor_get_type) gives each tensor for `fileType`, for the rules that decide the common
 * types: output at Q6_K for every quantized type below Q8_0, attn_v and ffn_down of the use_more_bits layers at Q6_K for
 * the _M mixes, attn_qkv one step up, and the K-quant fallback for rows that are not multiples of 256. Float targets
 * (F16, BF16) convert every quantizable tensor.
 */
export function predictGgufTensorTypes(tensors: readonly GGUFTensorInfo[], fileType: string): Map<string, T> {
  const base = BASE_TYPE[fileType];
  if (base === undefined) throw new Error(`no llama.cpp tensor rule for file type ${fileType}`);
  const attnV = tensors.filter((t) => t.name.endsWith('attn_v.weight')).length;
  const ffnDown = tensors.filter((t) => t.name.endsWith('ffn_down.weight')).length;
  const hasOutput = tensors.some((t) => t.name === 'output.weight');
  let attnVSeen = 0;
  let ffnDownSeen = 0;
  const types = new Map<string, T>();
  for (const tensor of tensors) {
    if (!isQuantizable(tensor)) {
      types.set(tensor.name, tensor.dtype);
      continue;
    }
    let type = base;
    const mix = fileType === 'Q4_K_M' || fileType === 'Q5_K_M';
    const rowLength = Number(tensor.shape[0]);
    if (!isFloatType(base)) {
      if (tensor.name === 'output.weight' || (!hasOutput && tensor.name === 'token_embd.weight')) {
        if (rowLength % QK_K !== 0) type = T.Q8_0;
        else if (base !== T.Q8_0) type = T.Q6_K;
      } else if (tensor.name.endsWith('attn_v.weight')) {
        if (mix && takesMoreBits(attnVSeen, attnV)) type = T.Q6_K;
        attnVSeen++;
      } else if (tensor.name.endsWith('ffn_down.weight')) {
        if (mix && takesMoreBits(ffnDownSeen, ffnDown)) type = T.Q6_K;
        if (fileType === 'Q3_K_M' && ffnDownSeen < ffnDown / 16) type = T.Q5_K;
        ffnDownSeen++;
      } else if (tensor.name.endsWith('attn_qkv.weight')) {
        if (fileType === 'Q4_K_M') type = T.Q5_K;
        else if (fileType === 'Q5_K_M') type = T.Q6_K;
      } else if (tensor.name.endsWith('attn_output.weight') && fileType === 'Q3_K_M') {
        type = T.Q4_K;
      }
      if (isKQuant(type) && rowLength % QK_K !== 0) type = K_QUANT_FALLBACK[type] ?? type;
    }
    types.set(tensor.name, type);
  }
  return types;
}

/** Counts of each tensor type by name (as a quantized version records them in metadata.tensor_types). */
export function countTensorTypes(types: Iterable<T>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of types) {
    const name = ggmlTypeName(type);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** The shape a GGUF model would have quantized to `fileType`: its tensor data and repacked bytes with the predicted types. */
export function quantizedGgufShape(shape: ModelShape, tensors: readonly GGUFTensorInfo[], fileType: string): ModelShape {
  const types = predictGgufTensorTypes(tensors, fileType);
  let weightsBytes = 0;
  let repackedBytes = 0;
  for (const tensor of tensors) {
    const type = types.get(tensor.name) ?? tensor.dtype;
    const bytes = tensorByteSize(type, tensor.shape) ?? 0;
    weightsBytes += bytes;
    if (isCopiedOnCpu({ name: tensor.name, dtype: type, shape: tensor.shape })) repackedBytes += bytes;
  }
  return { ...shape, weightsBytes, repackedBytes, quantization: fileType };
}

/**
 * The shape an ONNX model would have in `dtype`, as onnxruntime holds it on a CPU: q8 keeps the MatMul weights
 * (`matmulWeightBytes` of fp32) at one byte per value and the rest (embedding tables, biases) as they are; fp16 stores
 * every weight at two bytes, but a CPU without fp16 MatMul kernels casts the MatMul weights back to fp32 at load, so only
 * the rest (the embedding tables, looked up in fp16) really halves.
 */
export function quantizedOnnxShape(shape: ModelShape, dtype: 'fp16' | 'q8', matmulWeightBytes: number): ModelShape {
  const rest = shape.weightsBytes - matmulWeightBytes;
  const weightsBytes = dtype === 'fp16' ? matmulWeightBytes + rest / 2 : rest + matmulWeightBytes / 4;
  return { ...shape, weightsBytes: Math.round(weightsBytes), quantization: dtype };
}

// The one GGUF header -> model facts mapper, for a header read from a local file or remotely over HTTP ranges.
import { gguf, GGMLFileQuantizationType, type GGUFTensorInfo } from '@huggingface/gguf';
import { tensorByteSize, tensorDataBytes } from './ggml-types.ts';
import { type CpuWeightCopy, hostCpuWeightCopy, isCopiedOnCpu } from './cpu-weight-copies.ts';
import { architectureNumbers, factNumber, type ModelFacts, type ModelShape } from './model-shape.ts';

/** What `gguf()` of @huggingface/gguf returns that the facts come from (`parameterCount` with computeParametersCount). */
export interface GgufHeader {
  metadata: object;
  tensorInfos: GGUFTensorInfo[];
  parameterCount?: number;
}

export interface GgufFacts extends ModelFacts {
  /** From the tensor shapes; null when the header was read without counting them. */
  parameterCount: number | null;
  /** `general.file_type` by name (Q4_K_M, F16…). */
  quantization: string | null;
  /** `general.name`, when the header has one. */
  modelName: string | null;
  ggufVersion: number | null;
  tensorCount: number;
  /** Tensor data from each tensor's type and shape; null when a type is not in the ggml table. */
  weightsBytes: number | null;
  /** Of those, the bytes llama.cpp's CPU backend keeps a repacked copy of. */
  repackedBytes: number;
}

/** Bytes of the matrices the CPU backend keeps a second copy of (repacked, or in AMX tiles: see cpu-weight-copies.ts). */
export function repackedBytesOf(tensorInfos: readonly GGUFTensorInfo[], kind: CpuWeightCopy = hostCpuWeightCopy()): number {
  return tensorInfos.filter((t) => isCopiedOnCpu(t, kind)).reduce((sum, t) => sum + (tensorByteSize(t.dtype, t.shape) ?? 0), 0);
}

/** The facts a GGUF header states: `general.*` keys, the architecture's own `<arch>.*` keys, the tokenizer and the tensor table. */
export function ggufFacts(header: GgufHeader): GgufFacts {
  const meta = header.metadata as Record<string, unknown>;
  const arch = typeof meta['general.architecture'] === 'string' ? meta['general.architecture'] : null;
  const key = (name: string): number | null => (arch ? factNumber(meta[`${arch}.${name}`]) : null);
  const headCount = key('attention.head_count');
  const fileType = factNumber(meta['general.file_type']);
  const tokens = meta['tokenizer.ggml.tokens'];
  return {
    architecture: arch,
    parameterCount: header.parameterCount ?? null,
    contextLength: key('context_length'),
    embeddingLength: key('embedding_length'),
    layerCount: key('block_count'),
    headCount,
    headCountKv: key('attention.head_count_kv') ?? headCount,
    // llama.cpp's own order: the architecture's vocab_size, else the tokenizer's token list.
    vocabSize: key('vocab_size') ?? (Array.isArray(tokens) ? tokens.length : null),
    feedForwardLength: key('feed_forward_length'),
    headDim: key('attention.key_length'),
    quantization: fileType === null ? null : (GGMLFileQuantizationType[fileType] ?? `type_${fileType}`),
    modelName: typeof meta['general.name'] === 'string' ? meta['general.name'] : null,
    ggufVersion: factNumber(meta.version),
    tensorCount: header.tensorInfos.length,
    weightsBytes: tensorDataBytes(header.tensorInfos),
    repackedBytes: repackedBytesOf(header.tensorInfos),
  };
}

/** The memory model's shape of a GGUF model from its facts; `fileBytes` stands in for the weights when a tensor type is unknown. */
export function ggufShape(facts: GgufFacts, fileBytes: number): ModelShape {
  return {
    format: 'gguf',
    weightsBytes: facts.weightsBytes ?? fileBytes,
    quantization: facts.quantization,
    ...architectureNumbers(facts),
    repackedBytes: facts.repackedBytes,
  };
}

/** The shape of a GGUF model from what `gguf(pathOrUrl)` returns, plus the file's size. */
export function shapeFromGgufHeader(metadata: object, tensorInfos: GGUFTensorInfo[], fileBytes: number): ModelShape {
  return ggufShape(ggufFacts({ metadata, tensorInfos }), fileBytes);
}

/** Reads a local GGUF file's header (not its weights), with the parameter count; the remote twin is HubClient.ggufHeader. */
export function readLocalGgufHeader(file: string) {
  return gguf(file, { allowLocalFile: true, computeParametersCount: true });
}

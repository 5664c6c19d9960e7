// Memory a model needs once loaded: weights + KV cache + compute buffers + runner overhead, from the model's own shape.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { gguf, GGMLFileQuantizationType, type GGUFTensorInfo } from '@huggingface/gguf';
import { InvalidInput } from '../errors.ts';
import type { EstimateDevice, EstimateMemoryResponse } from '../schemas/estimate.ts';
import type { VersionManifest } from '../schemas/models.ts';

const MIB = 1024 * 1024;

/** What the estimate needs to know about a model; read from a GGUF header or a config.json, so it works before download. */
export interface ModelShape {
  format: 'gguf' | 'onnx';
  /** Bytes of the weights (GGUF: tensor data; ONNX: the .onnx file and its external data). */
  weightsBytes: number;
  layerCount: number | null;
  embeddingLength: number | null;
  headCount: number | null;
  headCountKv: number | null;
  /** Trained context (GGUF `<arch>.context_length`, ONNX `max_position_embeddings`). */
  contextLength: number | null;
  vocabSize: number | null;
  quantization: string | null;
  /** Feed-forward width; when unknown, 4 x embeddingLength. */
  feedForwardLength?: number | null;
  /** Width of one attention head when the model states it (GGUF `attention.key_length`, config `head_dim`); else embeddingLength / headCount. */
  headDim?: number | null;
  /** GGUF: bytes of the weights llama.cpp's CPU backend repacks into a second, interleaved copy (see REPACKED_TYPES). */
  repackedBytes?: number;
}

export interface EstimateOptions {
  /** Tokens of context (GGUF: the KV cache; ONNX: the sequence length). Default: what the runner would pick. */
  contextSize?: number;
  /** GGUF: llama.cpp's batch (default min(context, 512)); ONNX: inputs of full length run at once (default 1). */
  batchSize?: number;
  /** GGUF: parallel sequences, each with its own context (the runtime's `parallel`, default 1). */
  sequences?: number;
}

export interface MemoryEstimate {
  weights_bytes: number;
  kv_cache_bytes: number;
  compute_bytes: number;
  runtime_overhead_bytes: number;
  total_bytes: number;
  context_size: number;
  /** The arithmetic with this model's numbers, for people checking the figure. */
  formula: string;
}

/**
 * Resident memory of an idle runner with its runtime imported, measured on this codebase (Node 20, x64 Linux):
 * transformers.js + onnxruntime-node ~300 MiB, node-llama-cpp ~165 MiB (runner RSS once a ~1 MiB model is loaded).
 */
export const RUNNER_OVERHEAD_BYTES: Record<ModelShape['format'], number> = { onnx: 300 * MIB, gguf: 165 * MIB };
/**
 * onnxruntime holds the initialised tensors besides the model bytes it was handed, which the runner frees only when
 * the garbage collector runs: measured after a load and one request, 1.35x (BGE-base shape, 415 MiB) to 1.5x
 * (MiniLM shape, 86 MiB) the file, up to 2x before a collection. llama.cpp maps the file and uses it in place: 1x.
 */
const ONNX_EXTRA_WEIGHT_COPIES = 0.5;
/**
 * ggml types whose 2-D weights llama.cpp's CPU backend repacks at load into an interleaved copy for its SIMD kernels
 * (Q4_0, Q4_K, IQ4_NL), while the mapped file pages it read stay resident: measured 1.29 GiB resident for a 0.62 GB
 * TinyLlama-shaped Q4_0 file. Token embeddings are looked up, not multiplied, and are not repacked.
 */
const REPACKED_TYPES = new Set([2, 12, 20]);
/** Context the llama.cpp runner opens when the load names none: min(trained, this) (DEFAULT_CONTEXT_CAP in llamacpp-backend.ts). */
export const LLAMACPP_DEFAULT_CONTEXT_CAP = 4096;
/** node-llama-cpp's default batch (getDefaultContextBatchSize) and llama.cpp's default micro-batch. */
const LLAMACPP_MAX_BATCH = 512;
const F32_BYTES = 4;
const F16_BYTES = 2;

/** [elements per block, bytes per block] of each ggml tensor type (ggml's type_traits). */
const GGML_BLOCKS: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 40],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82], 23: [256, 136],
  24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2], 34: [256, 54], 35: [256, 66], 39: [32, 17],
};

function numberOrNull(value: unknown): number | null {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // Some architectures give a per-layer array (head counts, FFN widths): the widest layer decides the buffers.
  if (Array.isArray(value)) {
    const numbers = value.map(numberOrNull).filter((v): v is number => v !== null);
    return numbers.length > 0 ? Math.max(...numbers) : null;
  }
  return null;
}

/** Bytes of the tensor data, from each tensor's type and shape; null when a type is not in the table. */
function tensorDataBytes(tensorInfos: GGUFTensorInfo[]): number | null {
  let total = 0;
  for (const tensor of tensorInfos) {
    const block = GGML_BLOCKS[tensor.dtype];
    if (!block) return null;
    const elements = tensor.shape.reduce((product, dim) => product * Number(dim), 1);
    total += Math.ceil(elements / block[0]) * block[1];
  }
  return total;
}

function tensorBytes(tensor: GGUFTensorInfo): number {
  const block = GGML_BLOCKS[tensor.dtype];
  const elements = tensor.shape.reduce((product, dim) => product * Number(dim), 1);
  return block ? Math.ceil(elements / block[0]) * block[1] : 0;
}

/** Bytes of the weights the CPU backend keeps a repacked copy of. */
function repackedBytesOf(tensorInfos: GGUFTensorInfo[]): number {
  return tensorInfos
    .filter((t) => REPACKED_TYPES.has(t.dtype) && t.shape.length >= 2 && t.name !== 'token_embd.weight')
    .reduce((sum, t) => sum + tensorBytes(t), 0);
}

/** The shape of a GGUF model from what `gguf(pathOrUrl, {allowLocalFile: true})` returns, plus the file's size. */
export function shapeFromGgufHeader(metadata: object, tensorInfos: GGUFTensorInfo[], fileBytes: number): ModelShape {
  const meta = metadata as Record<string, unknown>;
  const arch = typeof meta['general.architecture'] === 'string' ? meta['general.architecture'] : null;
  const key = (name: string): number | null => (arch ? numberOrNull(meta[`${arch}.${name}`]) : null);
  const headCount = key('attention.head_count');
  const fileType = numberOrNull(meta['general.file_type']);
  const tokens = meta['tokenizer.ggml.tokens'];
  return {
    format: 'gguf',
    weightsBytes: tensorDataBytes(tensorInfos) ?? fileBytes,
    layerCount: key('block_count'),
    embeddingLength: key('embedding_length'),
    headCount,
    headCountKv: key('attention.head_count_kv') ?? headCount,
    contextLength: key('context_length'),
    vocabSize: key('vocab_size') ?? (Array.isArray(tokens) ? tokens.length : null),
    quantization: fileType === null ? null : (GGMLFileQuantizationType[fileType] ?? `type_${fileType}`),
    feedForwardLength: key('feed_forward_length'),
    headDim: key('attention.key_length'),
    repackedBytes: repackedBytesOf(tensorInfos),
  };
}

/** The shape of an ONNX model from its config.json (BERT-style keys, llama-style and GPT-2-style alternatives). */
export function shapeFromOnnxConfig(configJson: Record<string, unknown>, weightsBytes: number, quantization: string | null = null): ModelShape {
  const first = (...keys: string[]): number | null => {
    for (const k of keys) {
      const value = numberOrNull(configJson[k]);
      if (value !== null) return value;
    }
    return null;
  };
  const headCount = first('num_attention_heads', 'n_head', 'n_heads', 'num_heads');
  return {
    format: 'onnx',
    weightsBytes,
    layerCount: first('num_hidden_layers', 'n_layer', 'n_layers', 'num_layers'),
    embeddingLength: first('hidden_size', 'd_model', 'n_embd', 'dim'),
    headCount,
    headCountKv: first('num_key_value_heads', 'n_head_kv') ?? headCount,
    contextLength: first('max_position_embeddings', 'n_positions', 'max_seq_len'),
    vocabSize: first('vocab_size'),
    quantization,
    feedForwardLength: first('intermediate_size', 'ffn_dim', 'n_inner', 'hidden_dim'),
    headDim: first('head_dim'),
  };
}

/** The context a load gets when none is named: the llama.cpp runner's choice, or an ONNX model's longest input. */
export function defaultContextSize(shape: ModelShape): number {
  if (shape.format === 'gguf') return Math.min(shape.contextLength ?? LLAMACPP_DEFAULT_CONTEXT_CAP, LLAMACPP_DEFAULT_CONTEXT_CAP);
  return shape.contextLength ?? 512;
}

/** 400 for a context the model was not trained for (or not a positive integer). */
export function checkContextSize(shape: ModelShape, contextSize: number): void {
  if (!Number.isSafeInteger(contextSize) || contextSize < 1) {
    throw new InvalidInput(`context_size must be an integer of at least 1, got ${contextSize}`, { context_size: contextSize }, 'invalid_context_size');
  }
  if (shape.contextLength !== null && contextSize > shape.contextLength) {
    throw new InvalidInput(
      `context_size ${contextSize} is over the model's trained context of ${shape.contextLength} tokens`,
      { context_size: contextSize, trained_context: shape.contextLength },
      'invalid_context_size',
    );
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function headDimOf(shape: ModelShape): number | null {
  if (shape.headDim) return shape.headDim;
  return shape.embeddingLength && shape.headCount ? shape.embeddingLength / shape.headCount : null;
}

/**
 * Bytes a load takes (runner RSS), as a formula of the model's own numbers.
 * GGUF (llama.cpp on the CPU, flash attention on, as node-llama-cpp's "auto" picks there):
 *   KV = 2 (K and V) x layers x context x sequences x KV heads x head size x 2 (f16);
 *   compute = batch x 4 x max(3 x FFN + 4 x embedding, vocab + embedding) (the FFN stage or the logits, whichever is
 *   wider) + batch x context x 2 (the f16 attention mask) + vocab x 4 x sequences (the output buffer);
 *   weights used in place from the mapped file.
 * ONNX: no KV cache; compute = batch x sequence x 4 x (2 x heads x sequence + 2 x hidden + FFN) (attention scores and
 *   softmax, hidden states, the FFN activation); onnxruntime keeps a second copy of the weights (runtime overhead).
 */
export function estimateMemory(shape: ModelShape, options: EstimateOptions = {}): MemoryEstimate {
  const contextSize = options.contextSize ?? defaultContextSize(shape);
  const embedding = shape.embeddingLength ?? 0;
  const ffn = shape.feedForwardLength ?? 4 * embedding;
  const vocab = shape.vocabSize ?? 0;
  const headDim = headDimOf(shape);
  const parts: string[] = [`weights ${fmt(shape.weightsBytes)}`];
  let kvCache = 0;
  let compute: number;
  let overhead = RUNNER_OVERHEAD_BYTES[shape.format];
  if (shape.format === 'gguf') {
    const sequences = options.sequences ?? 1;
    const cells = contextSize * sequences;
    const batch = Math.min(options.batchSize ?? LLAMACPP_MAX_BATCH, cells);
    if (shape.layerCount && shape.headCountKv && headDim) {
      kvCache = 2 * shape.layerCount * cells * shape.headCountKv * headDim * F16_BYTES;
      parts.push(`KV cache 2 x ${shape.layerCount} layers x ${contextSize} ctx${sequences > 1 ? ` x ${sequences} seq` : ''} x ${shape.headCountKv} KV heads x ${headDim} head dim x 2 B (f16) = ${fmt(kvCache)}`);
    } else {
      parts.push('KV cache unknown (no layer/head counts): 0');
    }
    compute = batch * F32_BYTES * Math.max(3 * ffn + 4 * embedding, vocab + embedding) + batch * cells * F16_BYTES + vocab * F32_BYTES * sequences;
    parts.push(`compute ${batch} batch x 4 B x max(3 x ${ffn} FFN + 4 x ${embedding} embd, ${vocab} vocab + ${embedding} embd) + ${batch} x ${cells} x 2 B mask + ${vocab} x 4 B x ${sequences} outputs = ${fmt(compute)}`);
    const repacked = shape.repackedBytes ?? 0;
    if (repacked > 0) {
      overhead += repacked;
      parts.push(`runtime overhead ${fmt(RUNNER_OVERHEAD_BYTES.gguf)} (llama.cpp runner) + ${fmt(repacked)} (CPU repacked copy of the Q4_0/Q4_K/IQ4_NL weights) = ${fmt(overhead)}`);
    } else {
      parts.push(`runtime overhead ${fmt(overhead)} (llama.cpp runner)`);
    }
  } else {
    const batch = options.batchSize ?? 1;
    const heads = shape.headCount ?? 1;
    compute = batch * contextSize * F32_BYTES * (2 * heads * contextSize + 2 * embedding + ffn);
    parts.push('KV cache 0 (encoder)');
    parts.push(`compute ${batch} x ${contextSize} tokens x 4 B x (2 x ${heads} heads x ${contextSize} + 2 x ${embedding} hidden + ${ffn} FFN) = ${fmt(compute)}`);
    overhead += ONNX_EXTRA_WEIGHT_COPIES * shape.weightsBytes;
    parts.push(`runtime overhead ${fmt(RUNNER_OVERHEAD_BYTES.onnx)} (onnx runner) + ${ONNX_EXTRA_WEIGHT_COPIES} x weights (onnxruntime's tensors beside the model bytes) = ${fmt(overhead)}`);
  }
  const total = shape.weightsBytes + kvCache + compute + overhead;
  return {
    weights_bytes: Math.round(shape.weightsBytes),
    kv_cache_bytes: Math.round(kvCache),
    compute_bytes: Math.round(compute),
    runtime_overhead_bytes: Math.round(overhead),
    total_bytes: Math.round(total),
    context_size: contextSize,
    formula: `${parts.join(' + ')} = ${fmt(total)} bytes`,
  };
}

/** A device a model could be loaded on: its budget for models, and what is free there now (null when unknown). */
export interface DeviceBudget {
  device: string;
  budget_bytes: number;
  free_bytes: number | null;
}

/** Whether `totalBytes` fits each device's budget (a load may evict idle models, so the budget decides, not the free memory). */
export function fitsDevices(totalBytes: number, devices: DeviceBudget[]): EstimateDevice[] {
  return devices.map((d) => ({ device: d.device, budget_bytes: Math.round(d.budget_bytes), free_bytes: d.free_bytes === null ? null : Math.round(d.free_bytes), fits: totalBytes <= d.budget_bytes }));
}

/** What the reply names besides the estimate: which model and version, where it came from, and its last measurement. */
export interface EstimateContext {
  model: string;
  version: number | null;
  source: EstimateMemoryResponse['source'];
  measured_peak_rss_bytes: number | null;
  /** Defaults to the shape's. */
  quantization?: string | null;
  sequences?: number;
}

/** The estimate-memory reply for a shape (local model or hub repo): checks the context, estimates, and tests each device. */
export function estimateResponse(shape: ModelShape, contextSize: number | undefined, devices: DeviceBudget[], extra: EstimateContext): EstimateMemoryResponse {
  if (contextSize !== undefined) checkContextSize(shape, contextSize);
  const estimate = estimateMemory(shape, { contextSize, sequences: extra.sequences });
  return {
    model: extra.model,
    version: extra.version,
    format: shape.format,
    quantization: extra.quantization === undefined ? shape.quantization : extra.quantization,
    ...estimate,
    measured_peak_rss_bytes: extra.measured_peak_rss_bytes,
    devices: fitsDevices(estimate.total_bytes, devices),
    source: extra.source,
  };
}

/** Files of an ONNX entry: the graph and its external data (`model.onnx_data`, `model.onnx.data`, numbered parts). */
function isOnnxWeightsFile(filePath: string, entry: string): boolean {
  return filePath === entry || filePath.startsWith(`${entry}_data`) || filePath.startsWith(`${entry}.data`);
}

/** The columns of a stored version the shape is read with (a model_versions row). */
export interface StoredVersion {
  format: string;
  /** The version's manifest JSON: `entry` and `files`. */
  manifest: string;
  quantization: string | null;
}

/** Reads the shape of a version in the store: the GGUF header of its entry, or its config.json and ONNX file sizes. */
export async function readStoredShape(modelDir: string, version: StoredVersion): Promise<ModelShape> {
  const manifest = JSON.parse(version.manifest) as VersionManifest;
  const entryPath = path.join(modelDir, manifest.entry);
  if (version.format === 'gguf') {
    const parsed = await gguf(entryPath, { allowLocalFile: true });
    const fileBytes = manifest.files.find((f) => f.path === manifest.entry)?.size_bytes ?? (await fsp.stat(entryPath)).size;
    const shape = shapeFromGgufHeader(parsed.metadata, parsed.tensorInfos, fileBytes);
    return version.quantization === null ? shape : { ...shape, quantization: version.quantization };
  }
  const config = JSON.parse(await fsp.readFile(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const weightsBytes = manifest.files.filter((f) => isOnnxWeightsFile(f.path, manifest.entry)).reduce((sum, f) => sum + f.size_bytes, 0);
  return shapeFromOnnxConfig(config, weightsBytes, version.quantization);
}

/** The shape for a first-load estimate, or null when it cannot be read (placement then goes by the file size alone). */
export async function readStoredShapeOrNull(modelDir: Promise<string>, version: StoredVersion): Promise<ModelShape | null> {
  try {
    return await readStoredShape(await modelDir, version);
  } catch {
    return null;
  }
}

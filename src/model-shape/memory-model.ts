// The one memory model: bytes a load takes (weights + KV cache + compute + runner) in RAM and on a GPU, for the estimate route, placement and the sizing advice.
import { MIB } from '../mebibytes.ts';
import { InvalidInput } from '../errors.ts';
import type { ModelFormat, ModelShape } from './model-shape.ts';
import { diffusersEstimate, safetensorsEstimate, type FormatEstimate } from './safetensors-memory.ts';

/**
 * Resident memory of a runner with its runtime imported and a ~1 MiB model loaded, measured on this codebase's
 * compiled runners (Node 20, x64 Linux, 2026-12-04, with TypeBox/Kysely bundled and glibc's mmap threshold fixed):
 * transformers.js + onnxruntime-node ~100–110 MiB, node-llama-cpp ~85–90 MiB. Before those two changes they were
 * ~135 and ~110 MiB; when runners still ran their TypeScript through tsx, ~300 and ~165 MiB.
 * The estimate's accuracy rests on these facts (README "Memory estimate", benchmark P8); the sizing advice takes
 * the llama.cpp figure, since the quantizations it sizes are GGUF ones.
 */
export const RUNNER_OVERHEAD_BYTES: Readonly<Record<ModelFormat, number>> = {
  onnx: 100 * MIB,
  gguf: 90 * MIB,
  // An Ollama model runs in that server's own runner: nothing of it is in this machine's budget.
  ollama: 0,
  // No backend of Hangar's serves these: the estimate is of the model's own memory, a runtime process adds its own.
  safetensors: 0,
  diffusers: 0,
};
/**
 * When only the weights are known (no shape: the sizing advice, a GPU load without a measurement), KV cache,
 * activations and scratch buffers are taken as this share on top of the weights.
 */
export const WORKING_MEMORY_FRACTION = 0.1;
/** Context the llama.cpp runner opens when the load names none: min(trained, this) (DEFAULT_CONTEXT_CAP in llamacpp-backend.ts). */
export const LLAMACPP_DEFAULT_CONTEXT_CAP = 4096;
/** node-llama-cpp's default batch (getDefaultContextBatchSize) and llama.cpp's default micro-batch. */
const LLAMACPP_MAX_BATCH = 512;
const F32_BYTES = 4;
const F16_BYTES = 2;

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
  /** diffusers: each component's weights and role (the denoiser, VAE and text encoders are resident at once). */
  components?: Array<{ name: string; role: string; weights_bytes: number }>;
  /** diffusers: the same load with the text encoders offloaded to the CPU (moved off the device between prompts). */
  text_encoder_offload?: { offloaded_bytes: number; total_bytes: number };
}

/** The context a load gets when none is named: the llama.cpp runner's choice, or an ONNX model's longest input. */
export function defaultContextSize(shape: ModelShape): number {
  if (shape.format === 'diffusers') return 0;
  if (shape.format === 'gguf' || shape.format === 'safetensors')
    return Math.min(shape.contextLength ?? LLAMACPP_DEFAULT_CONTEXT_CAP, LLAMACPP_DEFAULT_CONTEXT_CAP);
  return shape.contextLength ?? 512;
}

/** 400 for a context the model was not trained for (or not a positive integer). */
export function checkContextSize(shape: ModelShape, contextSize: number): void {
  if (!Number.isSafeInteger(contextSize) || contextSize < 1) {
    throw new InvalidInput(
      `context_size must be an integer of at least 1, got ${contextSize}`,
      { context_size: contextSize },
      'invalid_context_size',
    );
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
 *   weights used in place from the mapped file, plus a second copy of the weights the CPU backend repacks (measured
 *   1.29 GiB resident for a 0.62 GB TinyLlama-shaped Q4_0 file).
 * ONNX: no KV cache; compute = batch x sequence x 4 x (2 x heads x sequence + 2 x hidden + FFN) (attention scores and
 *   softmax, hidden states, the FFN activation); the weights once: onnxruntime reads the file by path and the runner
 *   returns its load buffers (measured 2026-12-04 after a load and one request: MiniLM shape 235 MiB, BGE-base 571 MiB;
 *   before, buffers nobody used held up to another copy of the file until a garbage collection).
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
  if (shape.format === 'safetensors' || shape.format === 'diffusers') {
    const own: FormatEstimate =
      shape.format === 'diffusers' ? diffusersEstimate(shape) : safetensorsEstimate(shape, contextSize, options.sequences ?? 1, headDim);
    return formatReply(shape, contextSize, [...parts, ...own.parts], own, overhead);
  }
  if (shape.format === 'gguf') {
    const sequences = options.sequences ?? 1;
    const cells = contextSize * sequences;
    const batch = Math.min(options.batchSize ?? LLAMACPP_MAX_BATCH, cells);
    if (shape.layerCount && shape.headCountKv && headDim) {
      kvCache = 2 * shape.layerCount * cells * shape.headCountKv * headDim * F16_BYTES;
      parts.push(
        `KV cache 2 x ${shape.layerCount} layers x ${contextSize} ctx${sequences > 1 ? ` x ${sequences} seq` : ''} x ${shape.headCountKv} KV heads x ${headDim} head dim x 2 B (f16) = ${fmt(kvCache)}`,
      );
    } else {
      parts.push('KV cache unknown (no layer/head counts): 0');
    }
    compute =
      batch * F32_BYTES * Math.max(3 * ffn + 4 * embedding, vocab + embedding) + batch * cells * F16_BYTES + vocab * F32_BYTES * sequences;
    parts.push(
      `compute ${batch} batch x 4 B x max(3 x ${ffn} FFN + 4 x ${embedding} embd, ${vocab} vocab + ${embedding} embd) + ${batch} x ${cells} x 2 B mask + ${vocab} x 4 B x ${sequences} outputs = ${fmt(compute)}`,
    );
    const repacked = shape.repackedBytes ?? 0;
    if (repacked > 0) {
      overhead += repacked;
      parts.push(
        `runtime overhead ${fmt(RUNNER_OVERHEAD_BYTES.gguf)} (llama.cpp runner) + ${fmt(repacked)} (CPU repacked copy of the Q4_0/Q4_K/IQ4_NL weights) = ${fmt(overhead)}`,
      );
    } else {
      parts.push(`runtime overhead ${fmt(overhead)} (llama.cpp runner)`);
    }
  } else {
    const batch = options.batchSize ?? 1;
    const heads = shape.headCount ?? 1;
    compute = batch * contextSize * F32_BYTES * (2 * heads * contextSize + 2 * embedding + ffn);
    parts.push('KV cache 0 (encoder)');
    parts.push(
      `compute ${batch} x ${contextSize} tokens x 4 B x (2 x ${heads} heads x ${contextSize} + 2 x ${embedding} hidden + ${ffn} FFN) = ${fmt(compute)}`,
    );
    parts.push(`runtime overhead ${fmt(overhead)} (onnx runner)`);
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

/** The estimate of a format the memory model sizes in safetensors-memory.ts. */
function formatReply(shape: ModelShape, contextSize: number, parts: string[], own: FormatEstimate, overhead: number): MemoryEstimate {
  const total = shape.weightsBytes + own.kvCache + own.compute + overhead;
  return {
    weights_bytes: Math.round(shape.weightsBytes),
    kv_cache_bytes: Math.round(own.kvCache),
    compute_bytes: Math.round(own.compute),
    runtime_overhead_bytes: Math.round(overhead),
    total_bytes: Math.round(total),
    context_size: contextSize,
    formula: `${parts.join(' + ')} = ${fmt(total)} bytes`,
    ...(shape.components
      ? { components: shape.components.map((c) => ({ name: c.name, role: c.role, weights_bytes: Math.round(c.weightsBytes) })) }
      : {}),
    ...(own.offload
      ? {
          text_encoder_offload: {
            offloaded_bytes: Math.round(own.offload.offloadedBytes),
            total_bytes: Math.round(own.offload.totalBytes + overhead),
          },
        }
      : {}),
  };
}

/** A llama.cpp load sized by its weights alone: weights x (1 + working share) + the runner. */
export function weightsOnlyBytes(weightsBytes: number): number {
  return weightsBytes * (1 + WORKING_MEMORY_FRACTION) + RUNNER_OVERHEAD_BYTES.gguf;
}

/** The inverse of {@link weightsOnlyBytes}: the largest weights a budget holds (0 when it does not even hold the runner). */
export function weightsThatFitBytes(budgetBytes: number): number {
  return Math.max(0, (budgetBytes - RUNNER_OVERHEAD_BYTES.gguf) / (1 + WORKING_MEMORY_FRACTION));
}

/** VRAM a GPU load takes: measured where known, else the weights-only sizing of the file (the sizing advice's rule). */
export function estimateVramBytes(artifactBytes: number, measuredBytes: number | null): number {
  return measuredBytes && measuredBytes > 0 ? measuredBytes : Math.round(weightsOnlyBytes(artifactBytes));
}

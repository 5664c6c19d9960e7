// Which GGUF weights llama.cpp's CPU backend copies at load into a buffer of its own (beside the mapped file), on this host's CPU.
import fs from 'node:fs';
import { GGMLQuantizationType as T } from '@huggingface/gguf';

/**
 * `repack`: x86 with AVX2 and no AMX, where the CPU backend repacks Q4_0/Q4_K/IQ4_NL matrices into an interleaved copy;
 * `amx`: a CPU with AMX (Sapphire Rapids and later), where the AMX backend also copies F16, Q8_0 and the other K-quant
 * matrices into its own tile layout (measured: an F16 TinyLlama holds 1973 MiB AMX buffer + 1973 MiB mapped file).
 */
export type CpuWeightCopy = 'repack' | 'amx';

/** Types the CPU backend repacks (ggml-cpu's repack buffer). */
const REPACKED = new Set<number>([T.Q4_0, T.Q4_K, T.IQ4_NL]);
/** Types the AMX buffer takes, with the row alignment each needs (ggml-cpu/amx's supports_op). */
const AMX_ALIGNMENT = new Map<number, number>([
  [T.Q4_0, 32],
  [T.Q4_1, 32],
  [T.Q8_0, 32],
  [T.Q4_K, 256],
  [T.Q5_K, 256],
  [T.Q6_K, 256],
  [T.IQ4_XS, 256],
  [T.F16, 16],
]);
/** The AMX kernels work on 32 output rows at a time. */
const AMX_OUTPUT_TILE = 32;

let host: CpuWeightCopy | undefined;

/** This host's kind, from /proc/cpuinfo's flags (read once); `repack` where they cannot be read. */
export function hostCpuWeightCopy(): CpuWeightCopy {
  if (host === undefined) {
    let flags = '';
    try {
      flags = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
    } catch {
      // Not Linux, or no /proc: no AMX copy is assumed.
    }
    const words = new Set(flags.trim().split(/\s+/));
    host = words.has('amx_int8') && words.has('amx_tile') ? 'amx' : 'repack';
  }
  return host;
}

interface WeightTensor {
  name: string;
  dtype: number;
  shape: readonly bigint[];
}

/** Whether the CPU backend keeps a second copy of this tensor: a multiplied matrix (token embeddings are looked up). */
export function isCopiedOnCpu(tensor: WeightTensor, kind: CpuWeightCopy = hostCpuWeightCopy()): boolean {
  if (tensor.shape.length < 2 || tensor.name === 'token_embd.weight') return false;
  if (REPACKED.has(tensor.dtype)) return true;
  if (kind !== 'amx') return false;
  const alignment = AMX_ALIGNMENT.get(tensor.dtype);
  const [columns = 0n, rows = 0n] = tensor.shape;
  return alignment !== undefined && Number(columns) % alignment === 0 && Number(rows) % AMX_OUTPUT_TILE === 0;
}

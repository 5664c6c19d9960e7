// Sizing advice from a hardware profile and the memory budgets: threads per runner, largest model per quantization, GPU offload.
import { MIB } from '../mebibytes.ts';
import { GGMLQuantizationType } from '@huggingface/gguf';
import { bytesPerWeight } from '../model-shape/ggml-types.ts';
import { RUNNER_OVERHEAD_BYTES, WORKING_MEMORY_FRACTION, weightsThatFitBytes } from '../model-shape/memory-model.ts';
import type { AdviceQuantization, HardwareProfile, Recommendations } from '../schemas/monitoring.ts';

const GIB = 1024 * MIB;

const QUANTIZATIONS = ['F16', 'Q8_0', 'Q4_K_M', 'Q4_0'] as const satisfies readonly AdviceQuantization[];

/**
 * Weight bytes per parameter, from the ggml block sizes: Q8_0 and Q4_0 are 34 and 18 bytes per 32 weights;
 * Q4_K_M is taken at the 4.5 bits of its Q4_K blocks, which undercounts the Q6_K tensors it mixes in (~5%).
 */
export const BYTES_PER_PARAMETER: Readonly<Record<AdviceQuantization, number>> = {
  F16: bytesPerWeight(GGMLQuantizationType.F16),
  Q8_0: bytesPerWeight(GGMLQuantizationType.Q8_0),
  Q4_K_M: bytesPerWeight(GGMLQuantizationType.Q4_K),
  Q4_0: bytesPerWeight(GGMLQuantizationType.Q4_0),
};

/** Memory budgets in bytes; `vramBudgetBytesPerGpu[i]` belongs to `profile.gpus[i]`. */
export interface RecommendBudgets {
  ramBudgetBytes: number;
  vramBudgetBytesPerGpu: number[];
}

/** The memory model's weights-only sizing solved for the parameter count, floored to 0.1B so it always fits. */
function maxParametersBillions(budgetBytes: number, quant: AdviceQuantization): number {
  const forWeights = weightsThatFitBytes(budgetBytes);
  if (!(forWeights > 0)) return 0;
  return Math.floor(forWeights / BYTES_PER_PARAMETER[quant] / 1e8) / 10;
}

function maxForAll(budget: number): Record<AdviceQuantization, number> {
  const max = (q: AdviceQuantization): number => maxParametersBillions(budget, q);
  return { F16: max('F16'), Q8_0: max('Q8_0'), Q4_K_M: max('Q4_K_M'), Q4_0: max('Q4_0') };
}

function pickQuantization(max: Record<AdviceQuantization, number>): AdviceQuantization {
  const fits7b = QUANTIZATIONS.find((q) => max[q] >= 7);
  if (fits7b) return fits7b;
  // Strictly greater keeps the higher-precision one on ties (Q4_K_M over Q4_0 at equal size).
  return QUANTIZATIONS.reduce((best, q) => (max[q] > max[best] ? q : best), QUANTIZATIONS[0]);
}

/** `F16 2.0, Q8_0 1.0625, …` for the notes. */
function bytesPerParameterText(): string {
  return QUANTIZATIONS.map(
    (q) => `${q} ${Number.isInteger(BYTES_PER_PARAMETER[q]) ? BYTES_PER_PARAMETER[q].toFixed(1) : BYTES_PER_PARAMETER[q]}`,
  ).join(', ');
}

/** Pure: the same profile and budgets always give the same advice. */
export function recommend(profile: HardwareProfile, budgets: RecommendBudgets): Recommendations {
  const physical = profile.cpu.physical_cores;
  const threads = Math.max(1, physical - 1);
  const max = maxForAll(budgets.ramBudgetBytes);
  const notes: string[] = [
    `threads_per_runner ${threads}: ${physical} physical cores minus one left for the server's event loop and the OS; ` +
      `token generation is memory-bandwidth bound, so SMT siblings (${profile.cpu.logical_cores} logical) add little and are not counted`,
    `sizes: weights × bytes/parameter (${bytesPerParameterText()}) + ${WORKING_MEMORY_FRACTION * 100}% working memory ` +
      `+ ${RUNNER_OVERHEAD_BYTES.gguf / MIB} MiB runner overhead, against a RAM budget of ${(budgets.ramBudgetBytes / GIB).toFixed(1)} GiB; long contexts need more KV cache`,
  ];
  if (budgets.ramBudgetBytes > profile.memory.available_mb * MIB) {
    notes.push(`the RAM budget exceeds the memory available now (${profile.memory.available_mb} MiB)`);
  }
  const flags = profile.cpu.flags;
  if (profile.os.arch === 'x64' && !flags.avx2) notes.push('CPU lacks AVX2: llama.cpp falls back to slow SSE kernels');
  if (profile.os.arch === 'x64' && flags.avx512f)
    notes.push(`CPU has AVX-512${flags.avx512_vnni ? ' with VNNI: fast quantized dot products' : ''}`);
  if (profile.os.arch.startsWith('arm') && !flags.neon) notes.push('CPU reports no NEON: llama.cpp will be slow');

  const parts: string[] = [];
  profile.gpus.forEach((gpu, i) => {
    const budget = budgets.vramBudgetBytesPerGpu[i] ?? 0;
    if (budget <= 0) return;
    const g = maxForAll(budget);
    parts.push(
      `GPU ${gpu.index} (${gpu.name}, ${(budget / GIB).toFixed(1)} GiB budget): ` +
        `up to ~${g.F16}B at F16, ~${g.Q8_0}B at Q8_0, ~${g.Q4_K_M}B at Q4_K_M`,
    );
  });
  let gpuOffload: string;
  if (profile.gpus.length === 0) gpuOffload = 'no GPU: CPU only';
  else if (parts.length === 0) gpuOffload = 'GPU present but no VRAM budget: CPU only';
  else gpuOffload = parts.join('; ');
  if (profile.gpus.length === 0 && profile.gpu_reason) notes.push(`no GPU: ${profile.gpu_reason}`);
  if (parts.length > 0) {
    const llama = profile.runtimes.llamacpp.gpu_support;
    if (!llama.cuda && !llama.vulkan)
      notes.push('no CUDA or Vulkan prebuilt of node-llama-cpp is installed: GGUF models cannot offload to the GPU');
    if (!profile.runtimes.onnx.execution_providers.includes('cuda')) {
      notes.push('onnxruntime-node has no CUDA provider libraries installed: ONNX models run on the CPU');
    }
  }
  return {
    threads_per_runner: threads,
    max_model_parameters_billions: max,
    suggested_quantization: pickQuantization(max),
    gpu_offload: gpuOffload,
    notes,
  };
}

// Chooses the device for a load: CPU, or a GPU where one exists and the backend can use it (409 no_gpu otherwise).
import { Conflict, InvalidInput } from '../errors.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import type { Backend } from './protocol.ts';

export interface DeviceChoice {
  device: 'cpu' | 'gpu';
  gpuIndex: number | null;
  /** Set when the result differs from what was asked (auto fell back to CPU). */
  note: string | null;
}

/** Why a backend cannot use a GPU on this install, or null when it can. */
function backendGpuProblem(backend: Backend): string | null {
  // onnxruntime-node ships CPU (and WebGPU) providers only; its CUDA provider is a separate install.
  return backend === 'onnx' ? 'the onnx backend has no GPU execution provider installed (onnxruntime-node CPU build)' : null;
}

export function chooseDevice(requested: 'cpu' | 'gpu' | 'auto', gpuIndex: number | undefined, backend: Backend, gpus: GpuQuery): DeviceChoice {
  if (requested === 'cpu') {
    if (gpuIndex !== undefined) throw new InvalidInput('gpu is only meaningful with device "gpu" or "auto"', { field: 'gpu' });
    return { device: 'cpu', gpuIndex: null, note: null };
  }
  const problem = !gpus.available
    ? `no GPU available (${gpus.reason})`
    : gpuIndex !== undefined && !gpus.gpus.some((g) => g.index === gpuIndex)
      ? `GPU ${gpuIndex} not found (GPUs: ${gpus.gpus.map((g) => g.index).join(', ')})`
      : backendGpuProblem(backend);
  if (problem === null) return { device: 'gpu', gpuIndex: gpuIndex ?? gpus.gpus[0].index, note: null };
  if (requested === 'gpu') throw new Conflict(`Cannot load on a GPU: ${problem}`, { reason: problem }, 'no_gpu');
  return { device: 'cpu', gpuIndex: null, note: `auto: running on CPU because ${problem}` };
}

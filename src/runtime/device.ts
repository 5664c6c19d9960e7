// Chooses the device for a load: CPU, or a GPU where one exists and the backend can use it (409 no_gpu otherwise).
import { Conflict, InvalidInput } from '../errors.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import type { DeviceChoice } from './backend-contract.ts';
import { backendSpec, type BackendId } from './backends.ts';

export function chooseDevice(
  requested: 'cpu' | 'gpu' | 'auto',
  gpuIndex: number | undefined,
  backend: BackendId,
  gpus: GpuQuery,
): DeviceChoice {
  // An external server places its models itself; its /api/ps says where they ended up.
  if (backendSpec(backend).hosting === 'external') return { device: 'cpu', gpuIndex: null, note: null };
  if (requested === 'cpu') {
    if (gpuIndex !== undefined) throw new InvalidInput('gpu is only meaningful with device "gpu" or "auto"', { field: 'gpu' });
    return { device: 'cpu', gpuIndex: null, note: null };
  }
  const problem = !gpus.available
    ? `no GPU available (${gpus.reason})`
    : gpuIndex !== undefined && !gpus.gpus.some((g) => g.index === gpuIndex)
      ? `GPU ${gpuIndex} not found (GPUs: ${gpus.gpus.map((g) => g.index).join(', ')})`
      : backendSpec(backend).gpuUnavailableReason;
  if (problem === null) {
    const chosen = gpuIndex ?? gpus.gpus[0]?.index;
    if (chosen === undefined) throw new Error('internal: nvidia-smi is available but lists no GPU');
    return { device: 'gpu', gpuIndex: chosen, note: null };
  }
  if (requested === 'gpu') throw new Conflict(`Cannot load on a GPU: ${problem}`, { reason: problem }, 'no_gpu');
  return { device: 'cpu', gpuIndex: null, note: `auto: running on CPU because ${problem}` };
}

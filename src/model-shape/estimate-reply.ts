// The estimate-memory reply for a shape (local model or hub repo): the memory model's figures and which devices they fit.
import type { EstimateDevice, EstimateMemoryResponse } from '../schemas/estimate.ts';
import { checkContextSize, estimateMemory } from './memory-model.ts';
import type { ModelShape } from './model-shape.ts';

/** A device a model could be loaded on: its budget for models, and what is free there now (null when unknown). */
export interface DeviceBudget {
  device: string;
  budget_bytes: number;
  free_bytes: number | null;
}

/** Whether `totalBytes` fits each device's budget (a load may evict idle models, so the budget decides, not the free memory). */
export function fitsDevices(totalBytes: number, devices: DeviceBudget[], offloadedTotalBytes?: number): EstimateDevice[] {
  return devices.map((d) => ({
    device: d.device,
    budget_bytes: Math.round(d.budget_bytes),
    free_bytes: d.free_bytes === null ? null : Math.round(d.free_bytes),
    fits: totalBytes <= d.budget_bytes,
    // Offloading the text encoders moves them to RAM: it relieves a GPU, not the CPU that holds them anyway.
    ...(offloadedTotalBytes === undefined ? {} : { fits_with_offload: d.device === 'cpu' ? null : offloadedTotalBytes <= d.budget_bytes }),
  }));
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

/** Checks the context, estimates, and tests each device. */
export function estimateResponse(
  shape: ModelShape,
  contextSize: number | undefined,
  devices: DeviceBudget[],
  extra: EstimateContext,
): EstimateMemoryResponse {
  if (contextSize !== undefined) checkContextSize(shape, contextSize);
  const estimate = estimateMemory(shape, { contextSize, sequences: extra.sequences });
  return {
    model: extra.model,
    version: extra.version,
    format: shape.format,
    quantization: extra.quantization === undefined ? shape.quantization : extra.quantization,
    ...estimate,
    measured_peak_rss_bytes: extra.measured_peak_rss_bytes,
    devices: fitsDevices(estimate.total_bytes, devices, estimate.text_encoder_offload?.total_bytes),
    source: extra.source,
    quantization_options: [],
  };
}

// Memory estimates for a hub repo variant before downloading it: the shape comes from the remote GGUF header or config.json.
import { estimateResponse, type DeviceBudget } from '../model-shape/estimate-reply.ts';
import { ggufFacts, ggufShape } from '../model-shape/gguf-facts.ts';
import type { ModelFormat, ModelShape } from '../model-shape/model-shape.ts';
import { shapeFromOnnxConfig } from '../model-shape/onnx-config-facts.ts';
import type { EstimateMemoryResponse, QuantizationOption } from '../schemas/estimate.ts';
import type { HubClient } from './hub-client.ts';
import type { Variant } from '../schemas/hub.ts';
import { chooseVariant, listVariants } from './variants.ts';
import { hubSafetensorsShape } from './hub-safetensors.ts';
import type { GGUFTensorInfo } from '@huggingface/gguf';

/** The shape of one variant of a repo, read without downloading its weights. */
export async function hubVariantShape(
  hub: HubClient,
  repoId: string,
  revision: string,
  wanted: string | undefined,
): Promise<{ shape: ModelShape; variant: Variant; ggufTensors?: GGUFTensorInfo[] }> {
  const snapshot = await hub.repo(repoId, revision);
  const variant = chooseVariant(listVariants(snapshot.files), wanted, repoId);
  if (variant.format === 'gguf') {
    const header = await hub.ggufHeader(repoId, snapshot.commit_sha, variant.entry);
    return {
      shape: { ...ggufShape(ggufFacts(header), variant.size_bytes), quantization: variant.quantization },
      variant,
      ggufTensors: header.tensorInfos,
    };
  }
  if (variant.format === 'safetensors' || variant.format === 'diffusers') {
    return { shape: await hubSafetensorsShape(hub, snapshot, variant), variant };
  }
  const config = await hub.repoConfig(snapshot);
  return { shape: shapeFromOnnxConfig(config, variant.size_bytes, variant.quantization), variant };
}

/** The estimate-memory reply for a hub repo (`model` is the repo id). */
export async function estimateHubRepo(
  hub: HubClient,
  query: { model: string; variant?: string; context_size?: number; revision?: string },
  budgets: (format: ModelFormat) => Promise<DeviceBudget[]>,
  sequences: number,
  /** What each quantization type would take (a full-precision repo can be downloaded with `quantize`). */
  quantizationOptions?: (shape: ModelShape, ggufTensors: GGUFTensorInfo[] | undefined, devices: DeviceBudget[]) => QuantizationOption[],
): Promise<EstimateMemoryResponse> {
  const { shape, variant, ggufTensors } = await hubVariantShape(hub, query.model, query.revision ?? 'main', query.variant);
  const devices = await budgets(shape.format);
  const reply = estimateResponse(shape, query.context_size, devices, {
    model: query.model,
    version: null,
    source: 'hub',
    measured_peak_rss_bytes: null,
    // safetensors record the headers' dtype, as a download would.
    quantization: variant.format === 'safetensors' || variant.format === 'diffusers' ? shape.quantization : variant.quantization,
    sequences,
  });
  return { ...reply, quantization_options: quantizationOptions?.(shape, ggufTensors, devices) ?? [] };
}

// The memory model's arithmetic for safetensors models (weights by dtype, KV cache from config.json) and diffusers pipelines (components resident at once).
import type { ModelShape, ShapeComponent } from './model-shape.ts';

/** Activations of a denoising step and the VAE decode, as a share of their weights (a rule of thumb, not a measurement). */
export const DIFFUSERS_ACTIVATION_FRACTION = 0.1;
/** Tokens one forward pass of a transformers runtime takes at once when sizing its activations (as llama.cpp's batch). */
const PREFILL_BATCH = 512;
const F32_BYTES = 4;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The parts of an estimate both formats fill (the runtime overhead is 0: no runner of Hangar's serves them). */
export interface FormatEstimate {
  kvCache: number;
  compute: number;
  parts: string[];
  /** diffusers: the text encoders moved to the CPU between prompts (their bytes), and the total left on the device. */
  offload?: { offloadedBytes: number; totalBytes: number };
}

/**
 * A transformers model at `contextSize` tokens (x sequences):
 *   KV = 2 (K and V) x layers x context x sequences x KV heads x head size x bytes of the weights' dtype;
 *   compute = batch x 4 B x max(3 x FFN + 4 x embedding, vocab + embedding) + vocab x 4 B x sequences (the logits).
 */
export function safetensorsEstimate(shape: ModelShape, contextSize: number, sequences: number, headDim: number | null): FormatEstimate {
  const element = shape.elementBytes ?? 2;
  const embedding = shape.embeddingLength ?? 0;
  const ffn = shape.feedForwardLength ?? 4 * embedding;
  const vocab = shape.vocabSize ?? 0;
  const parts: string[] = [];
  let kvCache = 0;
  if (shape.layerCount && shape.headCountKv && headDim) {
    kvCache = 2 * shape.layerCount * contextSize * sequences * shape.headCountKv * headDim * element;
    parts.push(
      `KV cache 2 x ${shape.layerCount} layers x ${contextSize} ctx${sequences > 1 ? ` x ${sequences} seq` : ''} x ${shape.headCountKv} KV heads x ${headDim} head dim x ${element} B (weights' dtype) = ${fmt(kvCache)}`,
    );
  } else {
    parts.push('KV cache unknown (config.json states no layer/head counts): 0');
  }
  const batch = Math.min(PREFILL_BATCH, contextSize * sequences);
  const compute = batch * F32_BYTES * Math.max(3 * ffn + 4 * embedding, vocab + embedding) + vocab * F32_BYTES * sequences;
  parts.push(
    `compute ${batch} batch x 4 B x max(3 x ${ffn} FFN + 4 x ${embedding} embd, ${vocab} vocab + ${embedding} embd) + ${vocab} x 4 B x ${sequences} logits = ${fmt(compute)}`,
    'runtime overhead 0 (no backend in this Hangar serves safetensors; a runtime process adds its own)',
  );
  return { kvCache, compute, parts };
}

const resident = (components: ShapeComponent[]) => components.filter((c) => c.role !== 'other');
const bytesOf = (components: ShapeComponent[]) => components.reduce((sum, c) => sum + c.weightsBytes, 0);

/**
 * A diffusers pipeline generating: the denoiser (transformer or U-Net), the VAE and the text encoders resident at once;
 * compute = 0.1 x (denoiser + VAE). With the text encoders offloaded to the CPU, the device holds the denoiser, the VAE
 * and the compute only.
 */
export function diffusersEstimate(shape: ModelShape): FormatEstimate {
  const components = resident(shape.components ?? []);
  const textEncoders = components.filter((c) => c.role === 'text_encoder');
  const onDevice = components.filter((c) => c.role !== 'text_encoder');
  const compute = DIFFUSERS_ACTIVATION_FRACTION * bytesOf(onDevice);
  const parts = [
    `resident ${components.map((c) => `${c.name} ${fmt(c.weightsBytes)}`).join(' + ') || 'none'}`,
    'KV cache 0 (diffusion)',
    `compute ${DIFFUSERS_ACTIVATION_FRACTION} x (${onDevice.map((c) => c.name).join(' + ') || 'nothing'}) = ${fmt(compute)}`,
    'runtime overhead 0 (no backend in this Hangar serves diffusers; a runtime process adds its own)',
  ];
  const offloaded = bytesOf(textEncoders);
  return { kvCache: 0, compute, parts, offload: { offloadedBytes: offloaded, totalBytes: bytesOf(onDevice) + compute } };
}

/** A diffusers component's role by its folder name (and the pipeline's [library, class] when known). */
export function componentRole(name: string, className: string | null): ShapeComponent['role'] {
  if (name === 'transformer' || name === 'unet' || name.startsWith('transformer_') || name === 'prior' || name === 'decoder')
    return 'denoiser';
  if (name === 'vae' || name.startsWith('vae_') || /^Autoencoder/.test(className ?? '')) return 'vae';
  if (name.startsWith('text_encoder')) return 'text_encoder';
  return 'other';
}

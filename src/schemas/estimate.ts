// Schemas of the memory estimate: GET /api/v1/models/estimate-memory query and reply.
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { ModelFormat } from './models.ts';
import { Revision } from './names.ts';

export const EstimateMemoryQuery = Type.Object({
  model: Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'A local model (`name`, `name:version`, `name:alias`), or a hub repo id (`org/name`) when no local model has that name.',
  }),
  variant: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        "Quantization (Q8_0, F16, fp32, q8…); for a local model it must be the version's own; for a hub repo it picks the variant (default: the repo's default).",
    }),
  ),
  revision: Type.Optional(Revision('Hub repos: branch, tag or commit (default main).')),
  context_size: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 1_048_576,
      description:
        'Context in tokens (GGUF: the KV cache; ONNX: the input length). Default: what a load would use; over the trained context is refused.',
    }),
  ),
});
export type EstimateMemoryQuery = Static<typeof EstimateMemoryQuery>;

export const EstimateDevice = Type.Object({
  device: Type.String({ description: '`cpu` or `gpu_<index>`.' }),
  budget_bytes: Type.Integer({
    description: 'Memory loaded models may use there (memory.ram_budget_mb / vram_budget_mb, less what other processes hold on a GPU).',
  }),
  free_bytes: Nullable(
    Type.Integer({ description: 'Free now: the budget less what loaded models use, capped by what the OS or nvidia-smi reports free.' }),
  ),
  fits: Type.Boolean({ description: 'total_bytes is within the budget (idle models may have to be evicted first).' }),
  fits_with_offload: Type.Optional(
    Nullable(
      Type.Boolean({
        description:
          'diffusers, on a GPU: text_encoder_offload.total_bytes is within the budget (the text encoders held in RAM); null on the CPU.',
      }),
    ),
  ),
});
export type EstimateDevice = Static<typeof EstimateDevice>;

export const QuantizationOption = Type.Object({
  type: Type.String({ description: 'A type POST /api/v1/models/{name}/quantize (or a load with `quantization`) takes.' }),
  bits: Nullable(Type.Integer({ description: 'Bits per weight the type is named for (K-quant mixes keep some tensors at more).' })),
  weights_bytes: Type.Integer({ description: 'Weights in this type (GGUF: each tensor at the type llama.cpp would give it).' }),
  total_bytes: Type.Integer({ description: 'The whole estimate (weights, KV cache, compute, runner) in this type.' }),
  tensor_types: Nullable(
    Type.Record(Type.String(), Type.Integer(), { description: "GGUF: tensors per type llama.cpp's rules would choose; null for ONNX." }),
  ),
  devices: Type.Array(EstimateDevice),
  version: Nullable(Type.Integer({ description: 'The version of this model that already holds this quantization, if any.' })),
});
export type QuantizationOption = Static<typeof QuantizationOption>;

export const EstimateMemoryResponse = Type.Object({
  model: Type.String(),
  version: Nullable(Type.Integer()),
  format: ModelFormat,
  quantization: Nullable(Type.String()),
  context_size: Type.Integer(),
  weights_bytes: Type.Integer(),
  kv_cache_bytes: Type.Integer({ description: '2 (K, V) x layers x context x KV heads x head size x 2 bytes (f16); 0 for encoders.' }),
  compute_bytes: Type.Integer({ description: 'Working buffers: activations, logits and attention mask for one batch.' }),
  runtime_overhead_bytes: Type.Integer({
    description: "The runner process with its runtime loaded (and onnxruntime's copy of the weights).",
  }),
  total_bytes: Type.Integer(),
  formula: Type.String({ description: "The arithmetic with this model's numbers." }),
  measured_peak_rss_bytes: Nullable(
    Type.Integer({ description: 'Peak RSS measured the last time this version was loaded on the CPU; null if never.' }),
  ),
  devices: Type.Array(EstimateDevice),
  components: Type.Optional(
    Type.Array(Type.Object({ name: Type.String(), role: Type.String(), weights_bytes: Type.Integer() }), {
      description: 'diffusers: each component with weights and its role (denoiser, vae, text_encoder resident at once; other).',
    }),
  ),
  text_encoder_offload: Type.Optional(
    Type.Object(
      {
        offloaded_bytes: Type.Integer({ description: 'The text encoders, held in RAM instead.' }),
        total_bytes: Type.Integer({ description: 'What stays on the device: denoiser + VAE + compute.' }),
      },
      { description: 'diffusers: the same load with CPU offload of the text encoders.' },
    ),
  ),
  source: Type.Union([Type.Literal('local'), Type.Literal('hub')]),
  quantization_options: Type.Array(QuantizationOption, {
    description:
      'For a full-precision model: each type Hangar can quantize it to, with its estimate and fit (the dashboard shows "Q4_K_M: 0.7 GB, fits" before anything exists); empty for a quantized one.',
  }),
});
export type EstimateMemoryResponse = Static<typeof EstimateMemoryResponse>;

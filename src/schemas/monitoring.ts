// Schemas of the monitoring replies: model metrics (seed 000 shape plus more), GPU status, resources, summary, hardware profile, optimization.
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';

export const MetricsSnapshot = Type.Object({
  total_inferences: Type.Integer(),
  successful_inferences: Type.Integer(),
  failed_inferences: Type.Integer(),
  average_latency_ms: Nullable(Type.Number()),
  throughput_per_sec: Type.Number({ description: 'Requests per second over the last 60 s.' }),
  error_rate: Type.Number(),
  latency_ms: Type.Object({
    p50: Nullable(Type.Number()),
    p95: Nullable(Type.Number()),
    p99: Nullable(Type.Number()),
    window_seconds: Type.Integer(),
  }),
  tokens_per_sec: Nullable(
    Type.Number({ description: 'Generated tokens per second of generation time (generate/chat), null when none ran.' }),
  ),
  failures_by_reason: Type.Record(Type.String(), Type.Integer()),
});
export type MetricsSnapshot = Static<typeof MetricsSnapshot>;

export const ModelMetricsEntry = Type.Intersect([
  MetricsSnapshot,
  Type.Object({
    status: Type.String(),
    version: Nullable(Type.Integer()),
    queue_depth: Type.Integer(),
    in_flight: Type.Integer(),
    load_count: Type.Integer(),
    last_load_ms: Nullable(Type.Number()),
  }),
]);
export type ModelMetricsEntry = Static<typeof ModelMetricsEntry>;

export const MetricsReply = Type.Object({
  enabled: Type.Boolean({ description: 'false when MODEL_METRICS_ENABLED=false: nothing is collected.' }),
  message: Type.Optional(Type.String()),
  metrics: Type.Intersect([MetricsSnapshot, Type.Object({ gpu_utilization: Type.Record(Type.String(), Nullable(Type.Number())) })]),
  models: Type.Record(Type.String(), ModelMetricsEntry),
});
export type MetricsReply = Static<typeof MetricsReply>;

const GpuEntry = Type.Object({
  index: Type.Integer(),
  name: Type.String(),
  uuid: Type.String(),
  memory_total_mb: Type.Number(),
  memory_used_mb: Type.Number(),
  memory_free_mb: Type.Number(),
  utilization_percent: Nullable(Type.Number()),
  temperature_c: Nullable(Type.Number()),
  power_w: Nullable(Type.Number()),
  processes: Type.Array(
    Type.Object({ pid: Type.Integer(), process_name: Type.String(), model: Nullable(Type.String()), memory_mb: Type.Number() }),
  ),
});

export const GpuStatusReply = Type.Object({
  available: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  gpus: Type.Record(Type.String(), GpuEntry),
});
export type GpuStatusReply = Static<typeof GpuStatusReply>;

const Cpu = {
  cpu_seconds: Nullable(Type.Number()),
  cpu_percent: Nullable(Type.Number({ description: 'Since the previous call (within a minute), else null.' })),
};
export const ResourcesReply = Type.Object({
  server: Type.Object({ pid: Type.Integer(), memory_mb: Type.Number(), ...Cpu }),
  runners: Type.Array(
    Type.Object({
      model: Type.String(),
      version: Nullable(Type.Integer()),
      status: Type.String(),
      pid: Type.Integer(),
      device: Type.String(),
      memory_mb: Type.Number(),
      vram_mb: Nullable(Type.Number()),
      ...Cpu,
    }),
  ),
  external: Type.Array(
    Type.Object({
      model: Type.String(),
      version: Nullable(Type.Integer()),
      status: Type.String(),
      backend: Type.String(),
      device: Type.String(),
      memory_mb: Type.Number(),
      vram_mb: Nullable(Type.Number()),
    }),
    {
      description:
        "Models loaded on external servers (backend ollama), with the memory those servers report; not in this machine's budget.",
    },
  ),
  loaded_models: Type.Integer({ description: 'Models loaded by runners on this machine (external ones are listed under external).' }),
  total_model_memory_mb: Type.Number(),
  ram_budget_mb: Type.Number(),
});
export type ResourcesReply = Static<typeof ResourcesReply>;

export const SummaryReply = Type.Object({
  models: Type.Object({ total: Type.Integer(), loaded: Type.Integer(), failed: Type.Integer(), loading: Type.Integer() }),
  versions: Type.Object({ total: Type.Integer(), available_on_disk: Type.Integer(), missing_files: Type.Integer() }),
  storage: Type.Object({ bytes: Type.Integer(), blobs: Type.Integer() }),
  memory: Type.Object({ models_mb: Type.Number(), server_mb: Type.Number(), ram_budget_mb: Type.Number() }),
  system_status: Type.String(),
  by_backend: Type.Record(Type.String(), Type.Integer()),
});

const CpuFlags = Type.Object(
  {
    avx: Type.Boolean(),
    avx2: Type.Boolean(),
    avx512f: Type.Boolean(),
    avx512_vnni: Type.Boolean(),
    f16c: Type.Boolean(),
    fma: Type.Boolean(),
    sse4_2: Type.Boolean(),
    neon: Type.Boolean({ description: 'AArch64 lists it as asimd; mandatory on arm64.' }),
  },
  { description: 'CPU feature flags that decide which kernels llama.cpp / ONNX Runtime can use.' },
);
export type CpuFlags = Static<typeof CpuFlags>;

export const HardwareProfile = Type.Object({
  cpu: Type.Object({
    model: Type.String(),
    vendor: Type.String(),
    physical_cores: Type.Integer(),
    logical_cores: Type.Integer(),
    speed_ghz: Nullable(Type.Number({ description: 'Nominal/max clock; null where neither the OS nor /proc reports one.' })),
    flags: CpuFlags,
  }),
  memory: Type.Object(
    { total_mb: Type.Number(), free_mb: Type.Number(), available_mb: Type.Number() },
    { description: 'MiB, as nvidia-smi reports GPU memory, so the two compare directly.' },
  ),
  gpus: Type.Array(
    Type.Object({ index: Type.Integer(), name: Type.String(), memory_total_mb: Type.Number(), memory_free_mb: Type.Number() }),
  ),
  gpu_available: Type.Boolean(),
  gpu_reason: Nullable(Type.String({ description: 'Why no GPU is usable (from the GPU query); null when one is.' })),
  os: Type.Object({ platform: Type.String(), distro: Type.String(), release: Type.String(), kernel: Type.String(), arch: Type.String() }),
  node: Type.Object({ version: Type.String() }),
  runtimes: Type.Object({
    onnx: Type.Object({
      backend: Type.Literal('onnxruntime-node'),
      version: Nullable(Type.String({ description: 'null when the package is not installed.' })),
      execution_providers: Type.Array(Type.String(), {
        description: "Providers the installed build offers (not what the hardware can run): 'cpu' always.",
      }),
      transformers_js_version: Nullable(Type.String()),
    }),
    llamacpp: Type.Object({
      backend: Type.Literal('node-llama-cpp'),
      version: Nullable(Type.String()),
      llama_cpp_release: Nullable(
        Type.String({ description: "The llama.cpp release node-llama-cpp's prebuilt binaries were built from." }),
      ),
      prebuilt_binaries: Type.Array(Type.String(), {
        description: 'Installed @node-llama-cpp/* packages for this platform+arch whose version node-llama-cpp would accept.',
      }),
      gpu_support: Type.Object({ cuda: Type.Boolean(), vulkan: Type.Boolean(), metal: Type.Boolean() }),
    }),
  }),
});
export type HardwareProfile = Static<typeof HardwareProfile>;

/** Quantizations the sizing advice covers, highest precision first. */
export const AdviceQuantization = Type.Union([Type.Literal('F16'), Type.Literal('Q8_0'), Type.Literal('Q4_K_M'), Type.Literal('Q4_0')]);
export type AdviceQuantization = Static<typeof AdviceQuantization>;

export const CatalogModelFit = Type.Object({
  model: Type.String(),
  version: Nullable(Type.Integer()),
  format: Type.String(),
  total_bytes: Type.Integer({ description: 'The memory estimate of a load (GET /api/v1/models/estimate-memory).' }),
  fits_on: Type.Array(Type.String(), { description: 'Devices (`cpu`, `gpu_<index>`) whose budget the whole load fits.' }),
  fits_with_offload_on: Type.Array(Type.String(), {
    description: 'diffusers: GPUs it fits only with the text encoders offloaded to RAM.',
  }),
  servable: Type.Boolean({ description: 'Whether a backend of this Hangar can load it (false for safetensors and diffusers today).' }),
});
export type CatalogModelFit = Static<typeof CatalogModelFit>;

export const Recommendations = Type.Object({
  threads_per_runner: Type.Integer({ description: 'Threads to give each llama.cpp runner: physical cores - 1, at least 1.' }),
  max_model_parameters_billions: Type.Object(
    { F16: Type.Number(), Q8_0: Type.Number(), Q4_K_M: Type.Number(), Q4_0: Type.Number() },
    { description: 'Largest model (billions of parameters, rounded down to 0.1) whose weights fit the RAM budget.' },
  ),
  suggested_quantization: Type.Union(AdviceQuantization.anyOf, {
    description: 'Highest precision that fits a 7B model, else the one that fits the largest model.',
  }),
  gpu_offload: Type.String({ description: 'Per-GPU capacity from the VRAM budgets, or why everything runs on the CPU.' }),
  notes: Type.Array(Type.String(), { description: 'The reasoning behind the figures and anything the operator should know.' }),
  catalog_models: Type.Optional(
    Type.Array(CatalogModelFit, {
      description:
        'Stored safetensors and diffusers models, which Hangar catalogues, verifies and estimates but no backend here loads: their memory and the devices they would fit.',
    }),
  ),
});
export type Recommendations = Static<typeof Recommendations>;

export const HardwareProfileReply = Type.Intersect([HardwareProfile, Type.Object({ recommendations: Recommendations })]);

const DeviceUse = Type.Object({
  device: Type.String({ description: '`cpu` or `gpu_<index>`.' }),
  budget_mb: Type.Number(),
  used_by_models_mb: Type.Number(),
  used_total_mb: Type.Optional(Type.Number({ description: 'GPUs: memory used by every process (nvidia-smi).' })),
  total_mb: Type.Optional(Type.Number({ description: "GPUs: the card's memory." })),
  models: Type.Array(Type.String()),
});

export const OptimizationReply = Type.Object({
  devices: Type.Array(DeviceUse),
  eviction_policy: Type.String(),
  keep_alive_default: Type.String(),
  max_loaded_models: Type.Integer(),
  dynamic_loading_enabled: Type.Boolean(),
  threads_per_runner: Type.Integer(),
  warm_spares: Type.Boolean(),
  loaded: Type.Array(
    Type.Object({
      model: Type.String(),
      version: Nullable(Type.Integer()),
      device: Type.String(),
      memory_mb: Type.Number(),
      pid: Type.Integer(),
    }),
  ),
  recommendations: Recommendations,
});
export type OptimizationReply = Static<typeof OptimizationReply>;

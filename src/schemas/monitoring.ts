// Schemas of the monitoring replies: model metrics (seed 000 shape plus more), GPU status, resources, summary, optimization.
import { Type } from 'typebox';
import { Nullable } from './common.ts';


export const MetricsSnapshot = Type.Object({
  total_inferences: Type.Integer(),
  successful_inferences: Type.Integer(),
  failed_inferences: Type.Integer(),
  average_latency_ms: Nullable(Type.Number()),
  throughput_per_sec: Type.Number({ description: 'Requests per second over the last 60 s.' }),
  error_rate: Type.Number(),
  latency_ms: Type.Object({ p50: Nullable(Type.Number()), p95: Nullable(Type.Number()), p99: Nullable(Type.Number()), window_seconds: Type.Integer() }),
  tokens_per_sec: Nullable(Type.Number()),
  failures_by_reason: Type.Record(Type.String(), Type.Integer()),
});

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

export const MetricsReply = Type.Object({
  enabled: Type.Boolean({ description: 'false when MODEL_METRICS_ENABLED=false: nothing is collected.' }),
  message: Type.Optional(Type.String()),
  metrics: Type.Intersect([MetricsSnapshot, Type.Object({ gpu_utilization: Type.Record(Type.String(), Nullable(Type.Number())) })]),
  models: Type.Record(Type.String(), ModelMetricsEntry),
});

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
  processes: Type.Array(Type.Object({ pid: Type.Integer(), process_name: Type.String(), model: Nullable(Type.String()), memory_mb: Type.Number() })),
});

export const GpuStatusReply = Type.Object({
  available: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  gpus: Type.Record(Type.String(), GpuEntry),
});

const Cpu = { cpu_seconds: Nullable(Type.Number()), cpu_percent: Nullable(Type.Number({ description: 'Since the previous call (within a minute), else null.' })) };
export const ResourcesReply = Type.Object({
  server: Type.Object({ pid: Type.Integer(), memory_mb: Type.Number(), ...Cpu }),
  runners: Type.Array(Type.Object({ model: Type.String(), version: Nullable(Type.Integer()), status: Type.String(), pid: Type.Integer(), device: Type.String(), memory_mb: Type.Number(), vram_mb: Nullable(Type.Number()), ...Cpu })),
  loaded_models: Type.Integer(),
  total_model_memory_mb: Type.Number(),
  ram_budget_mb: Type.Number(),
});

export const SummaryReply = Type.Object({
  models: Type.Object({ total: Type.Integer(), loaded: Type.Integer(), failed: Type.Integer(), loading: Type.Integer() }),
  versions: Type.Object({ total: Type.Integer(), available_on_disk: Type.Integer(), missing_files: Type.Integer() }),
  storage: Type.Object({ bytes: Type.Integer(), blobs: Type.Integer() }),
  memory: Type.Object({ models_mb: Type.Number(), server_mb: Type.Number(), ram_budget_mb: Type.Number() }),
  system_status: Type.String(),
  by_backend: Type.Record(Type.String(), Type.Integer()),
});

export const OptimizationReply = Type.Object({
  devices: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  eviction_policy: Type.String(),
  keep_alive_default: Type.String(),
  max_loaded_models: Type.Integer(),
  dynamic_loading_enabled: Type.Boolean(),
  threads_per_runner: Type.Integer(),
  warm_spares: Type.Boolean(),
  loaded: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  recommendations: Type.Record(Type.String(), Type.Unknown()),
});

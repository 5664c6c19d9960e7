// Prometheus exposition (prom-client): Triton-like hangar_* series for requests, latency, tokens, queue, loaded models, memory, GPUs; every model series names its tenant.
import { MIB } from '../mebibytes.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InferenceRecord, InferenceRecorder } from './inference-recorder.ts';
import type { GpuQuery } from './nvidia-smi.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import { readRssBytes } from './process-memory.ts';
import { splitQualifiedName } from '../tenants/tenant-names.ts';

export interface PrometheusOptions {
  recorder: InferenceRecorder;
  runtime: ModelRuntime;
  gpus: { query(): Promise<GpuQuery> };
  enabled: () => boolean;
}

/** A model's labels: its name as its tenant knows it, and the tenant (so two tenants' same-named models stay apart). */
function modelLabels(qualified: string): { model: string; tenant: string } {
  const { tenant, name } = splitQualifiedName(qualified);
  return { model: name, tenant };
}

/** One registry per server (not prom-client's global one), so tests can run several servers in a process. */
export function createPrometheusRegistry(o: PrometheusOptions): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'hangar_inference_requests_total',
    help: 'Inference requests by model, version and outcome (success or the error code).',
    labelNames: ['model', 'tenant', 'version', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hangar_inference_duration_seconds',
    help: 'Inference request duration, queue time included.',
    labelNames: ['model', 'tenant', 'kind'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'hangar_tokens_total',
    help: 'Tokens processed: prompt (or embedding input) and completion.',
    labelNames: ['model', 'tenant', 'kind', 'direction'],
    registers: [registry],
  });
  o.recorder.on('record', (record: InferenceRecord) => {
    if (!o.enabled()) return;
    const model = modelLabels(record.model);
    requests.inc({ ...model, version: String(record.version ?? ''), outcome: record.outcome });
    duration.observe({ ...model, kind: record.kind }, record.latencyMs / 1000);
    if (record.promptTokens) tokens.inc({ ...model, kind: record.kind, direction: 'prompt' }, record.promptTokens);
    if (record.completionTokens) tokens.inc({ ...model, kind: record.kind, direction: 'completion' }, record.completionTokens);
  });

  const loadedDeployments = () => o.runtime.snapshots().filter((d) => d.state === 'loaded' || d.state === 'unloading');
  new Gauge({
    name: 'hangar_queue_depth',
    help: 'Requests waiting for a slot, by model.',
    labelNames: ['model', 'tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of loadedDeployments()) this.set(modelLabels(d.name), d.queueDepth);
    },
  });
  new Gauge({
    name: 'hangar_model_loaded',
    help: '1 for each loaded model, by device.',
    labelNames: ['model', 'tenant', 'version', 'device'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of loadedDeployments())
        this.set(
          { ...modelLabels(d.name), version: String(d.version?.number ?? ''), device: d.device === 'gpu' ? `gpu${d.gpuIndex}` : 'cpu' },
          1,
        );
    },
  });
  new Gauge({
    name: 'hangar_model_memory_bytes',
    help: "Resident memory of each loaded model's runner process (from /proc), and its VRAM.",
    labelNames: ['model', 'tenant', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const d of loadedDeployments()) {
        if (!d.alive) continue;
        this.set({ ...modelLabels(d.name), kind: 'ram' }, (d.pid === null ? null : readRssBytes(d.pid)) ?? d.rssBytes);
        if (d.vramBytes) this.set({ ...modelLabels(d.name), kind: 'vram' }, d.vramBytes);
      }
    },
  });
  new Gauge({
    name: 'hangar_model_load_duration_seconds',
    help: 'Duration of the last load of each model.',
    labelNames: ['model', 'tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of o.runtime.snapshots()) if (d.lastLoadMs !== null) this.set(modelLabels(d.name), d.lastLoadMs / 1000);
    },
  });
  // A counter (promtool: a *_total name must be one): each scrape adds the loads since the last one.
  const countedLoads = new Map<string, number>();
  new Counter({
    name: 'hangar_model_loads_total',
    help: 'Loads of each model since the server started (reloads and restarts included).',
    labelNames: ['model', 'tenant'],
    registers: [registry],
    collect() {
      for (const d of o.runtime.snapshots()) {
        const added = d.loadCount - (countedLoads.get(d.name) ?? 0);
        if (added > 0) this.inc(modelLabels(d.name), added);
        countedLoads.set(d.name, d.loadCount);
      }
    },
  });
  registerGpuGauges(registry, o.gpus);
  return registry;
}

function registerGpuGauges(registry: Registry, gpus: PrometheusOptions['gpus']): void {
  const series: Array<[string, string, (g: GpuQuery['gpus'][number]) => number | null]> = [
    ['hangar_gpu_utilization_ratio', 'GPU utilisation, 0-1.', (g) => (g.utilizationPercent === null ? null : g.utilizationPercent / 100)],
    ['hangar_gpu_memory_used_bytes', 'GPU memory in use.', (g) => g.memoryUsedMb * MIB],
    ['hangar_gpu_memory_total_bytes', 'GPU memory in total.', (g) => g.memoryTotalMb * MIB],
    ['hangar_gpu_temperature_celsius', 'GPU temperature.', (g) => g.temperatureC],
    ['hangar_gpu_power_watts', 'GPU power draw.', (g) => g.powerW],
  ];
  for (const [name, help, value] of series) {
    new Gauge({
      name,
      help,
      labelNames: ['gpu', 'name'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const gpu of (await gpus.query()).gpus) {
          const v = value(gpu);
          if (v !== null) this.set({ gpu: String(gpu.index), name: gpu.name }, v);
        }
      },
    });
  }
}

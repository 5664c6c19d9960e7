// Monitoring routes: model metrics, Prometheus /metrics, GPU status, hardware profile, optimization status, resources, summary.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { catalogModelFits } from './catalog-fit-advice.ts';
import { errorResponses } from '../../schemas/common.ts';
import { ModelNameParams } from '../../schemas/models.ts';
import {
  GpuStatusReply,
  HardwareProfileReply,
  MetricsReply,
  ModelMetricsEntry,
  OptimizationReply,
  ResourcesReply,
  SummaryReply,
} from '../../schemas/monitoring.ts';
import { gpuStatus, optimizationStatus, resources, summary, type TenantView } from '../../monitor/system-reports.ts';
import { expositionFor } from '../../monitor/prometheus-tenant-view.ts';
import { recommend } from '../../monitor/hardware-advice.ts';
import { gpuBudgetBytes } from '../../runtime/placement.ts';
import type { ModelStatus } from '../../schemas/runtime.ts';
import { parseModelRef } from '../../registry/model-name.ts';

export default async function monitoringRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const sources = {
    runtime: ctx.runtime,
    catalog: ctx.catalog,
    settings: ctx.settings,
    gpus: ctx.gpus,
    storeCounts: (tenant?: string) => ctx.catalog.storeCounts(tenant),
  };
  /** A tenant key's share of a system report; undefined for the system view. */
  const viewOf = async (request: FastifyRequest): Promise<TenantView | undefined> => {
    const tenant = request.scope.tenant;
    return tenant === null ? undefined : { tenant, quotas: await ctx.tenants.quotasOf(tenant) };
  };
  const entry = (status: ModelStatus) => ({
    ...(ctx.metrics.modelSnapshot(status.name) ?? ctx.metrics.emptySnapshot()),
    status: status.status,
    version: status.version,
    queue_depth: status.queue_depth,
    in_flight: status.in_flight,
    load_count: status.load_count,
    last_load_ms: status.last_load_ms,
  });
  const recommendations = async () => {
    const profile = await ctx.hardware.profile();
    const gpus = (await ctx.gpus.query()).gpus;
    const advice = recommend(profile, {
      ramBudgetBytes: ctx.runtime.ramBudgetBytes(),
      vramBudgetBytesPerGpu: gpus.map((g) => gpuBudgetBytes(g, ctx.settings.current.memory.vram_budget_mb, 0)),
    });
    const stored = await catalogModelFits(ctx);
    return { profile, recommendations: { ...advice, notes: [...advice.notes, ...stored.notes], catalog_models: stored.models } };
  };

  for (const path of ['/models/metrics', '/api/v1/models/metrics']) {
    r.get(
      path,
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['monitoring'],
          description:
            "Inference metrics (seed 000): totals, average latency, throughput (last 60 s), error rate, GPU utilisation; per model also p50/p95/p99 latency over the last 5 minutes (HDR histogram), tokens/s, failures by reason, queue depth, loads. A tenant's key: its own models, and totals over them.",
          response: { 200: MetricsReply },
        },
      },
      async (request) => {
        const enabled = ctx.settings.current.model_metrics_enabled;
        const gpus = await ctx.gpus.query();
        const tenant = request.scope.tenant ?? undefined;
        const statuses = await ctx.runtime.statusAll(tenant);
        return {
          enabled,
          ...(enabled ? {} : { message: 'Metrics collection is off (MODEL_METRICS_ENABLED=false); these figures are frozen.' }),
          metrics: {
            ...ctx.metrics.overallSnapshot(Date.now(), tenant),
            gpu_utilization: Object.fromEntries(gpus.gpus.map((g) => [`gpu_${g.index}`, g.utilizationPercent])),
          },
          models: Object.fromEntries(Object.values(statuses).map((s) => [s.name, entry(s)])),
        };
      },
    );
  }

  r.get(
    '/api/v1/models/:name/metrics',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['monitoring'],
        description: "One model's metrics.",
        params: ModelNameParams,
        response: { 200: ModelMetricsEntry, ...errorResponses(400, 404) },
      },
    },
    async (request) => entry(await ctx.runtime.status(parseModelRef(request.params.name).name)),
  );

  r.get(
    '/metrics',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['monitoring'],
        description:
          "Prometheus text exposition: hangar_* series (requests, durations, tokens, queue depth, loaded models, memory, load time, GPUs) and process metrics. Every model series has a `tenant` label, and `model` is the name within that tenant. A tenant's key reads its own model series and the GPU series only.",
        response: { 200: Type.String() },
      },
    },
    async (request, reply) => {
      reply.header('content-type', ctx.prometheus.contentType);
      return expositionFor(ctx.prometheus, request.scope.tenant);
    },
  );

  for (const path of ['/gpu/status', '/api/v1/gpu/status']) {
    r.get(
      path,
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['monitoring'],
          description:
            "GPUs from nvidia-smi (cached ~1 s): memory, utilisation, temperature, power, and the processes on each with the model they serve. Without a GPU: 200 with available false and the reason. A tenant's key sees every card's readings but only its own models' processes.",
          response: { 200: GpuStatusReply },
        },
      },
      async (request) => gpuStatus(sources, await viewOf(request)),
    );
  }

  r.get(
    '/api/v1/system/hardware/profile',
    {
      config: { role: 'viewer', system: true },
      schema: {
        tags: ['monitoring'],
        description:
          "CPU (model, cores, threads, inference-relevant instruction sets), RAM, GPUs, OS, Node, runtime backends and versions, and recommendations (threads per runner, largest model per quantization that fits the budget, every tenant's stored models). System keys only.",
        response: { 200: HardwareProfileReply, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const { profile, recommendations: rec } = await recommendations();
      return { ...profile, recommendations: rec };
    },
  );

  r.get(
    '/api/v1/system/optimization/status',
    {
      config: { role: 'viewer', system: true },
      schema: {
        tags: ['monitoring'],
        description:
          "Memory budgets and use per device, eviction policy, keep-alive default, every tenant's loaded models and devices, and recommendations (seed 002). System keys only.",
        response: { 200: OptimizationReply, ...errorResponses(401, 403) },
      },
    },
    async () => ({ ...(await optimizationStatus(sources)), recommendations: (await recommendations()).recommendations }),
  );

  r.get(
    '/api/v1/models/resources',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['monitoring'],
        description:
          "Memory and CPU of the server and of each runner, loaded model count and total model memory (seed 003). A tenant's key: its own runners, and its ram_mb quota (at most the machine's budget) as ram_budget_mb.",
        response: { 200: ResourcesReply },
      },
    },
    async (request) => resources(sources, await viewOf(request)),
  );

  r.get(
    '/api/v1/models/summary',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['monitoring'],
        description:
          "Totals in one response: models (loaded, failed), versions (and whether their files are on disk), storage, memory and system status (seed 002). A tenant's key: totals over its own models.",
        response: { 200: SummaryReply },
      },
    },
    async (request) => {
      const ready = ctx.state.ready ? 'healthy' : 'starting';
      return summary(sources, ready, await viewOf(request));
    },
  );
}

// Memory estimate route: GET /api/v1/models/estimate-memory (weights + KV cache + compute + runner, and which devices fit).
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { EstimateMemoryQuery, EstimateMemoryResponse } from '../../schemas/estimate.ts';
import { estimateResponse, type DeviceBudget } from '../../model-shape/estimate-reply.ts';
import type { ModelFormat } from '../../model-shape/model-shape.ts';
import { readStoredShape } from '../../model-shape/stored-shape.ts';
import { gpuBudgetBytes } from '../../runtime/placement.ts';
import { MIB } from '../../mebibytes.ts';
import { backendForFormat } from '../../runtime/backends.ts';
import { MeasurementStore } from '../../runtime/measurements.ts';
import { HangarError, InvalidInput } from '../../errors.ts';
import { estimateHubRepo } from '../../hub/hub-estimate.ts';
import { FILELESS_FORMATS } from '../../model-shape/model-shape.ts';
import { readLocalGgufHeader } from '../../model-shape/gguf-facts.ts';
import { isFullPrecisionQuantization } from '../../quantize/quantization-types.ts';
import { quantizationOptions } from '../../quantize/quantization-estimates.ts';
import type { VersionManifest } from '../../schemas/models.ts';
import type { TenantView } from '../../monitor/system-reports.ts';
import { loadedUsageOf } from '../../tenants/loaded-usage.ts';

/**
 * Where a model of this format could be loaded, with each budget: the CPU (memory.ram_budget_mb, free = budget less what
 * loaded runners use, capped by the OS's available memory) and, for GGUF, each GPU (gpuBudgetBytes); the ONNX runner is CPU-only.
 * A tenant with a ram_mb / vram_mb quota sees its share: the budget capped by the quota, free capped by what is left of it.
 */
export async function deviceBudgets(ctx: HangarContext, format: ModelFormat, view?: TenantView): Promise<DeviceBudget[]> {
  const machine = await machineBudgets(ctx, format);
  if (!view) return machine;
  const { ram_mb: ramQuota, vram_mb: vramQuota } = view.quotas;
  const used = loadedUsageOf(ctx.runtime.snapshots(), view.tenant);
  const capped = (device: DeviceBudget, quotaMb: number | undefined, usedMb: number): DeviceBudget =>
    quotaMb === undefined
      ? device
      : {
          ...device,
          budget_bytes: Math.min(device.budget_bytes, quotaMb * MIB),
          free_bytes: Math.max(0, Math.min(device.free_bytes ?? Number.POSITIVE_INFINITY, (quotaMb - usedMb) * MIB)),
        };
  return machine.map((device) =>
    device.device === 'cpu' ? capped(device, ramQuota, used.ram_mb) : capped(device, vramQuota, used.vram_mb),
  );
}

async function machineBudgets(ctx: HangarContext, format: ModelFormat): Promise<DeviceBudget[]> {
  const usage = ctx.runtime.deviceUsage();
  const ramBudget = usage.ram.budgetBytes;
  const ramUsed = usage.ram.usedBytes;
  const devices: DeviceBudget[] = [
    { device: 'cpu', budget_bytes: ramBudget, free_bytes: Math.max(0, Math.min(ramBudget - ramUsed, os.freemem())) },
  ];
  // Only a backend that can use a GPU here gets GPU budgets (the ONNX runner is CPU-only); a format no backend serves
  // (safetensors, diffusers) is sized for every device, as where it would fit.
  const backend = backendForFormat(format);
  if (backend && backend.gpuUnavailableReason !== null) return devices;
  const query = await ctx.gpus.query().catch(() => null);
  for (const gpu of query?.gpus ?? []) {
    const own = usage.gpus.get(gpu.index)?.vramBytes ?? 0;
    const budget = gpuBudgetBytes(gpu, ctx.settings.current.memory.vram_budget_mb, own);
    devices.push({
      device: `gpu_${gpu.index}`,
      budget_bytes: budget,
      free_bytes: Math.max(0, Math.min(budget - own, gpu.memoryFreeMb * MIB)),
    });
  }
  return devices;
}

/**
 * The estimate for a model in the local catalog (`name`, `name:version`, `name:alias`, qualified); 404 model_not_found
 * otherwise. `view`: a tenant's budgets (deviceBudgets).
 */
export async function estimateLocal(ctx: HangarContext, query: EstimateMemoryQuery, view?: TenantView): Promise<EstimateMemoryResponse> {
  const resolved = await ctx.catalog.resolve(query.model);
  const { version } = resolved;
  if (query.variant !== undefined && query.variant.toLowerCase() !== (version.quantization ?? '').toLowerCase()) {
    throw new InvalidInput(
      `${resolved.model.name} version ${version.version} is ${version.quantization ?? 'of unknown quantization'}, not ${query.variant}; leave variant out or name that version`,
      { model: resolved.model.name, version: version.version, variant: query.variant, quantization: version.quantization },
      'invalid_variant',
    );
  }
  const dir = await ctx.catalog.versionPath(resolved);
  const shape = await readStoredShape(dir, version);
  const measured = await new MeasurementStore(ctx.database.db).peak(version.id, 'cpu');
  const devices = await deviceBudgets(ctx, shape.format, view);
  const sequences = ctx.settings.current.runtime.parallel;
  const reply = estimateResponse(shape, query.context_size, devices, {
    model: resolved.model.name,
    version: version.version,
    source: 'local',
    measured_peak_rss_bytes: measured?.rssBytes ?? null,
    sequences,
  });
  if (!isFullPrecisionQuantization(shape.quantization) || FILELESS_FORMATS.has(shape.format)) return reply;
  const entry = (JSON.parse(version.manifest) as VersionManifest).entry;
  const ggufTensors = shape.format === 'gguf' ? (await readLocalGgufHeader(path.join(dir, entry))).tensorInfos : undefined;
  const existing = new Map<string, number>();
  for (const v of (await ctx.catalog.getModel(resolved.model.name)).versions) {
    if (v.quantization && !existing.has(v.quantization.toLowerCase())) existing.set(v.quantization.toLowerCase(), v.version);
  }
  const options = quantizationOptions({ shape, ggufTensors }, { contextSize: query.context_size, sequences, devices, existing });
  return { ...reply, quantization_options: options };
}

export default async function estimateRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/models/estimate-memory',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        description:
          "Memory a load of `model` (a local model of the caller's tenant, or a hub repo id such as org/name with an optional `variant`: read from the hub without downloading weights) would take: weights, KV cache for the context (2 x layers x context x KV heads x head size x 2 bytes), compute buffers and the runner process, their total, and whether it fits each device's budget (a tenant with ram_mb / vram_mb quotas: its share). Also the peak RSS measured at its last load, if any.",
        querystring: EstimateMemoryQuery,
        response: { 200: EstimateMemoryResponse, ...errorResponses(400, 403, 404, 422, 502) },
      },
    },
    async (request) => {
      const tenant = request.scope.tenant;
      const view = tenant === null ? undefined : { tenant, quotas: await ctx.tenants.quotasOf(tenant) };
      try {
        // `model` may name a hub repo as well, so it is not qualified by the schema: the local lookup is the caller's
        // tenant's model of that name, the hub fallback below takes the name as sent.
        return await estimateLocal(ctx, { ...request.query, model: request.scope.qualify(request.query.model) }, view);
      } catch (error) {
        // Not a local model: a hub repo id (org/name) is estimated from the hub without downloading the weights.
        const code = error instanceof HangarError ? error.code : null;
        const repoId = request.query.model.includes('/') && !request.query.model.includes(':');
        if (!repoId || (code !== 'model_not_found' && code !== 'invalid_variant')) throw error;
        const fromHub = estimateHubRepo(
          ctx.hub(),
          request.query,
          (format) => deviceBudgets(ctx, format, view),
          ctx.settings.current.runtime.parallel,
          (shape, ggufTensors, devices) =>
            quantizationOptions(
              { shape, ggufTensors },
              { contextSize: request.query.context_size, sequences: ctx.settings.current.runtime.parallel, devices },
            ),
        );
        // A repo downloaded in one variant is also a local model: another variant of it is estimated from the hub
        // (the Download page asks for each), and the local answer's error stands when the hub has no such repo.
        return code === 'invalid_variant' ? fromHub.catch(() => Promise.reject(error)) : fromHub;
      }
    },
  );
}

// Placement and eviction: what a load needs, and which idle models must go (expired keep-alive first, then least recently used) for it to fit RAM and VRAM.
import os from 'node:os';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { HangarConfig } from '../config/schema.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import { readStoredShapeOrNull } from '../model-shape/stored-shape.ts';
import { estimateVramBytes } from '../model-shape/memory-model.ts';
import type { Deployment } from './deployment.ts';
import type { DeploymentTable } from './deployment-table.ts';
import type { LoadPlan } from './backend-contract.ts';
import type { MeasurementStore } from './measurements.ts';
import { tenantOfName } from '../tenants/tenant-names.ts';
import type { Quotas } from '../tenants/quotas.ts';
import { reservedForOthers } from './tenant-shares.ts';
import { estimateLoadBytes, gpuBudgetBytes, insufficientMemory, planEviction, type ResidentModel } from './placement.ts';
import { MIB } from '../mebibytes.ts';

export interface RoomMakerOptions {
  table: DeploymentTable;
  catalog: ModelCatalog;
  measurements: MeasurementStore;
  gpus: { query(): Promise<GpuQuery> };
  config: () => HangarConfig;
  /** The quotas of a tenant (its ram_mb / vram_mb are its share of memory when set). */
  quotas: (tenant: string) => Promise<Quotas>;
}

/** The RAM budget for loaded models: the configured one, else 75% of this machine's memory. */
export function ramBudgetBytes(config: HangarConfig): number {
  const mb = config.memory.ram_budget_mb;
  return mb > 0 ? mb * MIB : Math.floor(os.totalmem() * 0.75);
}

/** What a load will hold: RAM always (weights are read through it), VRAM on the chosen GPU when it goes to one. */
export interface LoadNeeds {
  ram: { bytes: number; source: 'measured' | 'estimated' };
  vram: { bytes: number; source: 'measured' | 'estimated' } | null;
}

export class RoomMaker {
  constructor(private readonly o: RoomMakerOptions) {}

  /** The memory a load needs: the last measurement of this version on this device, else the memory model's estimate. */
  async needsOf(plan: LoadPlan): Promise<LoadNeeds> {
    // An external backend holds its models in its own memory, which its server reports once they are loaded.
    if (plan.backend.pool !== 'local') return { ram: { bytes: 0, source: 'estimated' }, vram: null };
    const { resolved, resolvedOptions, backend, choice } = plan;
    const measured = await this.o.measurements.peak(resolved.version.id, choice.device);
    const shape = measured ? null : await readStoredShapeOrNull(this.o.catalog.versionPath(resolved), resolved.version);
    const ram = estimateLoadBytes({
      backend: backend.id,
      artifactBytes: resolved.version.size_bytes,
      measuredBytes: measured?.rssBytes,
      shape,
      contextSize: resolvedOptions.contextSize,
      parallel: resolvedOptions.parallel,
    });
    if (choice.device !== 'gpu' || choice.gpuIndex === null) return { ram, vram: null };
    const vram = {
      bytes: estimateVramBytes(resolved.version.size_bytes, measured?.vramBytes ?? null),
      source: measured?.vramBytes ? ('measured' as const) : ('estimated' as const),
    };
    return { ram, vram };
  }

  /**
   * Names the deployments to evict so the load fits; throws 409 insufficient_memory when evicting every idle,
   * unpinned model it may take would not be enough. `protect` are never chosen (the model being swapped). A tenant
   * over its share of a device (its quota, else an equal split: tenant-shares.ts) may evict only its own models there.
   */
  async victimsFor(name: string, plan: LoadPlan, needs: LoadNeeds, protect: ReadonlySet<string>): Promise<string[]> {
    // An external backend places its models in its own memory; nothing here makes room there.
    if (plan.backend.pool !== 'local') return [];
    const { choice } = plan;
    const config = this.o.config();
    const quotas = await this.o.quotas(tenantOfName(name));
    const others = this.o.table.residentLocally().filter((d) => d.name !== name);
    const ownOthers = others.filter((d) => tenantOfName(d.name) === tenantOfName(name));
    const asResident = (d: Deployment, memoryBytes: number, reserved: ReadonlySet<string>): ResidentModel => ({
      name: d.name,
      memoryBytes,
      busy: d.state === 'unloading' ? 1 : d.busy,
      pinned: d.pinned || protect.has(d.name),
      reserved: reserved.has(d.name),
      lastUsedAt: d.lastUsedAt,
      expiresAt: d.expiresAt,
    });
    const maxLoaded = config.memory.max_loaded_models;
    const budget = ramBudgetBytes(config);
    const ramReserved = reservedForOthers({
      name,
      neededBytes: needs.ram.bytes,
      budgetBytes: budget,
      quotaBytes: quotas.ram_mb === undefined ? null : quotas.ram_mb * MIB,
      quotaUseBytes: ownOthers.reduce((sum, d) => sum + d.memoryBytes(), 0),
      resident: others.map((d) => ({ name: d.name, memoryBytes: d.memoryBytes() })),
      slots: { limit: maxLoaded, quota: quotas.loaded_models ?? null },
    });
    const ramPlan = planEviction({
      neededBytes: needs.ram.bytes,
      budgetBytes: budget,
      resident: others.map((d) => asResident(d, d.memoryBytes(), ramReserved)),
      maxLoadedModels: maxLoaded,
      now: Date.now(),
    });
    if (!ramPlan.fits) throw insufficientMemory(name, 'cpu', needs.ram, ramPlan, budget, maxLoaded);
    const evict = new Set(ramPlan.evict);
    if (needs.vram !== null && choice.gpuIndex !== null) {
      const gpu = (await this.o.gpus.query()).gpus.find((g) => g.index === choice.gpuIndex);
      const vramOf = (d: Deployment) => d.served?.memory.vramBytes ?? 0;
      const onGpu = others.filter((d) => d.device === 'gpu' && d.gpuIndex === choice.gpuIndex && !evict.has(d.name));
      const own = onGpu.reduce((sum, d) => sum + vramOf(d), 0);
      const vramBudget = gpu ? gpuBudgetBytes(gpu, config.memory.vram_budget_mb, own) : 0;
      const vramReserved = reservedForOthers({
        name,
        neededBytes: needs.vram.bytes,
        budgetBytes: vramBudget,
        quotaBytes: quotas.vram_mb === undefined ? null : quotas.vram_mb * MIB,
        // vram_mb counts the tenant's models on every GPU.
        quotaUseBytes: ownOthers.filter((d) => !evict.has(d.name)).reduce((sum, d) => sum + vramOf(d), 0),
        resident: onGpu.map((d) => ({ name: d.name, memoryBytes: vramOf(d) })),
      });
      const gpuPlan = planEviction({
        neededBytes: needs.vram.bytes,
        budgetBytes: vramBudget,
        resident: onGpu.map((d) => asResident(d, vramOf(d), vramReserved)),
        maxLoadedModels: 0,
        now: Date.now(),
      });
      if (!gpuPlan.fits) throw insufficientMemory(name, `gpu${choice.gpuIndex}`, needs.vram, gpuPlan, vramBudget, 0);
      for (const victim of gpuPlan.evict) evict.add(victim);
    }
    return [...evict];
  }
}

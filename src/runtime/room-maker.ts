// Placement and eviction: which idle models must go (expired keep-alive first, then least recently used) for a load to fit RAM and VRAM.
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
import { estimateLoadBytes, gpuBudgetBytes, insufficientMemory, planEviction, MIB, type ResidentModel } from './placement.ts';

export interface RoomMakerOptions {
  table: DeploymentTable;
  catalog: ModelCatalog;
  measurements: MeasurementStore;
  gpus: { query(): Promise<GpuQuery> };
  config: () => HangarConfig;
}

/** The RAM budget for loaded models: the configured one, else 75% of this machine's memory. */
export function ramBudgetBytes(config: HangarConfig): number {
  const mb = config.memory.ram_budget_mb;
  return mb > 0 ? mb * MIB : Math.floor(os.totalmem() * 0.75);
}

export class RoomMaker {
  constructor(private readonly o: RoomMakerOptions) {}

  /**
   * Names the deployments to evict so the load fits; throws 409 insufficient_memory when evicting every
   * idle, unpinned model would not be enough. `protect` are never chosen (the model being swapped).
   */
  async victimsFor(name: string, plan: LoadPlan, protect: ReadonlySet<string>): Promise<string[]> {
    // An external backend places its models in its own memory; nothing here makes room there.
    if (plan.backend.pool !== 'local') return [];
    const { resolved, resolvedOptions, backend, choice } = plan;
    const config = this.o.config();
    const measured = await this.o.measurements.peak(resolved.version.id, choice.device);
    const others = this.o.table.residentLocally().filter((d) => d.name !== name);
    const asResident = (d: Deployment, memoryBytes: number): ResidentModel => ({
      name: d.name,
      memoryBytes,
      busy: d.state === 'unloading' ? 1 : d.busy,
      pinned: d.pinned || protect.has(d.name),
      lastUsedAt: d.lastUsedAt,
      expiresAt: d.expiresAt,
    });
    const maxLoaded = config.memory.max_loaded_models;
    const shape = measured ? null : await readStoredShapeOrNull(this.o.catalog.versionPath(resolved), resolved.version);
    const need = estimateLoadBytes({
      backend: backend.id,
      artifactBytes: resolved.version.size_bytes,
      measuredBytes: measured?.rssBytes,
      shape,
      contextSize: resolvedOptions.contextSize,
      parallel: resolvedOptions.parallel,
    });
    const budget = ramBudgetBytes(config);
    const ramPlan = planEviction({
      neededBytes: need.bytes,
      budgetBytes: budget,
      resident: others.map((d) => asResident(d, d.memoryBytes())),
      maxLoadedModels: maxLoaded,
      now: Date.now(),
    });
    if (!ramPlan.fits) throw insufficientMemory(name, 'cpu', need, ramPlan, budget, maxLoaded);
    const evict = new Set(ramPlan.evict);
    if (choice.device === 'gpu' && choice.gpuIndex !== null) {
      const gpu = (await this.o.gpus.query()).gpus.find((g) => g.index === choice.gpuIndex);
      const onGpu = others.filter((d) => d.device === 'gpu' && d.gpuIndex === choice.gpuIndex && !evict.has(d.name));
      const vramOf = (d: Deployment) => d.served?.memory.vramBytes ?? 0;
      const own = onGpu.reduce((sum, d) => sum + vramOf(d), 0);
      const vramNeed = {
        bytes: estimateVramBytes(resolved.version.size_bytes, measured?.vramBytes ?? null),
        source: measured?.vramBytes ? 'measured' : 'estimated',
      };
      const vramBudget = gpu ? gpuBudgetBytes(gpu, config.memory.vram_budget_mb, own) : 0;
      const gpuPlan = planEviction({
        neededBytes: vramNeed.bytes,
        budgetBytes: vramBudget,
        resident: onGpu.map((d) => asResident(d, vramOf(d))),
        maxLoadedModels: 0,
        now: Date.now(),
      });
      if (!gpuPlan.fits) throw insufficientMemory(name, `gpu${choice.gpuIndex}`, vramNeed, gpuPlan, vramBudget, 0);
      for (const victim of gpuPlan.evict) evict.add(victim);
    }
    return [...evict];
  }
}

// Resolves what a load means now: the version a ref names, its backend, concrete options and the device.
import os from 'node:os';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { HangarConfig } from '../config/schema.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import type { LoadOptions } from '../schemas/runtime.ts';
import { HangarError } from '../errors.ts';
import { allBackends, backendForFormat, unservableReason, type BackendSpec } from './backends.ts';
import type { LoadPlan, ResolvedLoadOptions } from './backend-contract.ts';
import { chooseDevice } from './device.ts';

export interface LoadPlannerOptions {
  catalog: ModelCatalog;
  gpus: { query(): Promise<GpuQuery> };
  config: () => HangarConfig;
  /** Refuses versions that failed validation or lack files (src/hub/integrity.ts); none: no check. */
  integrity?: { assertLoadable(resolved: ResolvedVersion): Promise<void> };
}

/** CPU threads a runner gets unless a load asks otherwise: the configured count, else every core but one. */
export function defaultThreads(config: HangarConfig): number {
  return config.runtime.threads > 0 ? config.runtime.threads : Math.max(1, os.availableParallelism() - 1);
}

/** The backend serving a version's format; 409 no_backend (naming the backends there are) when none serves it. */
export function backendServing(format: string, model: string): BackendSpec {
  const backend = backendForFormat(format);
  if (!backend) {
    const backends = allBackends().map((spec) => ({ id: spec.id, formats: [...spec.formats] }));
    throw new HangarError('no_backend', `${model} cannot be loaded: ${unservableReason(format)}`, { model, format, backends });
  }
  return backend;
}

export class LoadPlanner {
  constructor(private readonly o: LoadPlannerOptions) {}

  private resolveOptions(options: LoadOptions): ResolvedLoadOptions {
    const config = this.o.config();
    return {
      requestedDevice: options.device ?? 'auto',
      gpuIndex: options.gpu,
      contextSize: options.context_size,
      threads: options.threads ?? defaultThreads(config),
      parallel: options.parallel ?? config.runtime.parallel,
    };
  }

  async plan(ref: string, options: LoadOptions): Promise<LoadPlan> {
    const resolved = await this.o.catalog.resolve(ref);
    // A format no backend serves is refused first: there is nothing to check the files for.
    const backend = backendServing(resolved.version.format, resolved.model.name);
    await this.o.integrity?.assertLoadable(resolved);
    const resolvedOptions = this.resolveOptions(options);
    const choice = chooseDevice(resolvedOptions.requestedDevice, resolvedOptions.gpuIndex, backend.id, await this.o.gpus.query());
    return { ref, options, resolved, resolvedOptions, backend, choice };
  }
}

// Leases a loaded model for one inference request: finds it (loading it first when dynamic loading allows), takes a slot, and on release applies keep-alive.
import type { HangarConfig } from '../config/schema.ts';
import type { LoadOptions } from '../schemas/runtime.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import { Conflict, InvalidInput, ServiceUnavailable } from '../errors.ts';
import type { Capability } from './backends.ts';
import type { Deployment } from './deployment.ts';
import type { DeploymentTable } from './deployment-table.ts';
import type { KeepAliveExpiry } from './keep-alive-expiry.ts';
import type { ServedModel } from './served-model.ts';

/** One request's hold on a loaded model. */
export interface Lease {
  readonly model: string;
  readonly version: number;
  readonly served: ServedModel;
  /** How long the request waited for the model to load (its own load or a concurrent one); 0 when it was resident. */
  readonly loadMs: number;
  /** How long the request waited for a slot. */
  readonly queueMs: number;
  /** Frees the slot and records the use; a request's keep-alive (ms) becomes the model's. */
  release(keepAliveMs?: number): void;
}

export interface InferenceLeasesOptions {
  table: DeploymentTable;
  catalog: ModelCatalog;
  config: () => HangarConfig;
  expiry: KeepAliveExpiry;
  /** Loads a model on demand (the runtime's load, shared with concurrent callers). */
  load(ref: string, options: LoadOptions): Promise<void>;
}

/** What a request asks of the model it leases. */
export interface LeaseOptions {
  /**
   * Context window to load the model with when this request is the one that loads it (Ollama's num_ctx). A model
   * already loaded (or being loaded by another request) keeps its context: reloading a shared model for one request's
   * window would stall every other client. A load this starts keeps the size for its restarts and reloads, like
   * any load option.
   */
  contextSize?: number;
}

export class InferenceLeases {
  constructor(private readonly o: InferenceLeasesOptions) {}

  /** Refuses work on a model that is not loaded when dynamic loading is off. */
  private assertLoadedOrDynamic(dep: Deployment | undefined, name: string): void {
    if (dep?.state !== 'loaded' && !this.o.config().dynamic_loading_enabled) {
      throw new Conflict(
        `Model ${name} is not loaded and dynamic loading is disabled (DYNAMIC_LOADING_ENABLED=false); load it first`,
        { model: name },
        'model_not_loaded',
      );
    }
  }

  /** The loaded deployment serving `ref`, loading it first when dynamic loading allows. */
  private async deploymentFor(ref: string, options: LeaseOptions): Promise<Deployment> {
    const { name, ref: wanted } = parseModelRef(ref);
    let dep = this.o.table.get(name);
    if (dep?.state !== 'loaded') {
      if (dep?.pending) await dep.pending.catch(() => undefined);
      dep = this.o.table.get(name);
      if (dep?.state !== 'loaded') {
        await this.o.catalog.resolve(ref); // an unknown model is 404 whether or not loading on demand is on
        this.assertLoadedOrDynamic(dep, name);
        await this.o.load(ref, options.contextSize === undefined ? {} : { context_size: options.contextSize });
        dep = this.o.table.getOrCreate(name);
      }
    }
    if (wanted !== undefined) {
      const resolved = await this.o.catalog.resolve(ref);
      if (resolved.version.id !== dep.version?.id) {
        throw new Conflict(
          `${ref} is version ${resolved.version.version}, but version ${dep.version?.number} of ${name} is loaded; load ${ref} to switch`,
          { model: name, loaded_version: dep.version?.number ?? null, requested_version: resolved.version.version },
          'version_not_loaded',
        );
      }
    }
    return dep;
  }

  async acquire(ref: string, capability: Capability, options: LeaseOptions = {}): Promise<Lease> {
    const arrivedAt = Date.now();
    const wasLoaded = this.o.table.get(parseModelRef(ref).name)?.state === 'loaded';
    const dep = await this.deploymentFor(ref, options);
    // Everything before the model was there is load time: its own load or waiting for one already under way.
    const loadMs = wasLoaded ? 0 : Date.now() - arrivedAt;
    const capabilities = dep.served?.ready.capabilities ?? [];
    if (!capabilities.includes(capability)) {
      throw new InvalidInput(
        `${dep.name} (${dep.version?.backend}) cannot ${capability}; it supports: ${capabilities.join(', ')}`,
        { model: dep.name, capabilities },
        'unsupported_operation',
      );
    }
    const queuedAt = Date.now();
    const releaseSlot = await dep.slots.acquire();
    dep.disarmKeepAlive();
    const served = dep.served;
    if (dep.state !== 'loaded' || !served?.isAlive || !dep.version) {
      releaseSlot();
      throw new ServiceUnavailable(
        `${dep.name} stopped before the request could run (${dep.state})`,
        { state: dep.state },
        'model_unavailable',
      );
    }
    let released = false;
    return {
      model: dep.name,
      version: dep.version.number,
      served,
      loadMs,
      queueMs: Date.now() - queuedAt,
      release: (keepAliveMs?: number) => {
        if (released) return;
        released = true;
        releaseSlot();
        const now = Date.now();
        dep.lastUsedAt = now;
        dep.lastInferenceAt = now;
        if (keepAliveMs !== undefined) dep.keepAliveMs = keepAliveMs;
        this.o.expiry.afterRequest(dep);
      },
    };
  }
}

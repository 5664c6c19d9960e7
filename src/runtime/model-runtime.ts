// The runtime's one owner of deployment state: load, unload, reload and lease models; read-only snapshots for everyone else.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { Settings } from '../config/settings.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import { ServiceUnavailable } from '../errors.ts';
import { parseModelRef } from '../registry/model-name.ts';
import { listAllSummaries } from '../registry/model-roster.ts';
import type { ModelSummary } from '../schemas/models.ts';
import type { LoadOptions, ModelStatus } from '../schemas/runtime.ts';
import { allBackends, backendForFormat, type BackendId, type BackendSpec, type Capability } from './backends.ts';
import type { Deployment, DeploymentSnapshot } from './deployment.ts';
import { DeploymentLifecycle } from './deployment-lifecycle.ts';
import { DeploymentTable } from './deployment-table.ts';
import { InferenceLeases, type Lease, type LeaseOptions } from './inference-lease.ts';
import { parseKeepAlive } from './keep-alive.ts';
import { KeepAliveExpiry } from './keep-alive-expiry.ts';
import { defaultThreads, LoadPlanner } from './load-planner.ts';
import type { MeasurementStore } from './measurements.ts';
import { releaseForDelete } from './release-for-delete.ts';
import { ramBudgetBytes, RoomMaker } from './room-maker.ts';
import { RunnerLauncher } from './runner-launcher.ts';
import type { StartRunner } from './runner-process.ts';
import type { ModelLauncher } from './backend-contract.ts';
import type { RuntimeEvent, RuntimeEventType } from './runtime-events.ts';
import { allModelStatuses, deploymentStatus, modelStatus, type StatusSources } from './runtime-status.ts';
import { Supervisor } from './supervisor.ts';
import { LoadAdmission } from './load-admission.ts';
import type { Quotas } from '../tenants/quotas.ts';

export type { RuntimeEvent } from './runtime-events.ts';
export type { Lease, LeaseOptions } from './inference-lease.ts';
export type { DeploymentSnapshot } from './deployment.ts';

export interface ModelRuntimeOptions {
  catalog: ModelCatalog;
  settings: Settings;
  measurements: MeasurementStore;
  gpus: { query(): Promise<GpuQuery> };
  logger: Logger;
  /** What spawns runners (default: real child processes). */
  startRunner?: StartRunner;
  /** Refuses versions that failed validation or lack files (src/hub/integrity.ts); none: no check. */
  integrity?: { assertLoadable(resolved: ResolvedVersion): Promise<void> };
  /**
   * The quotas of a tenant (TenantService.quotasOf): loaded_models, ram_mb and vram_mb are enforced when a load is
   * admitted, and ram_mb / vram_mb are the tenant's share when placement evicts. None: no tenant has quotas.
   */
  tenantQuotas?: (tenant: string) => Promise<Quotas>;
  /** The catalog's listing kept in memory (src/registry/model-roster.ts) for status reads; none: each read lists. */
  roster?: { summaries(tenant?: string): Promise<ModelSummary[]> };
}

/** Memory held by loaded models, per device, for monitoring, estimates and advice. */
export interface DeviceUsage {
  ram: { usedBytes: number; budgetBytes: number; models: Array<{ name: string; rssBytes: number }> };
  /** VRAM the runtime's own models hold on each GPU index, and which models those are. */
  gpus: Map<number, { vramBytes: number; models: string[] }>;
}

export class ModelRuntime extends EventEmitter<{ event: [RuntimeEvent] }> {
  private readonly table: DeploymentTable;
  private readonly lifecycle: DeploymentLifecycle;
  private readonly expiry: KeepAliveExpiry;
  private readonly leases: InferenceLeases;
  private readonly runnerLauncher: RunnerLauncher;
  /** One launcher per backend: the runner launcher for in-process backends, its own for an external one. */
  private readonly launchers = new Map<BackendId, ModelLauncher>();
  private readonly statusSources: StatusSources;
  private readonly planner: LoadPlanner;
  private readonly room: RoomMaker;
  private readonly admission: LoadAdmission;
  private shuttingDown = false;

  constructor(private readonly o: ModelRuntimeOptions) {
    super();
    const config = () => this.o.settings.current;
    this.table = new DeploymentTable(config);
    this.runnerLauncher = new RunnerLauncher({ ...o, config });
    this.expiry = new KeepAliveExpiry(() => this.lifecycle);
    const supervisor = new Supervisor({
      lifecycle: () => this.lifecycle,
      config,
      logger: o.logger,
      emit: (type, dep, details) => this.emitEvent(type, dep, details),
      stopping: () => this.shuttingDown,
    });
    const quotas = o.tenantQuotas ?? (async () => ({}));
    this.planner = new LoadPlanner({ catalog: o.catalog, gpus: o.gpus, config, integrity: o.integrity });
    this.room = new RoomMaker({ table: this.table, catalog: o.catalog, measurements: o.measurements, gpus: o.gpus, config, quotas });
    this.admission = new LoadAdmission({ table: this.table, quotas });
    this.lifecycle = new DeploymentLifecycle({
      table: this.table,
      planner: this.planner,
      room: this.room,
      admission: this.admission,
      launcherFor: (backend) => this.launcherFor(backend),
      measurements: o.measurements,
      config,
      logger: o.logger,
      hooks: {
        onServing: (dep) => this.expiry.arm(dep),
        onUnexpectedExit: (dep, served, exit) => supervisor.onUnexpectedExit(dep, served, exit),
        emit: (type, dep, details) => this.emitEvent(type, dep, details),
      },
    });
    this.leases = new InferenceLeases({
      table: this.table,
      catalog: o.catalog,
      config,
      expiry: this.expiry,
      load: async (ref, options) => void (await this.loadDeployment(ref, options)),
    });
    const roster = o.roster;
    const summaries = (tenant?: string) => (roster ? roster.summaries(tenant) : listAllSummaries(o.catalog, tenant));
    this.statusSources = { table: this.table, catalog: o.catalog, gpus: o.gpus, summaries };
  }

  private get config() {
    return this.o.settings.current;
  }

  private launcherFor(backend: BackendSpec): ModelLauncher {
    let launcher = this.launchers.get(backend.id);
    if (!launcher) {
      if (backend.hosting === 'runner') launcher = this.runnerLauncher;
      else if (backend.createLauncher)
        launcher = backend.createLauncher({ config: () => this.config, catalog: this.o.catalog, logger: this.o.logger });
      else throw new Error(`backend ${backend.id} is hosted externally but declares no launcher`);
      this.launchers.set(backend.id, launcher);
    }
    return launcher;
  }

  ramBudgetBytes(): number {
    return ramBudgetBytes(this.config);
  }

  defaultThreads(): number {
    return defaultThreads(this.config);
  }

  private emitEvent(type: RuntimeEventType, dep: Deployment, details?: Record<string, unknown>): void {
    this.emit('event', { type, model: dep.name, version: dep.version?.number ?? null, at: new Date().toISOString(), details });
  }

  /** Loads `ref` (idempotent; concurrent callers share one load). Resolves with its status once loaded; rejects with the reason otherwise. */
  async load(ref: string, options: LoadOptions = {}): Promise<ModelStatus> {
    return deploymentStatus(await this.loadDeployment(ref, options), this.o.gpus);
  }

  private async loadDeployment(ref: string, options: LoadOptions): Promise<Deployment> {
    if (this.shuttingDown) throw new ServiceUnavailable('The server is shutting down', undefined, 'shutting_down');
    const parsed = parseModelRef(ref);
    // A name the catalog does not know is refused before it gets a deployment entry (a refusal leaves no trace).
    if (!this.table.get(parsed.name)) await this.o.catalog.resolve(ref);
    const dep = this.table.getOrCreate(parsed.name);
    if (dep.pending) {
      await dep.pending;
      if (dep.state === 'loaded') return this.applyOptions(dep, options);
    }
    if (dep.state === 'loaded') {
      if (parsed.ref === undefined) return this.applyOptions(dep, options);
      const wanted = await this.o.catalog.resolve(ref);
      if (wanted.version.id === dep.version?.id) return this.applyOptions(dep, options);
      await this.lifecycle.swap(dep, ref, options);
      return dep;
    }
    await this.lifecycle.start(dep, ref, options);
    return dep;
  }

  /** A load of an already loaded model changes only its keep-alive and pin. */
  private applyOptions(dep: Deployment, options: LoadOptions): Deployment {
    if (options.keep_alive !== undefined) dep.keepAliveMs = parseKeepAlive(options.keep_alive);
    if (options.pinned !== undefined) dep.pinned = options.pinned;
    this.expiry.arm(dep);
    return dep;
  }

  /**
   * Refuses early (409 quota_exceeded) a load its tenant's quotas would refuse now, for callers that answer before the
   * load runs (`?wait=false`). Advisory only: the load itself checks again under the load lock.
   */
  async assertLoadAdmissible(ref: string, options: LoadOptions = {}): Promise<void> {
    const { name } = parseModelRef(ref);
    const dep = this.table.get(name);
    if (dep?.state === 'loaded' || dep?.pending) return;
    const plan = await this.planner.plan(ref, options);
    await this.admission.assertAdmits(name, await this.room.needsOf(plan), null);
  }

  /** Unloads a model (idempotent: not loaded answers as is). Waits for a load in progress first. */
  async unload(ref: string): Promise<ModelStatus> {
    const { name } = parseModelRef(ref);
    const existing = this.table.get(name);
    // An idle entry may be left by a load that failed (a name not in the catalog): a missing model is 404 all the same.
    if (!existing || (existing.state === 'not_loaded' && !existing.pending)) await this.o.catalog.resolve(name);
    const dep = existing ?? this.table.getOrCreate(name);
    if (dep.pending) await dep.pending.catch(() => undefined);
    await this.lifecycle.stop(dep, 'model.unloaded', { reason: 'requested' });
    return deploymentStatus(dep, this.o.gpus);
  }

  /** Reload without downtime: start a new model (re-resolving the ref), switch traffic, drain and stop the old one. */
  async reload(ref: string, options?: LoadOptions): Promise<ModelStatus> {
    const { name } = parseModelRef(ref);
    const dep = this.table.get(name);
    if (dep?.pending) await dep.pending.catch(() => undefined);
    const reuse = options ?? dep?.requestedOptions ?? {};
    if (dep?.state !== 'loaded') return this.load(ref, reuse);
    await this.lifecycle.swap(dep, ref === name ? dep.ref : ref, reuse);
    return deploymentStatus(dep, this.o.gpus);
  }

  /** Holds the model serving `ref` for one request (loading it on demand when allowed, with `options`); release it when done. */
  lease(ref: string, capability: Capability, options?: LeaseOptions): Promise<Lease> {
    return this.leases.acquire(ref, capability, options);
  }

  /** Refuses (409 model_loaded) while `name` — or with `versionId` that version of it — is held, unless `force` unloads it first. */
  releaseForDelete(name: string, versionId: string | null, force: boolean): Promise<void> {
    return releaseForDelete(this.table.get(name), versionId, force, () => this.unload(name));
  }

  snapshot(name: string): DeploymentSnapshot | null {
    return this.table.get(name)?.snapshot() ?? null;
  }

  snapshots(): DeploymentSnapshot[] {
    return this.table.all().map((d) => d.snapshot());
  }

  /** What loaded models hold now, from their latest memory reports. */
  deviceUsage(): DeviceUsage {
    const resident = this.table.residentLocally();
    const gpus = new Map<number, { vramBytes: number; models: string[] }>();
    for (const d of resident) {
      if (d.device !== 'gpu' || d.gpuIndex === null) continue;
      const gpu = gpus.get(d.gpuIndex) ?? { vramBytes: 0, models: [] };
      gpu.vramBytes += d.served?.memory.vramBytes ?? 0;
      gpu.models.push(d.name);
      gpus.set(d.gpuIndex, gpu);
    }
    const models = resident.map((d) => ({ name: d.name, rssBytes: d.memoryBytes() }));
    return { ram: { usedBytes: models.reduce((sum, m) => sum + m.rssBytes, 0), budgetBytes: this.ramBudgetBytes(), models }, gpus };
  }

  status(ref: string): Promise<ModelStatus> {
    return modelStatus(this.statusSources, ref);
  }

  /** Every model of the catalog with its status; `tenant`: that tenant's models only. */
  statusAll(tenant?: string): Promise<Record<string, ModelStatus>> {
    return allModelStatuses(this.statusSources, tenant);
  }

  /** Starts a warm spare runner for each backend the catalog holds models for, so first loads are fast too. */
  async warmUp(): Promise<void> {
    for (const backend of allBackends()) {
      for (const format of backend.formats) {
        if ((await this.o.catalog.listModels({ format, limit: 1 })).total > 0) this.launcherFor(backend).replenish(backend.id);
      }
    }
  }

  /** A version of `format` was added: its backend gets a warm spare too, so the first load after an import is fast. */
  warmSpareFor(format: string): void {
    const backend = backendForFormat(format);
    if (backend && !this.shuttingDown) this.launcherFor(backend).replenish(backend.id);
  }

  /** Stops every served model (server shutdown); no runner outlives the server. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([
      this.runnerLauncher.close(),
      ...[...this.launchers.values()].filter((l) => l !== this.runnerLauncher).map((l) => l.close()),
    ]);
    await Promise.all(
      this.table.all().map(async (dep) => {
        dep.disarmKeepAlive();
        dep.slots.rejectWaiting(new ServiceUnavailable('The server is shutting down', undefined, 'shutting_down'));
        await dep.pending?.catch(() => undefined);
        await dep.served?.stop(3000);
        dep.served = null;
        dep.state = 'not_loaded';
      }),
    );
  }
}

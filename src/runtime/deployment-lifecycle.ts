// The deployment lifecycle: start a model (after making room), swap a loaded one live, drain and stop it; one load at a time.
import type { Logger } from 'pino';
import type { HangarConfig } from '../config/schema.ts';
import type { LoadOptions } from '../schemas/runtime.ts';
import type { RuntimeEventType } from './runtime-events.ts';
import { ServiceUnavailable } from '../errors.ts';
import { SerialLock } from '../store/serial-lock.ts';
import type { Deployment } from './deployment.ts';
import type { DeploymentTable } from './deployment-table.ts';
import { parseKeepAlive } from './keep-alive.ts';
import type { LoadPlan } from './backend-contract.ts';
import type { LoadPlanner } from './load-planner.ts';
import type { RoomMaker } from './room-maker.ts';
import type { LoadAdmission } from './load-admission.ts';
import type { MeasurementStore } from './measurements.ts';
import type { ModelLauncher } from './backend-contract.ts';
import type { ServedModel, ServedModelExit } from './served-model.ts';

const DRAIN_POLL_MS = 10;
const DRAIN_LIMIT_MS = 120_000;
/** How long a swap holds new requests back while the old model finishes its running ones. */
const CUTOVER_LIMIT_MS = 1000;

async function waitUntil(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
}

export interface LifecycleHooks {
  /** A deployment became loaded (or swapped): its keep-alive starts. */
  onServing(dep: Deployment): void;
  /** A served model ended without being asked to (crash). */
  onUnexpectedExit(dep: Deployment, served: ServedModel, exit: ServedModelExit): void;
  emit(type: RuntimeEventType, dep: Deployment, details?: Record<string, unknown>): void;
}

export interface DeploymentLifecycleOptions {
  table: DeploymentTable;
  planner: LoadPlanner;
  room: RoomMaker;
  /** Load quotas of the model's tenant, checked before anything is evicted. */
  admission: LoadAdmission;
  /** The launcher of a backend's models (runner processes, or an external server). */
  launcherFor(backend: LoadPlan['backend']): ModelLauncher;
  measurements: MeasurementStore;
  config: () => HangarConfig;
  logger: Logger;
  hooks: LifecycleHooks;
}

export class DeploymentLifecycle {
  /** One load at a time, as Ollama's scheduler does: placement decisions see a settled picture. */
  private readonly loadLock = new SerialLock();

  constructor(private readonly o: DeploymentLifecycleOptions) {}

  /** Runs `work` as the deployment's pending operation, so concurrent callers and status see it. */
  private track(dep: Deployment, work: Promise<void>): Promise<void> {
    dep.pending = work.finally(() => {
      dep.pending = null;
    });
    return dep.pending;
  }

  /** Loads `ref` into a fresh served model (under the load lock); rejects with the reason, leaving the deployment failed. */
  start(dep: Deployment, ref: string, options: LoadOptions): Promise<void> {
    return this.track(
      dep,
      this.loadLock.run(() => this.startNow(dep, ref, options)),
    );
  }

  private async startNow(dep: Deployment, ref: string, options: LoadOptions): Promise<void> {
    // A bad keep-alive is refused before anything changes (no eviction, no "loading" state left behind).
    const keepAliveMs = options.keep_alive === undefined ? undefined : parseKeepAlive(options.keep_alive);
    const plan = await this.o.planner.plan(ref, options);
    const needs = await this.o.room.needsOf(plan);
    // Quota first, then room: a refused load evicts nothing.
    await this.o.admission.assertAdmits(dep.name, needs, null);
    await this.evict(await this.o.room.victimsFor(dep.name, plan, needs, new Set()), dep.name);
    dep.state = 'loading';
    dep.failure = null;
    dep.device = plan.choice.device;
    dep.version = versionOf(plan);
    if (keepAliveMs !== undefined) dep.keepAliveMs = keepAliveMs;
    if (options.pinned !== undefined) dep.pinned = options.pinned;
    this.o.hooks.emit('model.loading', dep);
    let served: ServedModel;
    try {
      served = await this.launch(dep, plan);
    } catch (error) {
      dep.state = 'failed';
      dep.failure = (error as Error).message;
      this.o.hooks.emit('model.failed', dep, { reason: dep.failure });
      throw error;
    }
    this.adopt(dep, served, plan);
    this.o.hooks.emit('model.loaded', dep, { pid: served.pid, device: dep.device, load_ms: dep.lastLoadMs });
    this.o.hooks.onServing(dep);
  }

  /** Switches a loaded deployment to what `ref` resolves to now: the old model serves until the new one is ready. */
  swap(dep: Deployment, ref: string, options: LoadOptions): Promise<void> {
    const work = this.loadLock.run(async () => {
      const plan = await this.o.planner.plan(ref, options);
      const needs = await this.o.room.needsOf(plan);
      await this.o.admission.assertAdmits(dep.name, needs, dep);
      await this.evict(await this.o.room.victimsFor(dep.name, plan, needs, new Set([dep.name])), dep.name);
      // A failed start leaves the old model serving, untouched.
      const fresh = await this.launch(dep, plan);
      const old = dep.served;
      const from = dep.version?.number ?? null;
      // A clean cut-over: requests running on the old model finish first (briefly holding new ones back), so
      // once any answer comes from the new version, none comes from the old one. Long generations are not
      // waited for beyond the limit: they keep draining on the old model.
      const resume = dep.slots.hold();
      try {
        await waitUntil(() => dep.slots.active === 0, CUTOVER_LIMIT_MS);
        this.adopt(dep, fresh, plan);
      } finally {
        resume();
      }
      this.o.hooks.emit('model.swapped', dep, { from_version: from, to_version: plan.resolved.version.version, pid: fresh.pid });
      if (old) await this.retire(dep, old);
      this.o.hooks.onServing(dep);
    });
    return this.track(dep, work);
  }

  private async evict(victims: string[], forName: string): Promise<void> {
    for (const name of victims) {
      const victim = this.o.table.get(name);
      if (!victim) continue;
      this.o.logger.info({ model: name, for: forName }, 'evicting to make room');
      await this.stop(victim, 'model.evicted', { for: forName });
    }
  }

  private async launch(dep: Deployment, plan: LoadPlan): Promise<ServedModel> {
    const served = await this.o.launcherFor(plan.backend).launch(plan, (model, exit) => {
      if (!exit.expected && dep.served === model) this.o.hooks.onUnexpectedExit(dep, model, exit);
    });
    await this.saveMeasurement(served, plan.resolved.version.id, plan.choice.device);
    return served;
  }

  /** A measurement that cannot be saved costs only the next estimate's precision, never the load. */
  private async saveMeasurement(served: ServedModel, versionId: string | undefined, device: 'cpu' | 'gpu'): Promise<void> {
    if (!versionId) return;
    await this.o.measurements
      .record(served, versionId, device)
      .catch((error: unknown) => this.o.logger.warn({ err: error }, 'could not save the memory measurement'));
  }

  /** Points a deployment at a freshly started model and the version/device it runs. */
  private adopt(dep: Deployment, served: ServedModel, plan: LoadPlan): void {
    const runtime = this.o.config().runtime;
    dep.served = served;
    dep.ref = plan.ref;
    dep.requestedOptions = plan.options;
    dep.device = plan.choice.device;
    dep.gpuIndex = plan.choice.gpuIndex;
    dep.deviceNote = plan.choice.note;
    dep.version = versionOf(plan);
    dep.slots.setCapacity(plan.backend.concurrency({ parallel: plan.resolvedOptions.parallel, maxBatchSize: runtime.max_batch_size }));
    dep.state = 'loaded';
    dep.failure = null;
    dep.loadedAt = Date.now();
    dep.lastUsedAt = Date.now();
    dep.loadCount++;
    dep.lastLoadMs = Math.round(served.ready.loadMs);
  }

  /** Drains and stops a deployment's model; its state ends not_loaded (a failed one is just cleared). */
  async stop(dep: Deployment, event: 'model.unloaded' | 'model.evicted', details?: Record<string, unknown>): Promise<void> {
    if (dep.state === 'failed') {
      dep.state = 'not_loaded';
      dep.failure = null;
      dep.restartTimes = [];
      dep.served = null;
      return;
    }
    if (dep.state !== 'loaded') return;
    dep.state = 'unloading';
    dep.disarmKeepAlive();
    dep.slots.rejectWaiting(new ServiceUnavailable(`${dep.name} is being unloaded`, undefined, 'model_unloading'));
    if (dep.served) await this.retire(dep, dep.served);
    dep.served = null;
    dep.state = 'not_loaded';
    dep.restartTimes = [];
    this.o.hooks.emit(event, dep, details);
  }

  /** Lets a replaced model finish what it is serving, then stops it and keeps its peak memory for next time's estimate. */
  private async retire(dep: Deployment, served: ServedModel): Promise<void> {
    await waitUntil(() => served.inFlight === 0, DRAIN_LIMIT_MS);
    await served.stop();
    await this.saveMeasurement(served, dep.version?.id, dep.device);
  }
}

function versionOf(plan: LoadPlan): Deployment['version'] {
  const v = plan.resolved.version;
  return { id: v.id, number: v.version, backend: plan.backend.id, sizeBytes: v.size_bytes };
}

// The scheduler: loads models into runner processes one at a time, evicts by policy, restarts crashed runners, swaps versions live.
import os from 'node:os';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { Settings } from '../config/settings.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import { allModelStatuses, deploymentStatus, modelStatus } from './runtime-status.ts';
import { Conflict, ServiceUnavailable } from '../errors.ts';
import { SerialLock } from '../store/serial-lock.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { LoadOptions, ModelStatus } from '../schemas/runtime.ts';
import { Deployment, type ResolvedLoadOptions } from './deployment.ts';
import { chooseDevice, type DeviceChoice } from './device.ts';
import { parseKeepAlive } from './keep-alive.ts';
import { estimateLoadBytes, estimateVramBytes, gpuBudgetBytes, insufficientMemory, planEviction, MIB, type ResidentModel } from './placement.ts';
import { describeExit, RunnerCrashed, type RunnerExit, type RunnerProcess, type StartRunner } from './runner-process.ts';
import { RunnerLauncher, type LoadPlan } from './runner-launcher.ts';
import type { MeasurementStore } from './measurements.ts';
import { readStoredShapeOrNull } from '../store/memory-estimate.ts';
import type { Backend } from './protocol.ts';

export interface RuntimeEvent {
  type: 'model.loading' | 'model.loaded' | 'model.unloaded' | 'model.evicted' | 'model.failed' | 'model.crashed' | 'model.restarting' | 'model.swapped';
  model: string;
  version: number | null;
  at: string;
  details?: Record<string, unknown>;
}

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
}

const DRAIN_POLL_MS = 10;
const DRAIN_LIMIT_MS = 120_000;

function backendOf(format: string): Backend {
  return format === 'onnx' ? 'onnx' : 'llamacpp';
}

async function waitUntil(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
}

export class ModelRuntime extends EventEmitter<{ event: [RuntimeEvent] }> {
  readonly deployments = new Map<string, Deployment>();
  /** One load at a time, as Ollama's scheduler does: placement decisions see a settled picture. */
  private readonly loadLock = new SerialLock();
  private readonly launcher: RunnerLauncher;
  private readonly loadOptionsOf = new Map<string, LoadOptions>();
  private shuttingDown = false;

  constructor(private readonly o: ModelRuntimeOptions) {
    super();
    this.launcher = new RunnerLauncher({ ...o, config: () => this.config });
  }

  private get config() {
    return this.o.settings.current;
  }

  ramBudgetBytes(): number {
    const mb = this.config.memory.ram_budget_mb;
    return mb > 0 ? mb * MIB : Math.floor(os.totalmem() * 0.75);
  }

  defaultThreads(): number {
    return this.config.runtime.threads > 0 ? this.config.runtime.threads : Math.max(1, os.availableParallelism() - 1);
  }

  private deployment(name: string): Deployment {
    let dep = this.deployments.get(name);
    if (!dep) {
      dep = new Deployment(name, parseKeepAlive(this.config.runtime.keep_alive), 1, () => this.config.runtime.max_queue);
      this.deployments.set(name, dep);
    }
    return dep;
  }

  private emitEvent(type: RuntimeEvent['type'], dep: Deployment, details?: Record<string, unknown>): void {
    this.emit('event', { type, model: dep.name, version: dep.version?.number ?? null, at: new Date().toISOString(), details });
  }

  /** Loads `ref` (idempotent; concurrent callers share one load). Resolves when loaded; rejects with the reason otherwise. */
  async load(ref: string, options: LoadOptions = {}): Promise<Deployment> {
    if (this.shuttingDown) throw new ServiceUnavailable('The server is shutting down', undefined, 'shutting_down');
    const parsed = parseModelRef(ref);
    const dep = this.deployment(parsed.name);
    if (dep.pending) {
      await dep.pending;
      if (dep.state === 'loaded') return this.applyOptions(dep, options);
    }
    if (dep.state === 'loaded') {
      if (parsed.ref === undefined) return this.applyOptions(dep, options);
      const wanted = await this.o.catalog.resolve(ref);
      if (wanted.version.id === dep.version?.id) return this.applyOptions(dep, options);
      await this.swap(dep, ref, options);
      return dep;
    }
    dep.pending = this.loadLock.run(() => this.loadDeployment(dep, ref, options)).finally(() => {
      dep.pending = null;
    });
    await dep.pending;
    return dep;
  }

  private applyOptions(dep: Deployment, options: LoadOptions): Deployment {
    if (options.keep_alive !== undefined) dep.keepAliveMs = parseKeepAlive(options.keep_alive);
    if (options.pinned !== undefined) dep.pinned = options.pinned;
    dep.armKeepAlive(() => void this.expire(dep));
    return dep;
  }

  private resolveOptions(options: LoadOptions): ResolvedLoadOptions {
    return {
      requestedDevice: options.device ?? 'auto',
      gpuIndex: options.gpu,
      contextSize: options.context_size,
      threads: options.threads ?? this.defaultThreads(),
      parallel: options.parallel ?? this.config.runtime.parallel,
    };
  }

  /** Resolves what a load means now: version, concrete options, backend and device. */
  private async plan(ref: string, options: LoadOptions): Promise<LoadPlan> {
    const resolved = await this.o.catalog.resolve(ref);
    await this.o.integrity?.assertLoadable(resolved);
    const resolvedOptions = this.resolveOptions(options);
    const backend = backendOf(resolved.version.format);
    const choice = chooseDevice(resolvedOptions.requestedDevice, resolvedOptions.gpuIndex, backend, await this.o.gpus.query());
    return { ref, options, resolved, resolvedOptions, backend, choice };
  }

  /** Points a deployment at a freshly started runner and the version/device it runs. */
  private adopt(dep: Deployment, runner: RunnerProcess, plan: LoadPlan): void {
    dep.runner = runner;
    dep.ref = plan.ref;
    dep.options = plan.resolvedOptions;
    dep.device = plan.choice.device;
    dep.gpuIndex = plan.choice.gpuIndex;
    dep.deviceNote = plan.choice.note;
    dep.version = { id: plan.resolved.version.id, number: plan.resolved.version.version, backend: plan.backend, sizeBytes: plan.resolved.version.size_bytes };
    dep.slots.setCapacity(this.capacityOf(plan.backend, plan.resolvedOptions));
    dep.state = 'loaded';
    dep.failure = null;
    dep.loadedAt = Date.now();
    dep.lastUsedAt = Date.now();
    dep.loadCount++;
    dep.lastLoadMs = Math.round(runner.ready.loadMs);
    this.loadOptionsOf.set(dep.name, plan.options);
  }

  private async loadDeployment(dep: Deployment, ref: string, options: LoadOptions): Promise<void> {
    const plan = await this.plan(ref, options);
    await this.makeRoom(dep.name, plan, new Set());
    dep.state = 'loading';
    dep.failure = null;
    dep.device = plan.choice.device;
    dep.version = { id: plan.resolved.version.id, number: plan.resolved.version.version, backend: plan.backend, sizeBytes: plan.resolved.version.size_bytes };
    if (options.keep_alive !== undefined) dep.keepAliveMs = parseKeepAlive(options.keep_alive);
    if (options.pinned !== undefined) dep.pinned = options.pinned;
    this.emitEvent('model.loading', dep);
    let runner: RunnerProcess;
    try {
      runner = await this.spawn(dep, plan);
    } catch (error) {
      dep.state = 'failed';
      dep.failure = (error as Error).message;
      this.emitEvent('model.failed', dep, { reason: dep.failure });
      throw error;
    }
    this.adopt(dep, runner, plan);
    this.emitEvent('model.loaded', dep, { pid: runner.pid, device: dep.device, load_ms: dep.lastLoadMs });
    dep.armKeepAlive(() => void this.expire(dep));
  }

  /** Embeddings batch inside the runner, so an embedding model takes a batch's worth of requests at once. */
  private capacityOf(backend: Backend, options: ResolvedLoadOptions): number {
    return backend === 'onnx' ? this.config.runtime.max_batch_size : options.parallel;
  }

  private spawn(dep: Deployment, plan: LoadPlan): Promise<RunnerProcess> {
    return this.launcher.launch(plan, (runner, exit) => this.onRunnerExit(dep, runner, exit));
  }

  /** Evicts idle models (expired keep-alive first, then least recently used) until the load fits RAM and, on a GPU, VRAM. */
  private async makeRoom(name: string, { resolved, resolvedOptions, backend, choice }: LoadPlan, protect: Set<string>): Promise<void> {
    const measured = await this.o.measurements.peak(resolved.version.id, choice.device);
    const others = [...this.deployments.values()].filter((d) => d.name !== name && d.runner?.isAlive && (d.state === 'loaded' || d.state === 'unloading'));
    const asResident = (d: Deployment, memoryBytes: number): ResidentModel => ({
      name: d.name,
      memoryBytes,
      busy: d.state === 'unloading' ? 1 : d.busy,
      pinned: d.pinned || protect.has(d.name),
      lastUsedAt: d.lastUsedAt,
      expiresAt: d.expiresAt,
    });
    const maxLoaded = this.config.memory.max_loaded_models;
    const shape = measured ? null : await readStoredShapeOrNull(this.o.catalog.versionPath(resolved), resolved.version);
    const need = estimateLoadBytes({ backend, artifactBytes: resolved.version.size_bytes, measuredBytes: measured?.rssBytes, shape, contextSize: resolvedOptions.contextSize, parallel: resolvedOptions.parallel });
    const budget = this.ramBudgetBytes();
    const plan = planEviction({ neededBytes: need.bytes, budgetBytes: budget, resident: others.map((d) => asResident(d, d.memoryBytes())), maxLoadedModels: maxLoaded, now: Date.now() });
    if (!plan.fits) throw insufficientMemory(name, 'cpu', need, plan, budget, maxLoaded);
    const evict = new Set(plan.evict);
    if (choice.device === 'gpu' && choice.gpuIndex !== null) {
      const gpu = (await this.o.gpus.query()).gpus.find((g) => g.index === choice.gpuIndex);
      const onGpu = others.filter((d) => d.device === 'gpu' && d.gpuIndex === choice.gpuIndex && !evict.has(d.name));
      const own = onGpu.reduce((sum, d) => sum + (d.runner?.memory.vramBytes ?? 0), 0);
      const vramNeed = { bytes: estimateVramBytes(resolved.version.size_bytes, measured?.vramBytes ?? null), source: measured?.vramBytes ? 'measured' : 'estimated' };
      const vramBudget = gpu ? gpuBudgetBytes(gpu, this.config.memory.vram_budget_mb, own) : 0;
      const gpuPlan = planEviction({ neededBytes: vramNeed.bytes, budgetBytes: vramBudget, resident: onGpu.map((d) => asResident(d, d.runner?.memory.vramBytes ?? 0)), maxLoadedModels: 0, now: Date.now() });
      if (!gpuPlan.fits) throw insufficientMemory(name, `gpu${choice.gpuIndex}`, vramNeed, gpuPlan, vramBudget, 0);
      for (const victim of gpuPlan.evict) evict.add(victim);
    }
    for (const evicted of evict) {
      const victim = this.deployments.get(evicted);
      if (!victim) continue;
      this.o.logger.info({ model: evicted, for: name }, 'evicting to make room');
      await this.stopDeployment(victim, 'model.evicted', { for: name });
    }
  }

  private onRunnerExit(dep: Deployment, runner: RunnerProcess, exit: RunnerExit): void {
    if (exit.expected || dep.runner !== runner) return;
    dep.state = 'failed';
    dep.failure = `runner crashed: ${describeExit(exit)}`;
    dep.disarmKeepAlive();
    dep.slots.rejectWaiting(new RunnerCrashed(`The runner of ${dep.name} crashed: ${describeExit(exit)}`));
    this.o.logger.error({ model: dep.name, pid: runner.pid, code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-2000) }, 'runner crashed');
    this.emitEvent('model.crashed', dep, { pid: runner.pid, exit_code: exit.code, signal: exit.signal });
    this.scheduleRestart(dep);
  }

  /** Restarts with exponential back-off, at most restart_max times within restart_window_ms. */
  private scheduleRestart(dep: Deployment): void {
    const { restart_max, restart_window_ms, restart_backoff_ms } = this.config.runtime;
    const now = Date.now();
    dep.restartTimes = dep.restartTimes.filter((t) => now - t < restart_window_ms);
    if (this.shuttingDown) return;
    if (dep.restartTimes.length >= restart_max) {
      dep.failure = `${dep.failure} (not restarted: ${dep.restartTimes.length} restarts within ${Math.round(restart_window_ms / 1000)} s)`;
      this.emitEvent('model.failed', dep, { reason: dep.failure });
      return;
    }
    dep.restartTimes.push(now);
    const delay = restart_backoff_ms * 2 ** (dep.restartTimes.length - 1);
    this.emitEvent('model.restarting', dep, { attempt: dep.restartTimes.length, delay_ms: delay });
    setTimeout(() => {
      if (dep.state !== 'failed' || dep.pending || this.shuttingDown) return;
      const options = this.loadOptionsOf.get(dep.name) ?? {};
      dep.pending = this.loadLock
        .run(() => this.loadDeployment(dep, dep.ref, options))
        .catch((error: unknown) => {
          this.o.logger.error({ model: dep.name, err: error }, 'restart failed');
          this.scheduleRestart(dep);
        })
        .finally(() => {
          dep.pending = null;
        });
    }, delay).unref();
  }

  /** After each request: once idle, keep-alive 0 unloads now; otherwise the countdown starts. */
  afterRequest(dep: Deployment): void {
    if (dep.busy > 0 || dep.state !== 'loaded') return;
    if (dep.keepAliveMs === 0) void this.expire(dep);
    else dep.armKeepAlive(() => void this.expire(dep));
  }

  private async expire(dep: Deployment): Promise<void> {
    if (dep.state !== 'loaded' || dep.busy > 0 || dep.pending) return;
    await this.stopDeployment(dep, 'model.unloaded', { reason: 'keep_alive expired' });
  }

  /** Drains and stops a deployment's runner; its state ends not_loaded. */
  private async stopDeployment(dep: Deployment, event: 'model.unloaded' | 'model.evicted', details?: Record<string, unknown>): Promise<void> {
    if (dep.state === 'failed') {
      dep.state = 'not_loaded';
      dep.failure = null;
      dep.restartTimes = [];
      dep.runner = null;
      return;
    }
    if (dep.state !== 'loaded') return;
    dep.state = 'unloading';
    dep.disarmKeepAlive();
    dep.slots.rejectWaiting(new ServiceUnavailable(`${dep.name} is being unloaded`, undefined, 'model_unloading'));
    if (dep.runner) await this.retire(dep, dep.runner);
    dep.runner = null;
    dep.state = 'not_loaded';
    dep.restartTimes = [];
    this.emitEvent(event, dep, details);
  }

  /** Unloads a model (idempotent: not loaded answers as is). Waits for a load in progress first. */
  async unload(ref: string): Promise<Deployment> {
    const { name } = parseModelRef(ref);
    const dep = this.deployments.get(name);
    if (!dep) {
      await this.o.catalog.resolve(name);
      return this.deployment(name);
    }
    if (dep.pending) await dep.pending.catch(() => undefined);
    await this.stopDeployment(dep, 'model.unloaded', { reason: 'requested' });
    return dep;
  }

  /** Reload without downtime: start a new runner (re-resolving the ref), switch traffic, drain and stop the old one. */
  async reload(ref: string, options?: LoadOptions): Promise<Deployment> {
    const { name } = parseModelRef(ref);
    const dep = this.deployments.get(name);
    if (dep?.pending) await dep.pending.catch(() => undefined);
    if (!dep || dep.state !== 'loaded') return this.load(ref, options ?? this.loadOptionsOf.get(name) ?? {});
    await this.swap(dep, ref === name ? dep.ref : ref, options ?? this.loadOptionsOf.get(name) ?? {});
    return dep;
  }

  private async swap(dep: Deployment, ref: string, options: LoadOptions): Promise<void> {
    const work = this.loadLock.run(async () => {
      const plan = await this.plan(ref, options);
      await this.makeRoom(dep.name, plan, new Set([dep.name]));
      // The old runner keeps serving until the new one is ready; a failed start leaves it untouched.
      const fresh = await this.spawn(dep, plan);
      const old = dep.runner;
      const from = dep.version?.number ?? null;
      this.adopt(dep, fresh, plan);
      this.emitEvent('model.swapped', dep, { from_version: from, to_version: plan.resolved.version.version, pid: fresh.pid });
      if (old) await this.retire(dep, old);
      dep.armKeepAlive(() => void this.expire(dep));
    });
    dep.pending = work.finally(() => {
      dep.pending = null;
    });
    await dep.pending;
  }

  /** Lets a replaced runner finish what it is serving, then stops it and keeps its peak memory for next time's estimate. */
  private async retire(dep: Deployment, runner: RunnerProcess): Promise<void> {
    await waitUntil(() => runner.inFlight === 0, DRAIN_LIMIT_MS);
    await runner.stop();
    await this.launcher.saveMeasurement(runner, dep.version?.id, dep.device);
  }

  private get statusSources() {
    return { deployments: this.deployments, catalog: this.o.catalog, gpus: this.o.gpus };
  }

  status(ref: string): Promise<ModelStatus> {
    return modelStatus(this.statusSources, ref);
  }

  statusOf(dep: Deployment): Promise<ModelStatus> {
    return deploymentStatus(dep, this.o.gpus);
  }

  statusAll(): Promise<Record<string, ModelStatus>> {
    return allModelStatuses(this.statusSources);
  }

  /** Starts a warm spare runner for each backend the catalog holds models for, so first loads are fast too. */
  async warmUp(): Promise<void> {
    for (const [format, backend] of [['onnx', 'onnx'], ['gguf', 'llamacpp']] as const) {
      if ((await this.o.catalog.listModels({ format, limit: 1 })).total > 0) this.launcher.replenish(backend);
    }
  }

  /** Stops every runner (server shutdown); no runner outlives the server. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.launcher.close();
    await Promise.all(
      [...this.deployments.values()].map(async (dep) => {
        dep.disarmKeepAlive();
        dep.slots.rejectWaiting(new ServiceUnavailable('The server is shutting down', undefined, 'shutting_down'));
        await dep.pending?.catch(() => undefined);
        await dep.runner?.stop(3000);
        dep.runner = null;
        dep.state = 'not_loaded';
      }),
    );
  }

  /** Refuses work on a model that is not loaded when dynamic loading is off. */
  assertLoadedOrDynamic(dep: Deployment | undefined, name: string): void {
    if ((!dep || dep.state !== 'loaded') && !this.config.dynamic_loading_enabled) {
      throw new Conflict(`Model ${name} is not loaded and dynamic loading is disabled (DYNAMIC_LOADING_ENABLED=false); load it first`, { model: name }, 'model_not_loaded');
    }
  }
}

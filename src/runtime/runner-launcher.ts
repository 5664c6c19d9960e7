// Starts a runner for a load plan (the load command from version, options and device) and keeps warm spares.
import type { Logger } from 'pino';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { HangarConfig } from '../config/schema.ts';
import type { VersionManifest } from '../schemas/models.ts';
import { backendSpec, type BackendId } from './backends.ts';
import type { LoadCommand } from './protocol.ts';
import { lowerProcessPriority } from './process-priority.ts';
import { RunnerProcess, type RunnerExit, type StartRunner } from './runner-process.ts';
import type { LoadPlan, ModelLauncher } from './backend-contract.ts';
import type { ServedModel } from './served-model.ts';

const SPARE_REPLENISH_DELAY_MS = 500;

export interface RunnerLauncherOptions {
  catalog: ModelCatalog;
  logger: Logger;
  config: () => HangarConfig;
  startRunner?: StartRunner;
}

/** The launcher of in-process backends: a runner child process per model, with one warm spare per backend. */
export class RunnerLauncher implements ModelLauncher {
  private readonly startRunner: StartRunner | undefined;
  /** One pre-forked runner per backend with its runtime already imported, handed to the next CPU load. */
  private readonly spares = new Map<BackendId, RunnerProcess>();
  private closed = false;

  constructor(private readonly o: RunnerLauncherOptions) {
    this.startRunner = o.startRunner;
  }

  private get sparesEnabled(): boolean {
    return this.o.config().runtime.warm_spares && !this.startRunner && !this.closed;
  }

  /** Makes sure a warm spare exists for `backend` (when enabled); it is replaced each time one is used. */
  replenish(backend: BackendId): void {
    const spec = backendSpec(backend);
    if (!spec.warmSpare || spec.hosting !== 'runner') return;
    if (!this.sparesEnabled || this.spares.get(backend)?.isAlive) return;
    const spare = RunnerProcess.spawn(backend);
    spare.onExit = () => {
      if (this.spares.get(backend) === spare) this.spares.delete(backend);
    };
    this.spares.set(backend, spare);
  }

  /** A spare for a CPU load of this backend, taken out of the pool; GPU loads start fresh (device env is set at start-up). */
  private takeSpare(backend: BackendId, device: 'cpu' | 'gpu'): RunnerProcess | undefined {
    const spare = this.spares.get(backend);
    if (!spare || device !== 'cpu' || !spare.isAlive || spare.loadSent) return undefined;
    this.spares.delete(backend);
    return spare;
  }

  /** Stops the spares (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.spares.values()].map((spare) => spare.kill()));
    this.spares.clear();
  }

  /** Spawns a runner and waits until its model is loaded; `onExit` hears about the process ending later. */
  async launch(plan: LoadPlan, onExit: (runner: ServedModel, exit: RunnerExit) => void): Promise<ServedModel> {
    const { resolved, choice, resolvedOptions: options } = plan;
    const backend = plan.backend.id;
    const runtime = this.o.config().runtime;
    const modelDir = await this.o.catalog.versionPath(resolved);
    const manifest = JSON.parse(resolved.version.manifest) as VersionManifest;
    const command: LoadCommand = {
      type: 'load',
      backend,
      modelDir,
      entry: manifest.entry,
      threads: options.threads,
      device: choice.device,
      ...(choice.gpuIndex !== null ? { gpuIndex: choice.gpuIndex } : {}),
      ...(options.contextSize ? { contextSize: options.contextSize } : {}),
      parallel: options.parallel,
      maxBatchSize: runtime.max_batch_size,
      maxBatchWaitMs: runtime.max_batch_wait_ms,
      ...plan.backend.loadCommandExtras(resolved.version),
    };
    let self: RunnerProcess | undefined;
    const exitHandler = (exit: RunnerExit) => {
      if (self) onExit(self, exit);
    };
    let runner: RunnerProcess;
    const spare = this.takeSpare(backend, choice.device);
    if (spare) {
      spare.onExit = exitHandler;
      await spare.load(command, runtime.load_timeout_ms);
      runner = spare;
    } else {
      const start = this.startRunner ?? ((options) => RunnerProcess.start(options));
      runner = await start({ load: command, loadTimeoutMs: runtime.load_timeout_ms, onExit: exitHandler });
    }
    self = runner;
    // After the load, so the runtime's compute threads exist (later ones inherit the priority).
    lowerProcessPriority(runner.pid, runtime.runner_nice);
    // The replacement spare starts a moment later, so its start-up does not compete with this load's finish.
    setTimeout(() => this.replenish(backend), SPARE_REPLENISH_DELAY_MS).unref();
    return runner;
  }
}

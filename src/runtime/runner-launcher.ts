// Starts a runner for a load plan (the load command from version, options and device) and records its measured memory.
import type { Logger } from 'pino';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { HangarConfig } from '../config/schema.ts';
import type { LoadOptions } from '../schemas/runtime.ts';
import type { VersionManifest } from '../schemas/models.ts';
import { readRssBytes } from '../monitor/process-memory.ts';
import type { ResolvedLoadOptions } from './deployment.ts';
import type { DeviceChoice } from './device.ts';
import type { MeasurementStore } from './measurements.ts';
import type { Backend, LoadCommand } from './protocol.ts';
import { lowerProcessPriority } from './process-priority.ts';
import { RunnerProcess, type RunnerExit, type StartRunner } from './runner-process.ts';

/** What a load means once resolved: the version, concrete options, backend and device. */
export interface LoadPlan {
  ref: string;
  options: LoadOptions;
  resolved: ResolvedVersion;
  resolvedOptions: ResolvedLoadOptions;
  backend: Backend;
  choice: DeviceChoice;
}

const SPARE_REPLENISH_DELAY_MS = 500;

export interface RunnerLauncherOptions {
  catalog: ModelCatalog;
  measurements: MeasurementStore;
  logger: Logger;
  config: () => HangarConfig;
  startRunner?: StartRunner;
}

export class RunnerLauncher {
  private readonly startRunner: StartRunner | undefined;
  /** One pre-forked runner per backend with its runtime already imported, handed to the next CPU load. */
  private readonly spares = new Map<Backend, RunnerProcess>();
  private closed = false;

  constructor(private readonly o: RunnerLauncherOptions) {
    this.startRunner = o.startRunner;
  }

  private get sparesEnabled(): boolean {
    return this.o.config().runtime.warm_spares && !this.startRunner && !this.closed;
  }

  /** Makes sure a warm spare exists for `backend` (when enabled); it is replaced each time one is used. */
  replenish(backend: Backend): void {
    if (!this.sparesEnabled || this.spares.get(backend)?.isAlive) return;
    const spare = RunnerProcess.spawn(backend);
    spare.onExit = () => {
      if (this.spares.get(backend) === spare) this.spares.delete(backend);
    };
    this.spares.set(backend, spare);
  }

  /** A spare for a CPU load of this backend, taken out of the pool; GPU loads start fresh (device env is set at start-up). */
  private takeSpare(backend: Backend, device: 'cpu' | 'gpu'): RunnerProcess | undefined {
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
  async launch(plan: LoadPlan, onExit: (runner: RunnerProcess, exit: RunnerExit) => void): Promise<RunnerProcess> {
    const { resolved, backend, choice, resolvedOptions: options } = plan;
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
      ...(backend === 'onnx' && resolved.version.quantization ? { dtype: resolved.version.quantization } : {}),
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
    await this.saveMeasurement(runner, resolved.version.id, choice.device);
    return runner;
  }

  /** Records a runner's peak RSS (and VRAM), so the next load of this version is placed on a measurement. */
  async saveMeasurement(runner: RunnerProcess, versionId: string | undefined, device: 'cpu' | 'gpu'): Promise<void> {
    if (!versionId) return;
    const rss = Math.max((await readRssBytes(runner.pid)) ?? 0, runner.peakMemory.rssBytes);
    await this.o.measurements
      .save({ versionId, device, backend: runner.ready.backend, peakRssBytes: rss, vramBytes: runner.peakMemory.vramBytes ?? null, loadMs: runner.ready.loadMs })
      .catch((error: unknown) => this.o.logger.warn({ err: error }, 'could not save the memory measurement'));
  }
}

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
import type { Backend } from './protocol.ts';
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

export interface RunnerLauncherOptions {
  catalog: ModelCatalog;
  measurements: MeasurementStore;
  logger: Logger;
  config: () => HangarConfig;
  startRunner?: StartRunner;
}

export class RunnerLauncher {
  private readonly startRunner: StartRunner;

  constructor(private readonly o: RunnerLauncherOptions) {
    this.startRunner = o.startRunner ?? ((options) => RunnerProcess.start(options));
  }

  /** Spawns a runner and waits until its model is loaded; `onExit` hears about the process ending later. */
  async launch(plan: LoadPlan, onExit: (runner: RunnerProcess, exit: RunnerExit) => void): Promise<RunnerProcess> {
    const { resolved, backend, choice, resolvedOptions: options } = plan;
    const runtime = this.o.config().runtime;
    const modelDir = await this.o.catalog.versionPath(resolved);
    const manifest = JSON.parse(resolved.version.manifest) as VersionManifest;
    let self: RunnerProcess | undefined;
    const runner = await this.startRunner({
      load: {
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
      },
      loadTimeoutMs: runtime.load_timeout_ms,
      onExit: (exit) => {
        if (self) onExit(self, exit);
      },
    });
    self = runner;
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

// The backend contract: what a backend declares (BackendSpec), what a load means once planned (LoadPlan), and how a backend's models are launched.
import type { Logger } from 'pino';
import type { HangarConfig } from '../config/schema.ts';
import type { ModelFormat } from '../model-shape/model-shape.ts';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { LoadOptions } from '../schemas/runtime.ts';
import type { BackendId, Capability } from './backend-ids.ts';
import type { LoadCommand } from './protocol.ts';
import type { LoadBackend, WarmUpModel } from './runners/runner-backend.ts';
import type { ServedModel, ServedModelExit } from './served-model.ts';

/** What a runner process imports to host a model of this backend (loaded lazily, inside the runner only). */
export interface RunnerModule {
  load: LoadBackend;
  /** Imports and initialises the runtime ahead of any load (warm spares). */
  prewarm: () => Promise<unknown>;
  /** Writes the tiny model a warm spare loads once under `dir`. */
  writeWarmUpModel: (dir: string) => Promise<WarmUpModel>;
}

/** What an external backend's launcher is built from. */
export interface ExternalLauncherContext {
  config: () => HangarConfig;
  catalog: ModelCatalog;
  logger: Logger;
}

/** The facts of one backend that the runtime, placement, status and the runner derive their behaviour from. */
export interface BackendSpec {
  id: BackendId;
  /** Formats whose versions this backend serves (at least one; the first is its format when a version's shape is unknown). */
  formats: readonly [ModelFormat, ...ModelFormat[]];
  /** What its models can be asked to do (a loaded model reports its own subset). */
  capabilities: readonly Capability[];
  /** Why it cannot use a GPU on this install, or null when it can. */
  gpuUnavailableReason: string | null;
  /**
   * Where its models live: `runner` — a Hangar child process per model, memory read from /proc and the
   * runtime's own VRAM report; `external` — another server (memory from that server's report).
   */
  hosting: 'runner' | 'external';
  /**
   * The memory pool its models are placed in: `local` shares this machine's RAM/VRAM budget with
   * Hangar's runners; an external backend is a pool of its own, so local evictions never make room there.
   */
  pool: 'local' | 'external';
  /** Whether a pre-warmed spare runner is kept for it (only meaningful for `runner` hosting). */
  warmSpare: boolean;
  /** Requests one loaded model takes at once: embeddings batch inside the runner, generation uses slots. */
  concurrency(options: { parallel: number; maxBatchSize: number }): number;
  /** Whether the load's context size is honoured (and so counted by the memory estimate). */
  usesContextSize: boolean;
  /** Fields of the runner's load command specific to this backend, from the version's facts. */
  loadCommandExtras(version: { quantization: string | null }): Partial<LoadCommand>;
  /**
   * For `external` hosting: the launcher that loads models on that server and reports their memory.
   * Runner-hosted backends share Hangar's runner launcher (runner processes and warm spares).
   */
  createLauncher?: (context: ExternalLauncherContext) => ModelLauncher;
  /** For `external` hosting: why the model `name` cannot be served now (its server is failing), or null; status shows it. */
  unavailableReason?: (name: string) => string | null;
  /** Imports the code that hosts the model in a runner process. */
  runnerModule(): Promise<RunnerModule>;
}

/** Options a deployment was loaded with, resolved to concrete values (kept for restarts and reloads). */
export interface ResolvedLoadOptions {
  requestedDevice: 'cpu' | 'gpu' | 'auto';
  gpuIndex?: number;
  contextSize?: number;
  threads: number;
  parallel: number;
}

export interface DeviceChoice {
  device: 'cpu' | 'gpu';
  gpuIndex: number | null;
  /** Set when the result differs from what was asked (auto fell back to CPU). */
  note: string | null;
}

/** What a load means once resolved: the version, concrete options, backend and device. */
export interface LoadPlan {
  ref: string;
  options: LoadOptions;
  resolved: ResolvedVersion;
  resolvedOptions: ResolvedLoadOptions;
  backend: BackendSpec;
  choice: DeviceChoice;
}

/** Starts the model a load plan names, wherever its backend hosts it; `onExit` hears when it ends later. */
export interface ModelLauncher {
  launch(plan: LoadPlan, onExit: (served: ServedModel, exit: ServedModelExit) => void): Promise<ServedModel>;
  /** Makes sure a warm spare exists for the backend, where it keeps one. */
  replenish(backend: LoadPlan['backend']['id']): void;
  /** Stops what the launcher keeps running on its own (spares, connections) at shutdown. */
  close(): Promise<void>;
}

// The application layer: every use case a surface (HTTP APIs, CLI, dashboard, compatible APIs) may call, built once from the domain.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { HangarConfig } from '../config/schema.ts';
import type { Database } from '../db/schema.ts';
import type { EventSink } from '../events/event-types.ts';
import type { DownloadJobs } from '../hub/download-jobs.ts';
import type { InferenceRecorder } from '../monitor/inference-recorder.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { RegistryService } from '../registry/registry-service.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { QuantizeJobs } from '../quantize/quantize-jobs.ts';
import { Inference } from './inference.ts';
import { ModelCopies } from './model-copy.ts';
import { ModelLifecycle } from './model-lifecycle.ts';
import { ollamaLibraryPull, type OllamaLibraryPull } from './ollama-library.ts';
import { OllamaModels } from './ollama-models.ts';
import { Promotions } from './promotions.ts';
import { Quantization } from './quantization.ts';
import { RuntimeControl } from './runtime-control.ts';

export interface ApplicationParts {
  db: Kysely<Database>;
  catalog: ModelCatalog;
  registry: RegistryService;
  runtime: ModelRuntime;
  jobs: DownloadJobs;
  recorder: InferenceRecorder;
  logger: Logger;
  /** The live configuration (the Ollama backend reads OLLAMA_BASE_URL from it). */
  config: () => HangarConfig;
  events?: EventSink;
  store: BlobStore;
  quantizeJobs: QuantizeJobs;
}

export interface HangarApplication {
  /** Load, unload, reload (audited). */
  runtime: RuntimeControl;
  /** Import, pull, delete. */
  models: ModelLifecycle;
  /** Promote and roll back, with the live swap. */
  promotions: Promotions;
  /** Embed, generate, chat. */
  inference: Inference;
  /** The Ollama backend's servers: catalog sync, pull through a server (pullFromOllama), delete on it. */
  ollama: OllamaModels;
  /** Copy, create and remove models by compatible-surface names (blobs shared, never copied). */
  copies: ModelCopies;
  /** Quantize versions (GGUF with llama.cpp, ONNX fp16/q8) and load models in a quantization. */
  quantization: Quantization;
  /** Library pulls through an Ollama server; absent while no Ollama backend is configured (OLLAMA_BASE_URL). */
  readonly ollamaLibrary?: OllamaLibraryPull;
}

export function createApplication(parts: ApplicationParts): HangarApplication {
  const ollama = new OllamaModels(parts);
  const models = new ModelLifecycle(parts.catalog, parts.runtime, parts.jobs, ollama, () => parts.config().hangar_tenant_import_roots);
  const library = ollamaLibraryPull(ollama);
  const runtime = new RuntimeControl({ db: parts.db, runtime: parts.runtime, catalog: parts.catalog, logger: parts.logger });
  return {
    runtime,
    models,
    promotions: new Promotions(parts.registry, parts.runtime),
    inference: new Inference(parts.runtime, parts.recorder),
    ollama,
    copies: new ModelCopies(parts.catalog, parts.registry, parts.store, models),
    quantization: new Quantization(parts.catalog, parts.quantizeJobs, runtime, parts.logger),
    // Read on each use: OLLAMA_BASE_URL may change through the config API.
    get ollamaLibrary() {
      return ollama.servers.length > 0 ? library : undefined;
    },
  };
}

// The collaborators routes need, built once by the server and passed to buildApp (no module singletons).
import type { Logger } from 'pino';
import type { OpenedDatabase } from '../db/database.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Settings } from '../config/settings.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import type { HangarApplication } from '../app/application.ts';
import type { InferenceRecorder } from '../monitor/inference-recorder.ts';
import type { ApiKeyService } from '../auth/api-keys.ts';
import type { ModelMetrics } from '../monitor/model-metrics.ts';
import type { Registry } from 'prom-client';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import type { HardwareProbe } from '../monitor/hardware-profile.ts';
import type { RegistryService } from '../registry/registry-service.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { WebhookService } from '../events/webhook-service.ts';
import type { VersionRepairer } from '../hub/integrity.ts';
import type { DownloadJobs } from '../hub/download-jobs.ts';
import type { HubClient } from '../hub/hub-client.ts';
import type { TenantService } from '../auth/tenant-service.ts';

export interface ServerState {
  /** False until start-up work (migrations, demo models) is done; /health/ready answers 503 until then. */
  ready: boolean;
  notReadyReasons: string[];
  /** Unsafe settings reported by /health. */
  warnings: string[];
}

export interface HangarContext {
  /** The use cases routes call; routes hold no workflow of their own. */
  app: HangarApplication;
  settings: Settings;
  database: OpenedDatabase;
  catalog: ModelCatalog;
  store: BlobStore;
  runtime: ModelRuntime;
  recorder: InferenceRecorder;
  keys: ApiKeyService;
  tenants: TenantService;
  metrics: ModelMetrics;
  prometheus: Registry;
  gpus: { query(): Promise<GpuQuery> };
  hardware: HardwareProbe;
  registry: RegistryService;
  bus: EventBus;
  webhooks: WebhookService;
  /** Fetches damaged files of hub-downloaded versions again (validate ?repair=true); absent: repair is refused. */
  repairer?: VersionRepairer;
  /** Hub download and repair jobs. */
  jobs: DownloadJobs;
  /** A hub client for the current HF_ENDPOINT / HF_TOKEN (settings may change live). */
  hub: () => HubClient;
  logger: Logger;
  state: ServerState;
  /** Epoch ms when the server started. */
  startedAt: number;
  /** Hangar's own version (package.json). */
  version: string;
  /** Stops child processes etc. on shutdown; later issues register theirs. */
  onShutdown: Array<() => Promise<void>>;
}

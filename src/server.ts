// Composition root: loads config, opens the database and store, builds the app, listens, and shuts down cleanly.
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from './config/load-config.ts';
import { Settings } from './config/settings.ts';
import type { HangarConfig } from './config/schema.ts';
import { openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { BlobStore } from './store/blob-store.ts';
import { ModelCatalog } from './registry/catalog.ts';
import { importDemoModelsOnFirstStart } from './store/demo-models.ts';
import { buildApp } from './http/app.ts';
import type { HangarContext } from './http/context.ts';
import { ModelRuntime } from './runtime/model-runtime.ts';
import { createApplication } from './app/application.ts';
import { MeasurementStore } from './runtime/measurements.ts';
import { InferenceRecorder } from './monitor/inference-recorder.ts';
import { NvidiaSmi } from './monitor/nvidia-smi.ts';
import { TenantService } from './auth/tenant-service.ts';
import { loadedUsageOf } from './tenants/loaded-usage.ts';
import { ApiKeyService } from './auth/api-keys.ts';
import { ModelMetrics } from './monitor/model-metrics.ts';
import { createPrometheusRegistry } from './monitor/prometheus.ts';
import { HardwareProbe } from './monitor/hardware-profile.ts';
import { RegistryService } from './registry/registry-service.ts';
import { EventBus } from './events/event-bus.ts';
import { ModelRoster } from './registry/model-roster.ts';
import { bridgeRuntimeEvents, warmSparesForNewFormats } from './events/runtime-bridge.ts';
import { WebhookService } from './events/webhook-service.ts';
import { VersionIntegrity } from './hub/integrity.ts';
import { HubClient } from './hub/hub-client.ts';
import { QuantizeJobs } from './quantize/quantize-jobs.ts';
import { quantizeDownloaded, quantizeTypeForVariant } from './quantize/quantize-download.ts';
import { DownloadJobs } from './hub/download-jobs.ts';
import { JobStore } from './hub/job-store.ts';
import { HubRepairer } from './hub/repairer.ts';
import { loadSecretBox } from './security/secret-key.ts';
import { loadTlsMaterial } from './http/tls.ts';
import { authFailureWindows } from './http/plugins/auth-failures.ts';

export interface StartOptions extends LoadConfigOptions {
  /** An already loaded configuration (tests); otherwise it is loaded from env/.env/file. */
  loaded?: LoadedConfig;
  /** Logger to use instead of one built from the config (tests pass a silent one). */
  logger?: Logger;
}

export interface RunningServer {
  app: FastifyInstance;
  ctx: HangarContext;
  /** Base URL, e.g. http://127.0.0.1:8001 (https:// with HANGAR_TLS_CERT/HANGAR_TLS_KEY). */
  url: string;
  /** Base URL of the Ollama-only listener (HANGAR_OLLAMA_PORT), or null when it is off. */
  ollamaUrl: string | null;
  /** Resolves when start-up work after listening (demo models) is done. */
  ready: Promise<void>;
  close: () => Promise<void>;
}

export function hangarVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Settings that expose the API more than the user may realise; logged at start and shown by /health. */
function unsafeSettings(config: HangarConfig): string[] {
  if (LOOPBACK.has(config.hangar_host) || config.management_auth_enabled) return [];
  return [
    `Listening on ${config.hangar_host} with MANAGEMENT_AUTH_ENABLED=false: anyone who can reach this address can manage models. Enable auth or bind 127.0.0.1.`,
  ];
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const loaded = options.loaded ?? loadConfig(options);
  fs.mkdirSync(loaded.config.hangar_home, { recursive: true });
  // The one key for secrets at rest (webhook secrets, the hub token in the config file); bad keys and files stop start-up here.
  const { box: secrets, createdFile: createdKeyFile } = loadSecretBox({ fromEnv: loaded.secretKey, home: loaded.config.hangar_home });
  const settings = new Settings(loaded, secrets);
  const config = settings.current;
  const logger = options.logger ?? pino({ level: config.log_level, base: { service: 'hangar' } });
  if (createdKeyFile) {
    logger.info(
      { file: createdKeyFile },
      'created the key that encrypts secrets at rest: back it up with the database, without it they cannot be read',
    );
  }
  // Read before anything opens: a missing or bad certificate stops start-up with its file named.
  const tls = loadTlsMaterial(config);

  const database = openDatabase({ databaseUrl: config.database_url, dataDir: config.hangar_home });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length) logger.info({ applied, dialect: database.dialect }, 'database migrated');
  } catch (error) {
    await database.db.destroy();
    throw error;
  }
  const store = new BlobStore(path.join(config.hangar_home, 'store'));
  await store.init();
  const bus = new EventBus();
  const catalog = new ModelCatalog(database.db, store, bus);
  const roster = new ModelRoster(catalog, bus);
  const orphans = await catalog.collectGarbage();
  if (orphans) logger.info({ orphans }, 'removed store blobs no version references');

  const recorder = new InferenceRecorder();
  const gpus = new NvidiaSmi(config.hangar_nvidia_smi);
  // The runtime asks the tenants for quotas when it admits a load; the tenants ask the runtime what is loaded.
  const tenants: TenantService = new TenantService(database.db, (tenant) => loadedUsageOf(runtime.snapshots(), tenant));
  const runtime = new ModelRuntime({
    catalog,
    settings,
    measurements: new MeasurementStore(database.db),
    gpus,
    logger,
    integrity: new VersionIntegrity({ db: database.db, store }),
    tenantQuotas: (tenant) => tenants.quotasOf(tenant),
    roster,
  });
  const metricsEnabled = () => settings.current.model_metrics_enabled;
  const detachRuntimeEvents = bridgeRuntimeEvents(runtime, bus);
  const stopWarmingNewFormats = warmSparesForNewFormats(bus, runtime);
  const webhooks = new WebhookService({ db: database.db, bus, logger, secrets });
  const encryptedSecrets = await webhooks.encryptStoredSecrets();
  if (encryptedSecrets) logger.info({ webhooks: encryptedSecrets }, 'encrypted webhook secrets stored in clear text');
  const hub = () => new HubClient({ endpoint: settings.current.hf_endpoint, token: settings.current.hf_token });
  const jobs = new DownloadJobs({
    store: new JobStore(database.db),
    catalog,
    blobs: store,
    hub,
    tuning: () => {
      const d = settings.current.download;
      return {
        parallelParts: d.parallel_parts,
        partSizeBytes: d.part_size_mb * 1024 * 1024,
        stallTimeoutMs: d.stall_timeout_ms,
        maxRetries: d.max_retries,
        retryBaseMs: d.retry_base_ms,
        maxConcurrentJobs: d.max_concurrent_jobs,
      };
    },
    bus,
    logger,
    quantizer: {
      typeFor: quantizeTypeForVariant,
      run: (...args) =>
        quantizeDownloaded(
          { catalog, store, threads: () => runtime.defaultThreads(), nice: () => settings.current.runtime.runner_nice },
          ...args,
        ),
    },
  });
  const quantizeJobs = new QuantizeJobs({
    db: database.db,
    store: new JobStore(database.db),
    jobs,
    catalog,
    blobs: store,
    threads: () => runtime.defaultThreads(),
    nice: () => settings.current.runtime.runner_nice,
    bus,
    logger,
  });
  const registry = new RegistryService(database.db, database.dialect, catalog, bus);
  const ctx: HangarContext = {
    app: createApplication({
      db: database.db,
      catalog,
      registry,
      runtime,
      jobs,
      recorder,
      logger,
      store,
      config: () => settings.current,
      events: bus,
      quantizeJobs,
    }),
    settings,
    database,
    catalog,
    store,
    runtime,
    recorder,
    logger,
    keys: new ApiKeyService(database.db, config.hangar_admin_key || undefined),
    tenants,
    metrics: new ModelMetrics(recorder, metricsEnabled),
    prometheus: createPrometheusRegistry({ recorder, runtime, gpus, enabled: metricsEnabled }),
    gpus,
    hardware: new HardwareProbe({ gpus }),
    registry,
    bus,
    webhooks,
    jobs,
    hub,
    repairer: new HubRepairer(jobs),
    state: { ready: false, notReadyReasons: ['starting up'], warnings: unsafeSettings(config) },
    startedAt: Date.now(),
    version: hangarVersion(),
    // Webhooks stop before the database closes: cut-short deliveries write their state back.
    onShutdown: [
      async () => {
        detachRuntimeEvents();
        stopWarmingNewFormats();
        roster.close();
        await ctx.app.ollama.stop();
        await quantizeJobs.stop();
        await jobs.stop();
        await webhooks.stop();
      },
      () => runtime.shutdown(),
    ],
  };
  for (const warning of ctx.state.warnings) logger.warn(warning);
  settings.on('change', (next) => {
    logger.level = next.log_level;
  });
  // One set of failed-authentication counters for both listeners: a second port is no second budget.
  const listenerOptions = { tls, authFailures: authFailureWindows(settings) };
  const app = await buildApp(ctx, undefined, listenerOptions);
  webhooks.start();
  await jobs.start();
  await quantizeJobs.start();
  // The Ollama servers' models join the catalog in the background; their warnings (clashes, unreachable) show in /health.
  const baseWarnings = [...ctx.state.warnings];
  ctx.app.ollama.onWarnings = (warnings) => {
    ctx.state.warnings = [...baseWarnings, ...warnings];
  };
  ctx.app.ollama.start();
  const address = await app.listen({ port: config.model_management_port, host: config.hangar_host });
  const port = (app.server.address() as { port: number }).port;
  const host = config.hangar_host.includes(':') ? `[${config.hangar_host}]` : config.hangar_host;
  const scheme = tls ? 'https' : 'http';
  const url = `${scheme}://${host}:${port}`;
  logger.info({ address, tls: tls !== null, dialect: database.dialect, home: config.hangar_home }, 'Hangar is listening');
  // Tools that hard-code Ollama's port reach the Ollama surface alone there; the same application serves both.
  const ollamaApp = config.hangar_ollama_port > 0 ? await buildApp(ctx, ['ollama'], listenerOptions) : null;
  if (ollamaApp) {
    const ollamaAddress = await ollamaApp.listen({ port: config.hangar_ollama_port, host: config.hangar_host });
    logger.info({ address: ollamaAddress }, 'Ollama-compatible API is listening');
  }
  const ollamaUrl = ollamaApp ? `${scheme}://${host}:${(ollamaApp.server.address() as { port: number }).port}` : null;

  const ready = (async () => {
    try {
      if (config.hangar_demo_models) {
        ctx.state.notReadyReasons = ['importing demo models'];
        await importDemoModelsOnFirstStart(catalog, store, logger);
      }
      await runtime.warmUp();
      ctx.state.ready = true;
      ctx.state.notReadyReasons = [];
    } catch (error) {
      ctx.state.notReadyReasons = [`demo model import failed: ${(error as Error).message}`];
      logger.error({ err: error }, 'demo model import failed');
    }
  })();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const grace = setTimeout(() => {
        app.server.closeAllConnections();
        ollamaApp?.server.closeAllConnections();
      }, config.http.shutdown_grace_ms);
      try {
        await Promise.all([app.close(), ollamaApp?.close()]);
      } finally {
        clearTimeout(grace);
      }
      await ready;
      for (const stop of ctx.onShutdown) await stop().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
      await database.db.destroy();
      logger.info('Hangar stopped');
    })();
    return closing;
  };
  return { app, ctx, url, ollamaUrl, ready, close };
}

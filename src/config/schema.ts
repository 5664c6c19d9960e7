// The one configuration schema: defaults, allowed values and docs for every setting Hangar reads.
import { Type, type Static } from 'typebox';
import os from 'node:os';
import path from 'node:path';
import { trustProxyProblem } from './trust-proxy.ts';

const HttpSettings = Type.Object(
  {
    body_limit_bytes: Type.Integer({
      minimum: 1024,
      maximum: 1024 * 1024 * 1024,
      default: 1024 * 1024,
      description: 'Largest request body accepted, in bytes.',
    }),
    shutdown_grace_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 10_000,
      description: 'How long a graceful shutdown waits for in-flight requests before closing connections.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const MemorySettings = Type.Object(
  {
    ram_budget_mb: Type.Integer({
      minimum: 0,
      default: 0,
      description: "RAM loaded models may use, in MiB; 0 means 75% of the machine's RAM.",
    }),
    vram_budget_mb: Type.Integer({
      minimum: 0,
      default: 0,
      description: "VRAM loaded models may use on each GPU, in MiB; 0 means 90% of each GPU's memory.",
    }),
    max_loaded_models: Type.Integer({ minimum: 0, default: 0, description: 'Most models loaded at once; 0 means no limit but memory.' }),
  },
  { additionalProperties: false, default: {} },
);

export const KEEP_ALIVE_PATTERN = '^-?([0-9]+(\\.[0-9]+)?|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$';

const RuntimeSettings = Type.Object(
  {
    keep_alive: Type.String({
      pattern: KEEP_ALIVE_PATTERN,
      default: '5m',
      description: 'How long an idle model stays loaded: "5m", "30s", "1h", seconds; 0 unloads when idle; negative keeps it forever.',
    }),
    threads: Type.Integer({
      minimum: 0,
      maximum: 256,
      default: 0,
      description: 'CPU threads per runner; 0 means one less than the cores (at least 1).',
    }),
    parallel: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Concurrent generation requests per loaded model.' }),
    max_queue: Type.Integer({
      minimum: 0,
      maximum: 100_000,
      default: 512,
      description: 'Requests waiting per model before 503 queue_full.',
    }),
    max_batch_size: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 32,
      description: 'Most embedding inputs batched into one runtime call.',
    }),
    max_batch_wait_ms: Type.Number({
      minimum: 0,
      maximum: 1000,
      default: 0,
      description:
        'Extra time an embedding waits for others to batch with; at 0 it runs at once when the runner is idle, and requests arriving while a batch runs are batched together.',
    }),
    warm_spares: Type.Boolean({
      default: true,
      description: 'Keep one pre-started runner per backend with its runtime imported, so a load costs only the model.',
    }),
    runner_nice: Type.Integer({
      minimum: 0,
      maximum: 19,
      default: 10,
      description: 'CPU niceness of runner processes (0 = same as the server): the API answers promptly while models keep every core busy.',
    }),
    load_timeout_ms: Type.Integer({
      minimum: 1000,
      default: 300_000,
      description: 'A load that takes longer fails and its runner is stopped.',
    }),
    restart_max: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 3,
      description: 'Automatic restarts of a crashed runner allowed within restart_window_ms.',
    }),
    restart_window_ms: Type.Integer({ minimum: 1000, default: 600_000, description: 'Window for counting automatic restarts.' }),
    restart_backoff_ms: Type.Integer({
      minimum: 0,
      default: 1000,
      description: 'Delay before the first restart; doubles with each further one.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const DownloadSettings = Type.Object(
  {
    parallel_parts: Type.Integer({
      minimum: 1,
      maximum: 32,
      default: 4,
      description: 'Connections used at once for one large file (each fetches its own byte range).',
    }),
    part_size_mb: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 64,
      description: 'Files at least twice this size download in parts of about this many MiB.',
    }),
    stall_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 30_000,
      description: 'A connection that delivers no byte for this long is dropped and resumed where it stopped.',
    }),
    max_retries: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 8,
      description: 'Retries of a file or part in a row without progress before the job fails.',
    }),
    retry_base_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 500,
      description: 'First retry delay; doubles with each retry in a row (capped at 30 s); a 429 Retry-After is honoured.',
    }),
    max_concurrent_jobs: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 2,
      description: 'Download jobs running at once; the rest wait queued.',
    }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * Top-level keys are the environment variable names in lower case (seed 000's names kept as they are);
 * grouped settings nest and read from `HANGAR_<GROUP>_<KEY>`.
 */
export const ConfigSchema = Type.Object(
  {
    model_management_port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 8001,
      description: 'TCP port of the HTTP API (0 picks a free port).',
    }),
    hangar_host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the HTTP API binds to.' }),
    hangar_ollama_port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 0,
      description: "A second port (e.g. 11434) serving only the Ollama-compatible API, for tools that hard-code Ollama's port; 0 = off.",
    }),
    hangar_home: Type.String({
      minLength: 1,
      default: path.join(os.homedir(), '.hangar'),
      description: 'Data directory: SQLite database, model store, config.yaml.',
    }),
    database_url: Type.String({
      default: '',
      description: 'Empty: SQLite file in hangar_home. A postgres:// URL: PostgreSQL.',
    }),
    log_level: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info', description: 'pino log level.' },
    ),
    management_api_enabled: Type.Boolean({
      default: true,
      description: 'When false, only health, docs and metrics answer; the management API returns 503.',
    }),
    model_metrics_enabled: Type.Boolean({ default: true, description: 'Collect and serve model metrics.' }),
    dynamic_loading_enabled: Type.Boolean({
      default: true,
      description: 'Load a model on its first inference request instead of refusing it.',
    }),
    api_rate_limit: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100, description: 'Requests per minute per client.' }),
    management_auth_enabled: Type.Boolean({ default: false, description: 'Require API keys (Bearer) on the API.' }),
    hangar_demo_models: Type.Boolean({
      default: true,
      description: 'Import the four tiny generated demo models on first start with an empty store.',
    }),
    hangar_admin_key: Type.String({
      default: '',
      description: 'A bootstrap admin API key (any string); empty for none. Create named keys with it, then drop it.',
    }),
    hangar_tenant_import_roots: Type.String({
      default: '',
      description:
        "Folders on the server a tenant's key may import from (POST /api/v1/models/import, …/versions), comma-separated; {tenant} stands for the caller's tenant (e.g. /srv/drop/{tenant}). Empty: only system keys import server paths.",
    }),
    hangar_cors_origins: Type.String({
      default: '',
      description: 'Browser origins allowed by CORS, comma-separated; empty turns CORS off, * allows any.',
    }),
    hangar_tls_cert: Type.String({
      default: '',
      description:
        'PEM certificate file (with its chain) for HTTPS on every listener; set together with hangar_tls_key. Empty: plain HTTP.',
    }),
    hangar_tls_key: Type.String({
      default: '',
      description: 'PEM private key file of hangar_tls_cert; set together with it.',
    }),
    hangar_trust_proxy: Type.String({
      default: 'false',
      description:
        'Reverse proxies whose X-Forwarded-For is believed, so rate limits and the audit see the client: false (none), true (every hop), a hop count, or comma-separated proxy addresses/CIDRs (loopback, linklocal, uniquelocal allowed).',
    }),
    hangar_nvidia_smi: Type.String({
      minLength: 1,
      default: 'nvidia-smi',
      description: 'The nvidia-smi executable used to find GPUs and per-process GPU memory.',
    }),
    hf_endpoint: Type.String({
      minLength: 1,
      pattern: '^https?://',
      default: 'https://huggingface.co',
      description: 'Base URL of the Hugging Face-compatible hub that models are downloaded from.',
    }),
    ollama_base_url: Type.String({
      default: '',
      description: 'Ollama servers whose models join the catalog as backend ollama, comma-separated base URLs; empty for none.',
    }),
    hf_token: Type.String({ default: '', description: 'Access token sent to the hub (private and gated repos); empty for none.' }),
    http: HttpSettings,
    rate_limit: Type.Object(
      {
        inference_per_minute: Type.Integer({
          minimum: 0,
          maximum: 1_000_000,
          default: 0,
          description: 'Requests per minute per client on the inference routes; 0 means the same as api_rate_limit.',
        }),
        auth_failures_per_minute: Type.Integer({
          minimum: 0,
          maximum: 1_000_000,
          default: 20,
          description:
            'Requests with a key that fails authentication, per minute per client address; past it the address gets 429 auth_rate_limited (even with a valid key) until its minute ends. 0 = no limit.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    memory: MemorySettings,
    runtime: RuntimeSettings,
    download: DownloadSettings,
  },
  { additionalProperties: false },
);

export type HangarConfig = Static<typeof ConfigSchema>;

/** Settings read once at start-up: a change is stored but takes effect at the next start. */
export const RESTART_REQUIRED = new Set([
  'model_management_port',
  'hangar_host',
  'hangar_ollama_port',
  'hangar_home',
  'database_url',
  'hangar_demo_models',
  'hangar_nvidia_smi',
  'hangar_admin_key',
  'http.body_limit_bytes',
  'hangar_tls_cert',
  'hangar_tls_key',
  'hangar_trust_proxy',
]);

/** Settings whose values must never be shown in full. */
export const SECRET_SETTINGS = new Set(['database_url', 'hangar_admin_key', 'hf_token']);

/** Checks beyond the schema's types, by dotted path: why a value is not usable, or undefined. */
export const VALUE_CHECKS: Record<string, (value: unknown) => string | undefined> = {
  hangar_trust_proxy: trustProxyProblem,
};

/** Checks across settings: each returns why the configuration is not usable, or undefined. */
export const CROSS_CHECKS: Array<(config: HangarConfig) => string | undefined> = [
  (config) => {
    if ((config.hangar_tls_cert === '') === (config.hangar_tls_key === '')) return undefined;
    const [missing, set] = config.hangar_tls_cert ? ['hangar_tls_key', 'hangar_tls_cert'] : ['hangar_tls_cert', 'hangar_tls_key'];
    return `${missing} is empty but ${set} is set (${missing.toUpperCase()} / ${set.toUpperCase()}): HTTPS needs both the certificate and its private key`;
  },
];

/** Where a configuration value came from, lowest precedence first. */
export type ConfigSource = 'default' | 'file' | 'dotenv' | 'env' | 'api';

// The one configuration schema: defaults, allowed values and docs for every setting Hangar reads.
import { Type, type Static } from 'typebox';
import os from 'node:os';
import path from 'node:path';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
      LOG_LEVELS.map((level) => Type.Literal(level)),
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
    http: HttpSettings,
  },
  { additionalProperties: false },
);

export type HangarConfig = Static<typeof ConfigSchema>;

/** Where a configuration value came from, lowest precedence first. */
export type ConfigSource = 'default' | 'file' | 'dotenv' | 'env' | 'api';

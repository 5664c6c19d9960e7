// Holds the effective configuration for the running server, applies live changes (JSON merge patch) and persists them.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConfigSchema, RESTART_REQUIRED, SECRET_SETTINGS, type ConfigSource, type HangarConfig } from './schema.ts';
import {
  configLeaves,
  getPath,
  mergeLayers,
  validateConfig,
  type ConfigLayers,
  type JsonObject,
  type LoadedConfig,
} from './load-config.ts';
import { ConfigError, InvalidInput } from '../errors.ts';
import { redactUrl } from './redact.ts';
import { decryptFileSecrets, encryptFileSecrets } from './file-secrets.ts';
import type { SecretBox } from '../security/secret-box.ts';

export interface ConfigChange {
  key: string;
  before: unknown;
  after: unknown;
}

export interface PatchResult {
  /** Settings whose effective value changed now. */
  applied: ConfigChange[];
  /** Settings stored for the next start (read once at start-up). */
  restart_required: string[];
  /** Settings written to the file that an environment variable or .env still overrides. */
  overridden: Array<{ key: string; source: 'env' | 'dotenv'; variable: string; effective: unknown }>;
}

const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

/** RFC 7396: objects merge recursively, null removes a key, anything else replaces. */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isObject(value)) out[key] = mergePatch(isObject(out[key]) ? out[key] : {}, value);
    else out[key] = value;
  }
  for (const key of Object.keys(out)) if (isObject(out[key]) && Object.keys(out[key] as JsonObject).length === 0) delete out[key];
  return out;
}

/** Redacts secrets (a database URL's password) for API replies and audit records. */
export function redactSetting(key: string, value: unknown): unknown {
  if (!SECRET_SETTINGS.has(key) || typeof value !== 'string' || value === '') return value;
  // Only a URL keeps its visible parts; any other secret (the admin key) is hidden whole, whatever it looks like.
  return key === 'database_url' ? redactUrl(value) : '***';
}

export class Settings extends EventEmitter<{ change: [HangarConfig, ConfigChange[]] }> {
  private currentConfig: HangarConfig;
  private valueSources: Record<string, ConfigSource>;
  private layers: ConfigLayers;
  readonly configFile: string;

  /** `secrets` decrypts the secrets the file holds and encrypts them when a change is written. */
  constructor(
    loaded: LoadedConfig,
    private readonly secrets: SecretBox,
  ) {
    super();
    this.configFile = loaded.configFile;
    // The file layer is kept in clear text in memory; only writeFile encrypts.
    this.layers = { ...loaded.layers, file: decryptFileSecrets(loaded.layers.file, secrets, loaded.configFile) };
    const { merged, origin } = mergeLayers(this.layers, this.configFile);
    this.currentConfig = validateConfig(merged, (p) => origin[p] ?? p);
    this.valueSources = { ...loaded.sources };
  }

  /** The configuration now; read it on every use so live updates take effect. */
  get current(): HangarConfig {
    return this.currentConfig;
  }

  get sources(): Readonly<Record<string, ConfigSource>> {
    return this.valueSources;
  }

  /** The effective configuration with secrets redacted. */
  redacted(): HangarConfig {
    const out = structuredClone(this.currentConfig);
    const record = out as unknown as JsonObject;
    for (const key of SECRET_SETTINGS) record[key] = redactSetting(key, record[key]);
    return out;
  }

  /**
   * Applies a JSON merge patch: validated as a whole (400 naming every bad key, nothing applied),
   * written to the config file atomically, then made effective. Environment variables still win.
   */
  async applyPatch(patch: unknown): Promise<PatchResult> {
    if (!isObject(patch))
      throw new InvalidInput(
        'The body must be a JSON object (a JSON merge patch of the configuration)',
        { field: 'body' },
        'invalid_config',
      );
    const leaves = configLeaves();
    const known = new Set(leaves.map((l) => l.path));
    const groups = new Set(leaves.filter((l) => l.path.includes('.')).map((l) => l.path.split('.')[0]));
    const touched: string[] = [];
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (groups.has(key) && isObject(value)) {
        for (const sub of Object.keys(value)) (known.has(`${key}.${sub}`) ? touched : unknown).push(`${key}.${sub}`);
      } else if (groups.has(key) && value === null) {
        touched.push(...leaves.filter((l) => l.path.startsWith(`${key}.`)).map((l) => l.path));
      } else (known.has(key) ? touched : unknown).push(key);
    }
    if (unknown.length > 0) {
      throw new InvalidInput(
        `Unknown setting(s): ${unknown.join(', ')}`,
        { fields: unknown, issues: unknown.map((field) => ({ field, message: 'is not a setting' })) },
        'invalid_config',
      );
    }
    const file = mergePatch(this.layers.file, patch);
    const { merged, sources } = mergeLayers({ ...this.layers, file }, this.configFile);
    let next: HangarConfig;
    try {
      next = validateConfig(merged, (p) => (touched.includes(p) ? p : `${p} (from ${sources[p]})`));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const issues = error.message
        .split('\n')
        .slice(1)
        .map((line) => line.replace(/^\s*- /, ''));
      throw new InvalidInput(
        `Invalid configuration: ${issues.join('; ')}`,
        { fields: issues.map((i) => i.split(' ')[0]), issues },
        'invalid_config',
      );
    }
    await this.writeFile(file);
    const applied: ConfigChange[] = [];
    for (const leaf of leaves) {
      const before = getPath(this.currentConfig as unknown as JsonObject, leaf.path);
      const after = getPath(next as unknown as JsonObject, leaf.path);
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        applied.push({ key: leaf.path, before: redactSetting(leaf.path, before), after: redactSetting(leaf.path, after) });
      }
    }
    const overridden = leaves
      .filter((l) => touched.includes(l.path) && (sources[l.path] === 'env' || sources[l.path] === 'dotenv'))
      .map((l) => ({
        key: l.path,
        source: sources[l.path] as 'env' | 'dotenv',
        variable: l.envName,
        effective: redactSetting(l.path, getPath(next as unknown as JsonObject, l.path)),
      }));
    this.layers = { ...this.layers, file };
    this.valueSources = Object.fromEntries(
      Object.entries(sources).map(([key, source]) => [key, touched.includes(key) && source === 'file' ? 'api' : source]),
    );
    this.currentConfig = next;
    const restartRequired = applied.map((c) => c.key).filter((key) => RESTART_REQUIRED.has(key));
    this.emit('change', next, applied);
    return { applied, restart_required: restartRequired, overridden };
  }

  /** Temp file, fsync, rename: a crash leaves the old file or the new one, never half of one. */
  private async writeFile(values: JsonObject): Promise<void> {
    // Imported on the first write, not at start (yaml is ~70 modules).
    const { default: YAML } = await import('yaml');
    await fsp.mkdir(path.dirname(this.configFile), { recursive: true });
    const tmp = `${this.configFile}.${randomUUID()}.tmp`;
    const handle = await fsp.open(tmp, 'w', 0o600);
    try {
      const stored = encryptFileSecrets(values, this.secrets);
      await handle.writeFile(`# Hangar configuration (written by the config API; edits by hand are kept)\n${YAML.stringify(stored)}`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, this.configFile);
    const dir = fs.openSync(path.dirname(this.configFile), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }
}

/** The JSON schema of the configuration, for GET /api/v1/config/schema. */
export function configJsonSchema(): JsonObject {
  return JSON.parse(JSON.stringify(ConfigSchema)) as JsonObject;
}

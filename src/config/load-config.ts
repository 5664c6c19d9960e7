// Builds the effective configuration from defaults < YAML file < .env < environment, and explains bad values.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createRequire } from 'node:module';
import dotenv from 'dotenv';
import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import { CROSS_CHECKS, ConfigSchema, VALUE_CHECKS, type ConfigSource, type HangarConfig } from './schema.ts';
import { ConfigError } from '../errors.ts';
import { SECRET_KEY_VARIABLE } from '../security/secret-key.ts';

export interface LoadConfigOptions {
  /** Environment to read; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Folder whose `.env` file is read; defaults to the working directory. */
  cwd?: string;
}

export interface LoadedConfig {
  config: HangarConfig;
  /** Source of each leaf setting, keyed by dotted path (`http.body_limit_bytes`). */
  sources: Record<string, ConfigSource>;
  /** The YAML file consulted (it may not exist). */
  configFile: string;
  /** The raw layers above the defaults, so a live change can be merged with the same precedence. */
  layers: ConfigLayers;
  /**
   * HANGAR_SECRET_KEY from the environment or .env, and where it was found. Not a setting: it can never be
   * written to the config file (beside what it encrypts), changed through the API or shown.
   */
  secretKey?: { value: string; origin: string };
}

export interface ConfigLayers {
  /** What the YAML file holds (nested). */
  file: JsonObject;
  /** Values from .env and the environment, by environment variable name (only Hangar's names). */
  dotenv: Record<string, string>;
  env: Record<string, string>;
}

interface Leaf {
  path: string;
  envName: string;
  schema: TSchema;
}

export type JsonObject = Record<string, unknown>;

function isObjectSchema(schema: TSchema): schema is TSchema & { properties: Record<string, TSchema> } {
  return (schema as { type?: string }).type === 'object' && 'properties' in schema;
}

/** Every leaf setting with its dotted path and environment variable name. */
export function configLeaves(): Leaf[] {
  const leaves: Leaf[] = [];
  for (const [key, schema] of Object.entries(ConfigSchema.properties as Record<string, TSchema>)) {
    if (isObjectSchema(schema)) {
      for (const [sub, subSchema] of Object.entries(schema.properties)) {
        leaves.push({ path: `${key}.${sub}`, envName: `HANGAR_${key}_${sub}`.toUpperCase(), schema: subSchema });
      }
    } else {
      leaves.push({ path: key, envName: key.toUpperCase(), schema });
    }
  }
  return leaves;
}

export function getPath(obj: JsonObject, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as JsonObject)[part];
  }
  return cur;
}

export function setPath(obj: JsonObject, dotted: string, value: unknown): void {
  const lastDot = dotted.lastIndexOf('.');
  const parents = lastDot === -1 ? [] : dotted.slice(0, lastDot).split('.');
  let cur = obj;
  for (const part of parents) {
    if (cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as JsonObject;
  }
  cur[dotted.slice(lastDot + 1)] = value;
}

/** A human description of what a setting accepts, for start-up error messages. */
export function describeAllowed(schema: TSchema): string {
  const s = schema as {
    type?: string;
    anyOf?: Array<{ const?: unknown }>;
    minimum?: number;
    maximum?: number;
    minLength?: number;
  };
  if (s.anyOf) return `one of ${s.anyOf.map((option) => JSON.stringify(option.const)).join(', ')}`;
  if (s.type === 'boolean') return 'true or false';
  if (s.type === 'integer' || s.type === 'number') {
    const kind = s.type === 'integer' ? 'an integer' : 'a number';
    if (s.minimum !== undefined && s.maximum !== undefined) return `${kind} from ${s.minimum} to ${s.maximum}`;
    if (s.minimum !== undefined) return `${kind} >= ${s.minimum}`;
    return kind;
  }
  if (s.type === 'string') return s.minLength ? 'a non-empty string' : 'a string';
  return 'a valid value';
}

function readYamlFile(file: string): JsonObject {
  if (!fs.existsSync(file)) return {};
  // Required here, not imported: yaml is ~70 modules, and most starts have no configuration file.
  const YAML = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  let parsed: unknown;
  try {
    parsed = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Invalid configuration file ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Invalid configuration file ${file}: expected a mapping of settings at the top level`);
  }
  return parsed as JsonObject;
}

function readDotenv(cwd: string): Record<string, string> {
  const file = path.join(cwd, '.env');
  if (!fs.existsSync(file)) return {};
  return dotenv.parse(fs.readFileSync(file));
}

function unknownFileKeys(fileValues: JsonObject, leaves: Leaf[]): string[] {
  const known = new Set(leaves.map((leaf) => leaf.path));
  const groups = new Set(leaves.filter((l) => l.path.includes('.')).map((l) => l.path.split('.')[0]));
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(fileValues)) {
    if (groups.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const sub of Object.keys(value as JsonObject)) if (!known.has(`${key}.${sub}`)) unknown.push(`${key}.${sub}`);
    } else if (!known.has(key)) {
      unknown.push(key);
    }
  }
  return unknown;
}

/** Expands a leading `~/` so `HANGAR_HOME=~/models` means what a shell user expects. */
function expandHome(value: string): string {
  return value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value;
}

/** Loads, merges and validates the configuration; throws ConfigError naming every bad key, value and what is allowed. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const dotenvValues = readDotenv(options.cwd ?? process.cwd());
  const lookup = (name: string): string | undefined => env[name] ?? dotenvValues[name];
  const defaults = Value.Default(ConfigSchema, {}) as HangarConfig;
  const home = expandHome(lookup('HANGAR_HOME') ?? defaults.hangar_home);
  const configFile = path.resolve(expandHome(lookup('HANGAR_CONFIG') ?? path.join(home, 'config.yaml')));

  const leaves = configLeaves();
  const fileValues = readYamlFile(configFile);
  const unknown = unknownFileKeys(fileValues, leaves);
  if (unknown.length > 0) {
    throw new ConfigError(`Invalid configuration file ${configFile}: unknown setting(s) ${unknown.join(', ')}`);
  }

  const pick = (source: Record<string, string | undefined>) =>
    Object.fromEntries(leaves.filter((l) => source[l.envName] !== undefined).map((l) => [l.envName, source[l.envName] as string]));
  const layers: ConfigLayers = { file: fileValues, dotenv: pick(dotenvValues), env: pick(env) };
  const { merged, sources, origin } = mergeLayers(layers, configFile);
  const config = validateConfig(merged, (p) => origin[p] ?? p);
  const secretKeyValue = lookup(SECRET_KEY_VARIABLE);
  const secretKey =
    secretKeyValue === undefined
      ? undefined
      : {
          value: secretKeyValue,
          origin: `${SECRET_KEY_VARIABLE} in ${env[SECRET_KEY_VARIABLE] !== undefined ? 'the environment' : '.env'}`,
        };
  return { config, sources, configFile, layers, secretKey };
}

/** defaults < file < .env < environment, leaf by leaf, remembering where each value came from. */
export function mergeLayers(
  layers: ConfigLayers,
  configFile: string,
): { merged: JsonObject; sources: Record<string, ConfigSource>; origin: Record<string, string> } {
  const defaults = Value.Default(ConfigSchema, {}) as unknown as JsonObject;
  const merged: JsonObject = {};
  const sources: Record<string, ConfigSource> = {};
  const origin: Record<string, string> = {};
  for (const leaf of configLeaves()) {
    let value: unknown = getPath(defaults, leaf.path);
    let source: ConfigSource = 'default';
    const fromFile = getPath(layers.file, leaf.path);
    if (fromFile !== undefined && fromFile !== null) {
      value = fromFile;
      source = 'file';
      origin[leaf.path] = `${leaf.path} in ${configFile}`;
    }
    if (layers.dotenv[leaf.envName] !== undefined) {
      value = layers.dotenv[leaf.envName];
      source = 'dotenv';
      origin[leaf.path] = `${leaf.envName} in .env`;
    }
    if (layers.env[leaf.envName] !== undefined) {
      value = layers.env[leaf.envName];
      source = 'env';
      origin[leaf.path] = `${leaf.envName} in the environment`;
    }
    if (typeof value === 'string' && leaf.path === 'hangar_home') value = expandHome(value);
    setPath(merged, leaf.path, value);
    sources[leaf.path] = source;
  }
  return { merged, sources, origin };
}

/**
 * Coerces strings from env/.env into the schema's types and checks every setting.
 * `describe` names where a setting came from, for the error message.
 */
export function validateConfig(candidate: JsonObject, describe: (dottedPath: string) => string = (p) => p): HangarConfig {
  const converted = Value.Convert(ConfigSchema, structuredClone(candidate)) as JsonObject;
  const problems: string[] = [];
  for (const leaf of configLeaves()) {
    const value = getPath(converted, leaf.path);
    const raw = getPath(candidate, leaf.path);
    if (!Value.Check(leaf.schema, value)) {
      problems.push(`${describe(leaf.path)} = ${JSON.stringify(raw)}: expected ${describeAllowed(leaf.schema)}`);
      continue;
    }
    const problem = VALUE_CHECKS[leaf.path]?.(value);
    if (problem) problems.push(`${describe(leaf.path)} = ${JSON.stringify(raw)}: ${problem}`);
  }
  if (problems.length === 0) {
    for (const check of CROSS_CHECKS) {
      const problem = check(converted as unknown as HangarConfig);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return converted as unknown as HangarConfig;
}

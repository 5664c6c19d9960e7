// Ollama names (`tinyllama:latest`) as Hangar names: the model `tinyllama`, its tag an alias of the version that tag's digest is.
import { HangarError } from '../../errors.ts';
import { isVersionNumber, parseModelRef, PRODUCTION_ALIAS } from '../../registry/model-name.ts';
import { TENANT_MARK } from '../../tenants/tenant-names.ts';

export interface OllamaName {
  /** The name as the Ollama server lists it (`tinyllama:latest`). */
  full: string;
  /** Hangar's model name (`tinyllama`). */
  model: string;
  /** The tag, which becomes an alias of the model (`latest`). */
  tag: string;
}

/** Splits `name[:tag]` (Ollama's default tag is `latest`); null with the reason when Hangar cannot hold the name. */
export function splitOllamaName(full: string): { name: OllamaName; problem: null } | { name: null; problem: string } {
  const colon = full.lastIndexOf(':');
  // A colon inside a host (`host:port/x`) is no tag: a tag never holds a slash.
  const hasTag = colon !== -1 && !full.slice(colon + 1).includes('/');
  const model = hasTag ? full.slice(0, colon) : full;
  const tag = hasTag ? full.slice(colon + 1) : 'latest';
  // The server's models are the system's: a tenant-marked name would put the server's model in a tenant.
  if (model.startsWith(TENANT_MARK))
    return { name: null, problem: `"${TENANT_MARK}" starts a Hangar tenant prefix, which Ollama names do not carry` };
  if (isVersionNumber(tag)) return { name: null, problem: `its tag "${tag}" is a number, which Hangar reads as a version number` };
  if (tag === PRODUCTION_ALIAS) return { name: null, problem: `its tag "${tag}" is the alias Hangar's promotions own` };
  try {
    parseModelRef(`${model}:${tag}`);
  } catch (error) {
    return { name: null, problem: error instanceof HangarError ? error.message : String(error) };
  }
  return { name: { full: hasTag ? full : `${full}:latest`, model, tag }, problem: null };
}

/** A size as Ollama states it (`1.1B`, `637M`, `7B`) in parameters; null when unreadable. */
export function parameterCount(parameterSize: string | undefined): number | null {
  const match = /^([0-9.]+)\s*([KMBT]?)$/i.exec(parameterSize?.trim() ?? '');
  if (!match) return null;
  const scale = { '': 1, K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[(match[2] ?? '').toUpperCase()] ?? 1;
  return Math.round(Number(match[1]) * scale);
}

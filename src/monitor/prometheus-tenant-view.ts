// A tenant key's /metrics: its own model series (by their tenant label) and the GPU cards' readings; the server's and other tenants' series left out.
import type { Registry } from 'prom-client';

/** Series of the shared hardware, named by no model: every caller sees them. */
const SHARED_FAMILY = /^hangar_gpu_/;

/** The exposition a caller may read: all of it for the system view (`tenant` null), else `tenantExposition`. */
export async function expositionFor(registry: Registry, tenant: string | null): Promise<string> {
  const text = await registry.metrics();
  return tenant === null ? text : tenantExposition(text, tenant);
}

/**
 * Keeps the samples whose `tenant` label is `tenant`, and the GPU series. Families of the server process (process_*,
 * nodejs_*) are system-wide and dropped whole; HELP and TYPE of hangar_* families stay, so a family with no sample of
 * this tenant is still declared (valid exposition, and the same shape for every tenant).
 */
export function tenantExposition(text: string, tenant: string): string {
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const family = line.split(' ')[2] ?? '';
      if (family.startsWith('hangar_')) kept.push(line);
      continue;
    }
    const { name, labels } = parseSample(line);
    if (SHARED_FAMILY.test(name) || (name.startsWith('hangar_') && labels.get('tenant') === tenant)) kept.push(line);
  }
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/** A sample line's metric name and labels (`name{a="x",b="y\"z"} 1`), label values unescaped. */
export function parseSample(line: string): { name: string; labels: Map<string, string> } {
  const labels = new Map<string, string>();
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace === -1 || (space !== -1 && space < brace)) return { name: space === -1 ? line : line.slice(0, space), labels };
  let i = brace + 1;
  while (i < line.length && line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq === -1 || line[eq + 1] !== '"') break;
    const key = line.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\' && j + 1 < line.length) {
        j++;
        value += line[j] === 'n' ? '\n' : line[j];
      } else value += line[j];
    }
    labels.set(key, value);
    i = j + 1;
    if (line[i] === ',') i++;
  }
  return { name: line.slice(0, brace), labels };
}

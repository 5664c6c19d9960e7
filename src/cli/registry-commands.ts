// CLI commands for the registry: versions, promote, rollback, history, compare.
import { CliError, modelPath, type HangarClient } from './http-client.ts';
import { formatBytes, formatTable } from './format.ts';
import type { DeploymentHistory, Promotion, VersionComparison, VersionList } from '../schemas/registry.ts';

export interface RegistryCommandContext {
  client: HangarClient;
  json: boolean;
  print: (text: string) => void;
}

const metricsText = (metrics: Record<string, number>) =>
  Object.entries(metrics)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';

export async function versions(c: RegistryCommandContext, name: string): Promise<void> {
  const result = await c.client.request<VersionList>('GET', `/api/v1/models/${modelPath(name)}/versions?limit=1000`);
  if (c.json) return c.print(JSON.stringify(result, null, 2));
  const rows = result.versions.map((v) => [
    String(v.version),
    v.aliases.join(',') || '-',
    v.format,
    formatBytes(v.size_bytes),
    v.quantization ?? '-',
    metricsText(v.metrics),
    v.created_by,
    v.created_at.slice(0, 19),
  ]);
  c.print(formatTable(['VERSION', 'ALIASES', 'FORMAT', 'SIZE', 'QUANT', 'METRICS', 'BY', 'CREATED'], rows));
}

function describePromotion(p: Promotion, verb: string): string {
  if (!p.changed) return `${p.model}: version ${p.production_version} is already production`;
  const from = p.previous_version === null ? '' : ` (was ${p.previous_version})`;
  return `${verb} ${p.model} version ${p.production_version} to production${from}${p.swapped ? '; the loaded model switched live' : ''}`;
}

export async function promote(c: RegistryCommandContext, name: string, version: string, reason: string | undefined): Promise<void> {
  if (!/^[0-9]+$/.test(version)) throw new CliError('VERSION must be a version number', 2);
  const result = await c.client.request<Promotion>('POST', `/api/v1/models/${modelPath(name)}/promote/${version}`, {
    ...(reason ? { reason } : {}),
  });
  c.print(c.json ? JSON.stringify(result, null, 2) : describePromotion(result, 'Promoted'));
}

export async function rollback(c: RegistryCommandContext, name: string, reason: string | undefined): Promise<void> {
  const result = await c.client.request<Promotion>('POST', `/api/v1/models/${modelPath(name)}/rollback`, { ...(reason ? { reason } : {}) });
  c.print(c.json ? JSON.stringify(result, null, 2) : describePromotion(result, 'Rolled back'));
}

export async function history(c: RegistryCommandContext, name: string): Promise<void> {
  const result = await c.client.request<DeploymentHistory>('GET', `/api/v1/models/${modelPath(name)}/deployment-history?limit=1000`);
  if (c.json) return c.print(JSON.stringify(result, null, 2));
  const v = (n: number | null) => (n === null ? '-' : String(n));
  c.print(
    formatTable(
      ['#', 'WHEN', 'ACTION', 'FROM', 'TO', 'BY', 'REASON'],
      result.events.map((e) => [String(e.seq), e.at.slice(0, 19), e.action, v(e.from_version), v(e.to_version), e.actor, e.reason ?? '']),
    ),
  );
}

export async function compare(c: RegistryCommandContext, name: string, versionList: string[], metric: string | undefined): Promise<void> {
  if (versionList.some((v) => !/^[0-9]+$/.test(v))) throw new CliError('versions must be numbers', 2);
  const query = new URLSearchParams({ ...(versionList.length ? { versions: versionList.join(',') } : {}), ...(metric ? { metric } : {}) });
  const result = await c.client.request<VersionComparison>('GET', `/api/v1/models/${modelPath(name)}/compare?${query}`);
  if (c.json) return c.print(JSON.stringify(result, null, 2));
  c.print(
    formatTable(
      ['VERSION', ...(metric ? [metric.toUpperCase()] : []), 'METRICS'],
      result.versions.map((e) => [
        String(e.version) + (e.version === result.best ? ' *' : ''),
        ...(metric ? [e.value === null ? '-' : String(e.value)] : []),
        metricsText(e.metrics),
      ]),
    ),
  );
}

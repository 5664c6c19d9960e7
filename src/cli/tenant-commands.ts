// `hangar tenants create|ls|show|set|rm`: tenant management through the API (a system admin's HANGAR_API_KEY).
import { CliError, type HangarClient } from './http-client.ts';
import { formatTable } from './format.ts';
import { QUOTA_NAMES } from '../tenants/quotas.ts';
import type { TenantInfo } from '../schemas/tenants.ts';

export interface TenantCommandContext {
  client: HangarClient;
  json: boolean;
  print: (text: string) => void;
}

const USAGE = `usage: hangar tenants create NAME [--description TEXT] [--quota models=5 --quota ram_mb=4096 …]
       hangar tenants ls | show NAME | set NAME [--description TEXT] [--quota NAME=LIMIT|NAME=none …] | rm NAME`;

/** `--quota models=5` pairs; `none` (in set) removes a quota. */
function parseQuotas(pairs: string[], allowNone: boolean): Record<string, number | null> {
  const quotas: Record<string, number | null> = {};
  for (const pair of pairs) {
    const [name, value] = pair.split('=', 2);
    if (!name || value === undefined || !(QUOTA_NAMES as readonly string[]).includes(name)) {
      throw new CliError(`--quota takes NAME=LIMIT with NAME one of ${QUOTA_NAMES.join(', ')}; got "${pair}"`, 2);
    }
    if (allowNone && value === 'none') quotas[name] = null;
    else if (/^[0-9]+$/.test(value)) quotas[name] = Number(value);
    else throw new CliError(`--quota ${name} needs a whole number${allowNone ? ' or none' : ''}, got "${value}"`, 2);
  }
  return quotas;
}

function describe(tenant: TenantInfo): string {
  const rows = QUOTA_NAMES.map((quota) => {
    const used = (tenant.usage as Record<string, number | undefined>)[quota];
    const limit = (tenant.quotas as Record<string, number | undefined>)[quota];
    return [quota, used === undefined ? '-' : String(used), limit === undefined ? 'unlimited' : String(limit)];
  });
  return `Tenant ${tenant.name}${tenant.description ? ` — ${tenant.description}` : ''}\n${formatTable(['QUOTA', 'IN USE', 'LIMIT'], rows)}`;
}

export async function tenants(c: TenantCommandContext, args: string[], flags: { description?: string; quota?: string[] }): Promise<void> {
  const [sub, name] = args;
  const show = (tenant: TenantInfo) => c.print(c.json ? JSON.stringify(tenant, null, 2) : describe(tenant));
  if (sub === 'ls') {
    const list = (await c.client.request<{ tenants: TenantInfo[] }>('GET', '/api/v1/tenants')).tenants;
    if (c.json) return c.print(JSON.stringify({ tenants: list }, null, 2));
    const rows = list.map((t) => [
      t.name,
      String(t.usage.models),
      String(t.usage.loaded_models),
      String(t.usage.stored_bytes),
      Object.entries(t.quotas)
        .map(([quota, limit]) => `${quota}=${limit}`)
        .join(' ') || 'none',
    ]);
    c.print(formatTable(['NAME', 'MODELS', 'LOADED', 'STORED BYTES', 'QUOTAS'], rows));
    return;
  }
  if (!name || !['create', 'show', 'set', 'rm'].includes(sub ?? '')) throw new CliError(USAGE, 2);
  const path = `/api/v1/tenants/${encodeURIComponent(name)}`;
  if (sub === 'create') {
    const body = {
      name,
      ...(flags.description !== undefined ? { description: flags.description } : {}),
      ...(flags.quota?.length ? { quotas: parseQuotas(flags.quota, false) } : {}),
    };
    return show(await c.client.request<TenantInfo>('POST', '/api/v1/tenants', body));
  }
  if (sub === 'show') return show(await c.client.request<TenantInfo>('GET', path));
  if (sub === 'set') {
    const body = {
      ...(flags.description !== undefined ? { description: flags.description } : {}),
      ...(flags.quota?.length ? { quotas: parseQuotas(flags.quota, true) } : {}),
    };
    if (Object.keys(body).length === 0) throw new CliError(USAGE, 2);
    return show(await c.client.request<TenantInfo>('PATCH', path, body));
  }
  await c.client.request('DELETE', path);
  if (c.json) return c.print(JSON.stringify({ deleted: name }));
  c.print(`Deleted tenant "${name}"`);
}

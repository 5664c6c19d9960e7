// `hangar keys create|ls|revoke|rotate`: through the API (HANGAR_API_KEY of an admin), or with --local on this machine's data directory.
import { CliError, type HangarClient } from './http-client.ts';
import { formatTable } from './format.ts';
import type { ApiKeyInfo, CreatedKey } from '../auth/api-keys.ts';
import { isRole } from '../auth/roles.ts';
import { TenantScope } from '../tenants/tenant-scope.ts';

export interface KeyCommandContext {
  client: HangarClient;
  json: boolean;
  local: boolean;
  print: (text: string) => void;
}

/** Works on the data directory the server would use (same config sources), for the first admin key. */
async function withLocalKeys<T>(work: (keys: import('../auth/api-keys.ts').ApiKeyService) => Promise<T>): Promise<T> {
  const { loadConfig } = await import('../config/load-config.ts');
  const { openDatabase } = await import('../db/database.ts');
  const { migrateToLatest } = await import('../db/migrate.ts');
  const { ApiKeyService } = await import('../auth/api-keys.ts');
  const { config } = loadConfig();
  const database = openDatabase({ databaseUrl: config.database_url, dataDir: config.hangar_home });
  try {
    await migrateToLatest(database.db);
    return await work(new ApiKeyService(database.db));
  } finally {
    await database.db.destroy();
  }
}

const LOCAL_ACTOR = { actor: `cli (${process.env.USER ?? 'local user'})` };

export async function keys(
  c: KeyCommandContext,
  args: string[],
  flags: { role?: string; expires?: string; tenant?: string; grace?: string },
): Promise<void> {
  const [sub, target] = args;
  if (sub === 'create') {
    if (!target || !flags.role)
      throw new CliError('usage: hangar keys create NAME --role viewer|operator|admin [--tenant TENANT] [--expires ISO-TIME] [--local]', 2);
    if (!isRole(flags.role)) throw new CliError(`--role must be viewer, operator or admin, got "${flags.role}"`, 2);
    const input = {
      name: target,
      role: flags.role,
      ...(flags.expires ? { expires_at: flags.expires } : {}),
      ...(flags.tenant ? { tenant: flags.tenant } : {}),
    };
    const created = c.local
      ? await withLocalKeys((k) => k.create(input, LOCAL_ACTOR, TenantScope.system())).catch((error: Error) => {
          throw new CliError(error.message);
        })
      : await c.client.request<CreatedKey>('POST', '/api/v1/keys', input);
    if (c.json) return c.print(JSON.stringify(created, null, 2));
    c.print(
      `Created ${created.role} key "${created.name}" (id ${created.id}${created.tenant ? `, tenant ${created.tenant}` : ', system'}${created.expires_at ? `, expires ${created.expires_at}` : ''}).`,
    );
    c.print(`Key (shown only now): ${created.key}`);
    return;
  }
  if (sub === 'ls') {
    const list = c.local
      ? await withLocalKeys((k) => k.list(TenantScope.system()))
      : (await c.client.request<{ keys: ApiKeyInfo[] }>('GET', '/api/v1/keys')).keys;
    if (c.json) return c.print(JSON.stringify({ keys: list }, null, 2));
    const rows = list.map((k) => [
      k.id,
      k.name,
      k.role,
      k.tenant ?? '(system)',
      k.created_at.slice(0, 19),
      k.expires_at?.slice(0, 19) ?? '-',
      k.revoked_at ? 'revoked' : 'active',
      k.last_used_at?.slice(0, 19) ?? '-',
    ]);
    c.print(formatTable(['ID', 'NAME', 'ROLE', 'TENANT', 'CREATED', 'EXPIRES', 'STATE', 'LAST USED'], rows));
    return;
  }
  if (sub === 'revoke') {
    if (!target) throw new CliError('usage: hangar keys revoke ID|NAME [--local]', 2);
    const revoked = c.local
      ? await withLocalKeys((k) => k.revoke(target, LOCAL_ACTOR, TenantScope.system())).catch((error: Error) => {
          throw new CliError(error.message);
        })
      : await c.client.request<ApiKeyInfo>('DELETE', `/api/v1/keys/${encodeURIComponent(target)}`);
    if (c.json) return c.print(JSON.stringify(revoked, null, 2));
    c.print(`Revoked key "${revoked.name}" (id ${revoked.id})`);
    return;
  }
  if (sub === 'rotate') {
    if (!target) throw new CliError('usage: hangar keys rotate ID|NAME [--grace SECONDS]', 2);
    if (flags.grace !== undefined && !/^[0-9]+$/.test(flags.grace)) throw new CliError('--grace takes whole seconds', 2);
    const body = flags.grace === undefined ? {} : { grace_seconds: Number(flags.grace) };
    const rotated = await c.client.request<CreatedKey>('POST', `/api/v1/keys/${encodeURIComponent(target)}/rotate`, body);
    if (c.json) return c.print(JSON.stringify(rotated, null, 2));
    c.print(
      `Rotated key "${rotated.name}" (id ${rotated.id}); the old secret works until ${rotated.previous_valid_until ?? 'now (no grace)'}.`,
    );
    c.print(`New key (shown only now): ${rotated.key}`);
    return;
  }
  throw new CliError('usage: hangar keys create|ls|revoke|rotate …', 2);
}

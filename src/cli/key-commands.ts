// `hangar keys create|ls|revoke`: through the API (HANGAR_API_KEY of an admin), or with --local on this machine's data directory.
import { CliError, type HangarClient } from './http-client.ts';
import { formatTable } from './format.ts';
import type { ApiKeyInfo, CreatedKey } from '../auth/api-keys.ts';
import { isRole } from '../auth/roles.ts';

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

export async function keys(c: KeyCommandContext, args: string[], flags: { role?: string; expires?: string }): Promise<void> {
  const [sub, target] = args;
  if (sub === 'create') {
    if (!target || !flags.role)
      throw new CliError('usage: hangar keys create NAME --role viewer|operator|admin [--expires ISO-TIME] [--local]', 2);
    if (!isRole(flags.role)) throw new CliError(`--role must be viewer, operator or admin, got "${flags.role}"`, 2);
    const input = { name: target, role: flags.role, ...(flags.expires ? { expires_at: flags.expires } : {}) };
    const created = c.local
      ? await withLocalKeys((k) => k.create(input, LOCAL_ACTOR)).catch((error: Error) => {
          throw new CliError(error.message);
        })
      : await c.client.request<CreatedKey>('POST', '/api/v1/keys', input);
    if (c.json) return c.print(JSON.stringify(created, null, 2));
    c.print(
      `Created ${created.role} key "${created.name}" (id ${created.id}${created.expires_at ? `, expires ${created.expires_at}` : ''}).`,
    );
    c.print(`Key (shown only now): ${created.key}`);
    return;
  }
  if (sub === 'ls') {
    const list = c.local
      ? await withLocalKeys((k) => k.list())
      : (await c.client.request<{ keys: ApiKeyInfo[] }>('GET', '/api/v1/keys')).keys;
    if (c.json) return c.print(JSON.stringify({ keys: list }, null, 2));
    const rows = list.map((k) => [
      k.id,
      k.name,
      k.role,
      k.created_at.slice(0, 19),
      k.expires_at?.slice(0, 19) ?? '-',
      k.revoked_at ? 'revoked' : 'active',
      k.last_used_at?.slice(0, 19) ?? '-',
    ]);
    c.print(formatTable(['ID', 'NAME', 'ROLE', 'CREATED', 'EXPIRES', 'STATE', 'LAST USED'], rows));
    return;
  }
  if (sub === 'revoke') {
    if (!target) throw new CliError('usage: hangar keys revoke ID|NAME [--local]', 2);
    const revoked = c.local
      ? await withLocalKeys((k) => k.revoke(target, LOCAL_ACTOR)).catch((error: Error) => {
          throw new CliError(error.message);
        })
      : await c.client.request<ApiKeyInfo>('DELETE', `/api/v1/keys/${encodeURIComponent(target)}`);
    if (c.json) return c.print(JSON.stringify(revoked, null, 2));
    c.print(`Revoked key "${revoked.name}" (id ${revoked.id})`);
    return;
  }
  throw new CliError('usage: hangar keys create|ls|revoke …', 2);
}

// Tenants for tests: a tenant made with the system key, and an admin key of it.
import assert from 'node:assert/strict';
import type { TestServer } from './server.ts';

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Creates `tenant` (with `quotas`) as the system admin and returns the key of a new admin of that tenant. */
export async function tenantWithAdminKey(
  server: TestServer,
  systemKey: string,
  tenant: string,
  quotas: Record<string, number> = {},
): Promise<string> {
  const created = await server.request('POST', '/api/v1/tenants', { name: tenant, quotas }, bearer(systemKey));
  assert.equal(created.status, 201, created.text);
  const key = await server.request<{ key: string }>(
    'POST',
    '/api/v1/keys',
    { name: `${tenant}-admin`, role: 'admin', tenant },
    bearer(systemKey),
  );
  assert.equal(key.status, 201, key.text);
  return key.body.key;
}

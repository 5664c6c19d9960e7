// GET /api/v1/auth/whoami tells a client who it is and which role its key has, so it can show only what that role may do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';

const ADMIN = 'whoami-bootstrap-admin-key';

test('whoami: the key’s name and role with auth on, null without a valid key, admin with auth off', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const anonymous = await server.request('GET', '/api/v1/auth/whoami');
  assert.equal(anonymous.status, 200);
  assert.deepEqual(anonymous.body, { auth_enabled: true, actor: 'anonymous', role: null, tenant: null });
  assert.deepEqual((await server.request('GET', '/api/v1/auth/whoami', undefined, bearer('not-a-key'))).body, {
    auth_enabled: true,
    actor: 'anonymous',
    role: null,
    tenant: null,
  });
  const created = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: 'grafana', role: 'viewer' }, bearer(ADMIN));
  assert.equal(created.status, 201);
  assert.deepEqual((await server.request('GET', '/api/v1/auth/whoami', undefined, bearer(created.body.key))).body, {
    auth_enabled: true,
    actor: 'grafana',
    role: 'viewer',
    tenant: null,
  });

  const open = await startTestServer(t);
  assert.deepEqual((await open.request('GET', '/api/v1/auth/whoami')).body, {
    auth_enabled: false,
    actor: 'anonymous',
    role: 'admin',
    tenant: null,
  });
});

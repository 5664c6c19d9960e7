// Authentication and roles: every documented route, called without a key and with each role's key, answers as its declared role says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ROLES, type Role } from '../../src/auth/roles.ts';

const ADMIN = 'bootstrap-admin-secret';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

async function makeKey(server: TestServer, name: string, role: Role, extra: Record<string, string> = {}): Promise<string> {
  const created = await server.request<{ key: string }>('POST', '/api/v1/keys', { name, role, ...extra }, auth(ADMIN));
  assert.equal(created.status, 201, created.text);
  return created.body.key;
}

test('every route in /openapi.json enforces its declared role (no key, viewer, operator, admin)', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const keys: Record<Role, string> = {
    viewer: await makeKey(server, 'v', 'viewer'),
    operator: await makeKey(server, 'o', 'operator'),
    admin: await makeKey(server, 'a', 'admin'),
  };
  const spec = await server.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
  assert.equal(spec.status, 200);
  const rank = (role: Role) => ROLES.indexOf(role);
  let checked = 0;
  for (const [openapiPath, operations] of Object.entries(spec.body.paths)) {
    for (const method of Object.keys(operations)) {
      const fastifyPath = openapiPath.replace(/\{([A-Za-z_]+)\}/g, ':$1');
      const route = server.app.registeredRoutes.find((r) => r.url === fastifyPath && r.method.toLowerCase() === method);
      assert.ok(route, `${method} ${openapiPath} is a registered route`);
      const access = route.config.role;
      assert.ok(access, `${method} ${openapiPath} declares a role`);
      const url = openapiPath.replace(/\{[A-Za-z_]+\}/g, 'role-probe');
      const body = ['post', 'put', 'patch'].includes(method) ? {} : undefined;
      const call = async (key?: string) => (await server.request(method.toUpperCase(), url, body, key ? auth(key) : {})).status;
      const anonymous = await call();
      if (access === 'public') assert.ok(![401, 403].includes(anonymous), `${method} ${url} is public (got ${anonymous})`);
      else assert.equal(anonymous, 401, `${method} ${url} without a key`);
      for (const role of ROLES) {
        const status = await call(keys[role]);
        if (access === 'public' || rank(role) >= rank(access))
          assert.ok(![401, 403].includes(status), `${method} ${url} as ${role} (needs ${access}) got ${status}`);
        else assert.equal(status, 403, `${method} ${url} as ${role} (needs ${access})`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 25, `checked ${checked} operations`);
  const wrong = await server.request<{ error: { code: string } }>('GET', '/api/v1/models', undefined, auth('hgr_nope'));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'unauthorized');
});

test('keys: a created key works, revoked and expired keys fail, only a salted hash is stored, the audit names the key', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const key = await makeKey(server, 'ci-operator', 'operator');
  assert.match(key, /^hgr_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, auth(key))).status, 200);
  const rows = await server.ctx.database.db.selectFrom('api_keys').selectAll().execute();
  const stored = JSON.stringify(rows);
  // The secret is everything after the id (base64url, so it may itself hold "_").
  const secret = /^hgr_[a-z0-9]{16}_(.+)$/.exec(key)?.[1] ?? '';
  assert.equal(secret.length, 43);
  assert.ok(!stored.includes(secret), 'the secret is not stored');
  assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(r.hash) && r.salt.length >= 32));

  const failed = await server.request('POST', '/api/v1/models/import', { name: 'x', path: '/nonexistent' }, auth(key));
  assert.equal(failed.status, 400);
  const audit = await server.request<{ events: Array<{ actor: string; action: string }> }>(
    'GET',
    '/api/v1/audit?action=model.import',
    undefined,
    auth(key),
  );
  assert.equal(audit.body.events[0].actor, 'ci-operator');

  const listed = await server.request<{ keys: Array<{ name: string; role: string }> }>('GET', '/api/v1/keys', undefined, auth(ADMIN));
  assert.deepEqual(
    listed.body.keys.map((k) => [k.name, k.role]),
    [['ci-operator', 'operator']],
  );
  assert.ok(!listed.text.includes(key));
  const duplicate = await server.request<{ error: { code: string } }>(
    'POST',
    '/api/v1/keys',
    { name: 'ci-operator', role: 'viewer' },
    auth(ADMIN),
  );
  assert.equal(duplicate.body.error.code, 'key_exists');

  const revoked = await server.request<{ revoked_at: string }>('DELETE', '/api/v1/keys/ci-operator', undefined, auth(ADMIN));
  assert.equal(revoked.status, 200);
  assert.ok(revoked.body.revoked_at);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, auth(key))).status, 401);

  const soon = new Date(Date.now() + 1200).toISOString();
  const expiring = await makeKey(server, 'short-lived', 'viewer', { expires_at: soon });
  assert.equal((await server.request('GET', '/api/v1/models', undefined, auth(expiring))).status, 200);
  await new Promise((r) => setTimeout(r, 1400));
  assert.equal((await server.request('GET', '/api/v1/models', undefined, auth(expiring))).status, 401);
  const past = await server.request<{ error: { code: string } }>(
    'POST',
    '/api/v1/keys',
    { name: 'old', role: 'viewer', expires_at: '2001-01-01T00:00:00Z' },
    auth(ADMIN),
  );
  assert.equal(past.body.error.code, 'invalid_expiry');
});

test('/health without a key says only the status; probes stay open; auth off keeps everything open', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  assert.deepEqual((await server.request('GET', '/health')).body, { status: 'healthy' });
  assert.equal((await server.request<{ models_managed: number }>('GET', '/health', undefined, auth(ADMIN))).body.models_managed, 0);
  assert.equal((await server.request('GET', '/health/live')).status, 200);
  assert.equal((await server.request('GET', '/health/ready')).status, 200);
  const open = await startTestServer(t);
  assert.equal((await open.request('GET', '/api/v1/keys')).status, 200);
});

test('binding beyond localhost with auth off is warned about in /health', async (t) => {
  const server = await startTestServer(t, { env: { HANGAR_HOST: '0.0.0.0' } });
  const health = await fetch(`${server.url.replace('0.0.0.0', '127.0.0.1')}/health`).then(
    (r) => r.json() as Promise<{ warnings?: string[] }>,
  );
  assert.match(health.warnings?.[0] ?? '', /Listening on 0\.0\.0\.0 with MANAGEMENT_AUTH_ENABLED=false/);
});

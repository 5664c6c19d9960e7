// Tenants: the admin API, keys per tenant, the same model name in two tenants, and quotas that hold under concurrency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { DIALECTS, databaseUrlFor } from '../helpers/databases.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';

const ADMIN = 'tenants-test-admin-secret';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function tenantKey(server: TestServer, tenant: string, role: string, name = `${tenant}-${role}`): Promise<string> {
  const created = await server.request<{ key: string; tenant: string }>('POST', '/api/v1/keys', { name, role, tenant }, bearer(ADMIN));
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.tenant, tenant);
  return created.body.key;
}

test('tenant API: create, list with usage, patch quotas, refuse bad names, delete only when empty; tenant keys cannot manage tenants', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const created = await server.request('POST', '/api/v1/tenants', { name: 'acme', quotas: { models: 2 } }, bearer(ADMIN));
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.body.quotas, { models: 2 });
  assert.equal((await server.request('POST', '/api/v1/tenants', { name: 'acme' }, bearer(ADMIN))).status, 409);
  for (const name of ['Acme', '../x', 'a'.repeat(31), '-x', '']) {
    const bad = await server.request('POST', '/api/v1/tenants', { name }, bearer(ADMIN));
    assert.equal(bad.status, 400, `${name}: ${bad.text}`);
  }
  const list = await server.request<{ tenants: Array<{ name: string }> }>('GET', '/api/v1/tenants', undefined, bearer(ADMIN));
  assert.deepEqual(
    list.body.tenants.map((x) => x.name),
    ['acme', 'default'],
  );
  const patched = await server.request('PATCH', '/api/v1/tenants/acme', { quotas: { models: null, ram_mb: 512 } }, bearer(ADMIN));
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body.quotas, { ram_mb: 512 });

  const acmeAdmin = await tenantKey(server, 'acme', 'admin');
  assert.equal((await server.request('GET', '/api/v1/tenants', undefined, bearer(acmeAdmin))).status, 403);
  // A tenant admin makes keys of its own tenant only, and sees only those.
  const own = await server.request('POST', '/api/v1/keys', { name: 'ci', role: 'viewer' }, bearer(acmeAdmin));
  assert.equal(own.status, 201, own.text);
  assert.equal(own.body.tenant, 'acme');
  assert.equal(
    (await server.request('POST', '/api/v1/keys', { name: 'x', role: 'admin', tenant: 'default' }, bearer(acmeAdmin))).status,
    403,
  );
  const keys = await server.request<{ keys: Array<{ id: string; tenant: string | null }> }>(
    'GET',
    '/api/v1/keys',
    undefined,
    bearer(acmeAdmin),
  );
  assert.ok(keys.body.keys.length >= 2 && keys.body.keys.every((k) => k.tenant === 'acme'));

  assert.equal((await server.request('DELETE', '/api/v1/tenants/acme', undefined, bearer(ADMIN))).status, 409);
  for (const key of keys.body.keys) {
    assert.equal((await server.request('DELETE', `/api/v1/keys/${key.id}`, undefined, bearer(ADMIN))).status, 200);
  }
  assert.equal((await server.request('DELETE', '/api/v1/tenants/acme', undefined, bearer(ADMIN))).status, 200);
  // A new tenant of the same name starts with an empty log; the old one's history stays for system keys.
  assert.equal((await server.request('POST', '/api/v1/tenants', { name: 'acme' }, bearer(ADMIN))).status, 201);
  const successor = await tenantKey(server, 'acme', 'admin', 'acme-next');
  const log = await server.request<{ events: Array<{ action: string }> }>('GET', '/api/v1/audit', undefined, bearer(successor));
  assert.deepEqual(log.body.events.map((e) => e.action).sort(), ['key.create', 'tenant.create']);
  const history = await server.request<{ events: Array<{ tenant: string }> }>(
    'GET',
    '/api/v1/audit?action=key.revoke',
    undefined,
    bearer(ADMIN),
  );
  assert.ok(history.body.events.length >= 2 && history.body.events.every((e) => e.tenant === '~acme'));
  assert.equal((await server.request('DELETE', '/api/v1/tenants/default', undefined, bearer(ADMIN))).status, 409);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(acmeAdmin))).status, 401);
});

test('key rotation: the new secret works at once, the old one until the grace period ends', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const created = await server.request<{ key: string; id: string }>('POST', '/api/v1/keys', { name: 'svc', role: 'viewer' }, bearer(ADMIN));
  const rotated = await server.request<{ key: string; id: string; previous_valid_until: string }>(
    'POST',
    `/api/v1/keys/${created.body.id}/rotate`,
    { grace_seconds: 600 },
    bearer(ADMIN),
  );
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(rotated.body.id, created.body.id);
  assert.notEqual(rotated.body.key, created.body.key);
  assert.ok(Date.parse(rotated.body.previous_valid_until) > Date.now());
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(created.body.key))).status, 200);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(rotated.body.key))).status, 200);
  const again = await server.request<{ key: string }>('POST', '/api/v1/keys/svc/rotate', { grace_seconds: 0 }, bearer(ADMIN));
  assert.equal(again.status, 200);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(rotated.body.key))).status, 401);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(created.body.key))).status, 401);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(again.body.key))).status, 200);
  const audit = await server.request<{ events: Array<{ action: string; details: Record<string, unknown> }> }>(
    'GET',
    '/api/v1/audit?action=key.rotate',
    undefined,
    bearer(ADMIN),
  );
  assert.equal(audit.body.events.length, 2);
  assert.ok(!JSON.stringify(audit.body).includes(again.body.key.slice(-20)));
});

test('two tenants with the same model name: each imports, lists, reads and deletes its own; the other answers 404 as for a missing model', async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 3 });
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  for (const name of ['red', 'blue']) assert.equal((await server.request('POST', '/api/v1/tenants', { name }, bearer(ADMIN))).status, 201);
  const red = await tenantKey(server, 'red', 'admin');
  const blue = await tenantKey(server, 'blue', 'admin');
  for (const key of [red, blue]) {
    const imported = await server.request('POST', '/api/v1/models/import', { name: 'minilm', path: folder }, bearer(key));
    assert.equal(imported.status, 201, imported.text);
    assert.equal(imported.body.model, 'minilm');
  }
  const onlyRed = await server.request('POST', '/api/v1/models/import', { name: 'red-only', path: folder }, bearer(red));
  assert.equal(onlyRed.status, 201);
  const listed = async (key: string) =>
    (await server.request<{ models: Array<{ name: string }> }>('GET', '/api/v1/models', undefined, bearer(key))).body.models.map(
      (m) => m.name,
    );
  assert.deepEqual(await listed(red), ['minilm', 'red-only']);
  assert.deepEqual(await listed(blue), ['minilm']);
  // The system view sees both, the other tenant's under its prefix.
  assert.deepEqual((await listed(ADMIN)).sort(), ['~blue/minilm', '~red/minilm', '~red/red-only'].sort());

  const missing = await server.request('GET', '/api/v1/models/never-was', undefined, bearer(blue));
  const othersModel = await server.request('GET', '/api/v1/models/red-only', undefined, bearer(blue));
  assert.equal(othersModel.status, 404);
  assert.deepEqual(othersModel.body, JSON.parse(missing.text.replaceAll('never-was', 'red-only')));
  const reach = await server.request('GET', `/api/v1/models/${encodeURIComponent('~red/red-only')}`, undefined, bearer(blue));
  assert.equal(reach.status, 400, reach.text);

  assert.equal((await server.request('DELETE', '/api/v1/models/minilm', undefined, bearer(red))).status, 200);
  assert.deepEqual(await listed(red), ['red-only']);
  assert.deepEqual(await listed(blue), ['minilm']);
  const detail = await server.request('GET', '/api/v1/models/minilm', undefined, bearer(blue));
  assert.equal(detail.status, 200, detail.text);
  assert.equal(detail.body.name, 'minilm');
});

for (const dialect of DIALECTS) {
  test(`quotas under concurrency (${dialect}): 20 parallel imports against a quota of 5 models leave exactly 5`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (dialect === 'postgres' && !databaseUrl) return;
    const dir = await tempDir(t);
    const folder = path.join(dir, 'bert');
    await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 4 });
    const server = await startTestServer(t, { databaseUrl, env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
    assert.equal((await server.request('POST', '/api/v1/tenants', { name: 'small', quotas: { models: 5 } }, bearer(ADMIN))).status, 201);
    const key = await tenantKey(server, 'small', 'operator');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => server.request('POST', '/api/v1/models/import', { name: `m${i}`, path: folder }, bearer(key))),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 409).length, 15, statuses.join(','));
    const refused = results.find((r) => r.status === 409);
    assert.ok(refused);
    const error = refused.body.error as { code: string; details: Record<string, unknown> };
    assert.equal(error.code, 'quota_exceeded');
    assert.deepEqual(error.details, { tenant: 'small', quota: 'models', limit: 5, current: 5, requested: 1 });
    const tenant = await server.request<{ usage: { models: number } }>('GET', '/api/v1/tenants/small', undefined, bearer(ADMIN));
    assert.equal(tenant.body.usage.models, 5);
    const models = await server.request<{ total: number }>('GET', '/api/v1/models', undefined, bearer(key));
    assert.equal(models.body.total, 5);
    // A new version of an existing model is not a new model: still allowed.
    const kept = results.findIndex((r) => r.status === 201);
    const again = await server.request('POST', '/api/v1/models/import', { name: `m${kept}`, path: folder }, bearer(key));
    assert.equal(again.status, 201, again.text);
  });
}

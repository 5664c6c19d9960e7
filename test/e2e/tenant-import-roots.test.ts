// Server paths are the operator's: a tenant's key imports only from the folders HANGAR_TENANT_IMPORT_ROOTS names for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { bearer, tenantWithAdminKey } from '../helpers/tenants.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';

const ADMIN = 'import-roots-admin-secret';

test('without import roots only system keys import server paths; with {tenant} roots each tenant imports from its own folder only', async (t) => {
  const dir = await tempDir(t);
  for (const tenant of ['red', 'blue']) await writeTinyBertModel(path.join(dir, tenant, 'bert'), { hiddenSize: 32, numLayers: 1, seed: 7 });
  await fs.symlink(path.join(dir, 'blue', 'bert'), path.join(dir, 'red', 'link-to-blue'));

  const closed = await startTestServer(t, {
    env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN, HANGAR_TENANT_IMPORT_ROOTS: '' },
  });
  const red0 = await tenantWithAdminKey(closed, ADMIN, 'red');
  const refused = await closed.request(
    'POST',
    '/api/v1/models/import',
    { name: 'bert', path: path.join(dir, 'red', 'bert') },
    bearer(red0),
  );
  assert.equal(refused.status, 403, refused.text);
  assert.match(refused.text, /HANGAR_TENANT_IMPORT_ROOTS/);
  const versions = await closed.request('POST', '/api/v1/models/bert/versions', { path: path.join(dir, 'red', 'bert') }, bearer(red0));
  assert.equal(versions.status, 403, versions.text);
  const asSystem = await closed.request(
    'POST',
    '/api/v1/models/import',
    { name: '~red/bert', path: path.join(dir, 'red', 'bert') },
    bearer(ADMIN),
  );
  assert.equal(asSystem.status, 201, asSystem.text);

  const server = await startTestServer(t, {
    env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN, HANGAR_TENANT_IMPORT_ROOTS: `${path.join(dir, '{tenant}')}` },
  });
  const red = await tenantWithAdminKey(server, ADMIN, 'red');
  const own = await server.request('POST', '/api/v1/models/import', { name: 'bert', path: path.join(dir, 'red', 'bert') }, bearer(red));
  assert.equal(own.status, 201, own.text);
  const outside = [
    path.join(dir, 'blue', 'bert'),
    `${path.join(dir, 'red')}/../blue/bert`,
    path.join(dir, 'red', 'link-to-blue'),
    path.join(dir, 'red', 'does-not-exist'),
    '/etc/hostname',
  ];
  const bodies = new Set<string>();
  for (const candidate of outside) {
    const reply = await server.request('POST', '/api/v1/models/import', { name: 'loot', path: candidate }, bearer(red));
    assert.equal(reply.status, 403, `${candidate}: ${reply.text}`);
    bodies.add(reply.text);
  }
  assert.equal(bodies.size, 1, 'a missing path and a forbidden one answer alike');
  const models = await server.request<{ models: Array<{ name: string }> }>('GET', '/api/v1/models', undefined, bearer(red));
  assert.deepEqual(
    models.body.models.map((m) => m.name),
    ['bert'],
  );
});

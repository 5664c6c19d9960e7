// Load quotas (loaded_models, ram_mb) under concurrency and on demand, and placement that keeps tenants to their share and never evicts a pinned model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { DIALECTS, databaseUrlFor } from '../helpers/databases.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { bearer, tenantWithAdminKey } from '../helpers/tenants.ts';

const ADMIN = 'tenant-quota-admin-secret';
const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };

interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

async function importAll(server: TestServer, key: string, folder: string, names: string[]): Promise<void> {
  for (const name of names) {
    const imported = await server.request('POST', '/api/v1/models/import', { name, path: folder }, bearer(key));
    assert.equal(imported.status, 201, imported.text);
  }
}

async function loadedNames(server: TestServer, key: string): Promise<string[]> {
  const reply = await server.request<{ models: Record<string, { status: string }> }>(
    'GET',
    '/api/v1/models/status',
    undefined,
    bearer(key),
  );
  return Object.entries(reply.body.models)
    .filter(([, m]) => m.status === 'loaded')
    .map(([name]) => name)
    .sort();
}

for (const dialect of DIALECTS) {
  test(`load quotas (${dialect}): 10 concurrent loads against loaded_models=2 leave exactly 2; on-demand loads and ram_mb are held to it too`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (dialect === 'postgres' && !databaseUrl) return;
    const dir = await tempDir(t);
    const folder = path.join(dir, 'bert');
    await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 5 });
    const server = await startTestServer(t, { databaseUrl, env: { ...NO_GPU, MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
    const key = await tenantWithAdminKey(server, ADMIN, 'small', { loaded_models: 2 });
    const names = Array.from({ length: 10 }, (_, i) => `m${i}`);
    await importAll(server, key, folder, names);

    const results = await Promise.all(
      names.map((name) => server.request<ErrorBody>('POST', `/api/v1/models/${name}/load`, undefined, bearer(key))),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 2, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 409).length, 8, statuses.join(','));
    for (const refused of results.filter((r) => r.status === 409)) {
      assert.equal(refused.body.error.code, 'quota_exceeded');
      assert.deepEqual(refused.body.error.details, { tenant: 'small', quota: 'loaded_models', limit: 2, current: 2, requested: 1 });
    }
    const loaded = await loadedNames(server, key);
    assert.deepEqual(loaded, names.filter((_, i) => statuses[i] === 200).sort());
    const usage = await server.request<{ usage: { loaded_models: number; ram_mb: number } }>(
      'GET',
      '/api/v1/tenants/small',
      undefined,
      bearer(ADMIN),
    );
    assert.equal(usage.body.usage.loaded_models, 2);

    // Nothing changed for the refused: not loaded, nothing evicted, no failure left behind.
    const refusedName = names[statuses.indexOf(409)];
    const idle = await server.request<{ status: string; reason: string | null }>(
      'GET',
      `/api/v1/models/${refusedName}/status`,
      undefined,
      bearer(key),
    );
    assert.deepEqual([idle.body.status, idle.body.reason], ['not_loaded', null]);

    // A load started by inference (dynamic loading) and one that would answer 202 are refused alike.
    const onDemand = await server.request<ErrorBody>('POST', '/api/v1/embeddings', { model: refusedName, input: 'x' }, bearer(key));
    assert.equal(onDemand.status, 409, onDemand.text);
    assert.equal(onDemand.body.error.details.quota, 'loaded_models');
    const background = await server.request<ErrorBody>('POST', `/api/v1/models/${refusedName}/load?wait=false`, undefined, bearer(key));
    assert.equal(background.status, 409, background.text);
    assert.equal(background.body.error.code, 'quota_exceeded');
    assert.deepEqual(await loadedNames(server, key), loaded);

    // RAM: with a slot free, a load whose estimate passes ram_mb is refused, naming the quota and the use.
    assert.equal((await server.request('POST', `/api/v1/models/${loaded[0]}/unload`, undefined, bearer(key))).status, 200);
    const inUse = (await server.request<{ usage: { ram_mb: number } }>('GET', '/api/v1/tenants/small', undefined, bearer(ADMIN))).body.usage
      .ram_mb;
    assert.ok(inUse > 0, `ram in use: ${inUse}`);
    const limit = Math.ceil(inUse) + 1;
    const patched = await server.request('PATCH', '/api/v1/tenants/small', { quotas: { ram_mb: limit } }, bearer(ADMIN));
    assert.equal(patched.status, 200, patched.text);
    const tooBig = await server.request<ErrorBody>('POST', `/api/v1/models/${refusedName}/load`, undefined, bearer(key));
    assert.equal(tooBig.status, 409, tooBig.text);
    assert.equal(tooBig.body.error.code, 'quota_exceeded');
    const details = tooBig.body.error.details as { quota: string; limit: number; current: number; requested: number };
    assert.deepEqual([details.quota, details.limit, details.current], ['ram_mb', limit, inUse]);
    assert.ok(details.current + details.requested > limit);
    assert.deepEqual(await loadedNames(server, key), [loaded[1]]);
    // Lifting the quota lets the same load through.
    await server.request('PATCH', '/api/v1/tenants/small', { quotas: { ram_mb: null } }, bearer(ADMIN));
    assert.equal((await server.request('POST', `/api/v1/models/${refusedName}/load`, undefined, bearer(key))).status, 200);
  });
}

test("eviction between tenants: within its share a tenant may evict another tenant's idle model, over its share only its own, and never a pinned one", async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 6 });
  // Two model slots in all: with two tenants holding models, each one's fair share is one slot.
  const server = await startTestServer(t, {
    env: { ...NO_GPU, MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN, HANGAR_MEMORY_MAX_LOADED_MODELS: '2' },
  });
  const red = await tenantWithAdminKey(server, ADMIN, 'red');
  const blue = await tenantWithAdminKey(server, ADMIN, 'blue');
  await importAll(server, red, folder, ['r1', 'r2', 'r3']);
  await importAll(server, blue, folder, ['b1', 'b2', 'b3']);
  const load = (key: string, name: string, body?: unknown) =>
    server.request<ErrorBody>('POST', `/api/v1/models/${name}/load`, body, bearer(key));
  const everyLoaded = () => loadedNames(server, ADMIN);

  for (const name of ['r1', 'r2']) assert.equal((await load(red, name)).status, 200);
  // Blue holds nothing: within its share, so red's least recently used model makes room.
  assert.equal((await load(blue, 'b1', { pinned: true })).status, 200);
  assert.deepEqual(await everyLoaded(), ['~blue/b1', '~red/r2']);
  // Red holds one slot, its share: a second one may come only from its own models.
  assert.equal((await load(red, 'r3')).status, 200);
  assert.deepEqual(await everyLoaded(), ['~blue/b1', '~red/r3']);
  // Blue over its share has only its pinned model to give: refused, nothing changed, red's model not even named.
  const refused = await load(blue, 'b2');
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.error.code, 'insufficient_memory');
  assert.deepEqual(
    (refused.body.error.details.not_evictable as Array<{ model: string | null; reason: string }>)
      .map((b) => `${b.model}:${b.reason}`)
      .sort(),
    ['b1:pinned', 'null:other_tenant'],
  );
  assert.doesNotMatch(refused.text, /r3|red/);
  assert.deepEqual(await everyLoaded(), ['~blue/b1', '~red/r3']);

  // Red gone: blue alone has every slot; then red, within its share again, takes blue's idle model, never the pinned one.
  assert.equal((await server.request('POST', '/api/v1/models/r3/unload', undefined, bearer(red))).status, 200);
  assert.equal((await load(blue, 'b2')).status, 200);
  assert.deepEqual(await everyLoaded(), ['~blue/b1', '~blue/b2']);
  assert.equal((await load(red, 'r1')).status, 200);
  assert.deepEqual(await everyLoaded(), ['~blue/b1', '~red/r1']);
});

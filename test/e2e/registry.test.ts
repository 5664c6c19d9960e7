// Registry over HTTP: seed-001 endpoints, and promotion as deployment (live swap under load with no failed request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';

test('seed-001 endpoints over HTTP: versions, promote, production, compare, history, statistics, rollback, validate-version', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent' } });
  const dir = await tempDir(t);
  for (const [i, accuracy] of [0.7, 0.8].entries()) {
    const folder = path.join(dir, `v${i}`);
    await writeTinyBertModel(folder, { hiddenSize: 32, seed: 100 + i });
    const created = await server.request<{ version: number }>('POST', '/api/v1/models/demo-embed-small/versions', {
      path: folder,
      metrics: { accuracy },
      training: { dataset_version: `d${i}` },
      lineage: { run_id: `r${i}` },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.version, i + 2);
  }
  const versions = await server.request<{ versions: Array<{ version: number }>; total: number; next_page_token: string | null }>(
    'GET',
    '/api/v1/models/demo-embed-small/versions?limit=2',
  );
  assert.deepEqual(
    versions.body.versions.map((v) => v.version),
    [3, 2],
  );
  assert.ok(versions.body.next_page_token);
  const promoted = await server.request<{ production_version: number; previous_version: number | null; swapped: boolean }>(
    'POST',
    '/api/v1/models/demo-embed-small/promote/3',
    { user_id: 'data_scientist', reason: 'best accuracy' },
  );
  assert.equal(promoted.status, 200, promoted.text);
  assert.deepEqual([promoted.body.production_version, promoted.body.previous_version, promoted.body.swapped], [3, null, false]);
  const conflict = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/demo-embed-small/promote/2', {
    expected_current_version: 2,
  });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error.code, 'version_conflict');
  assert.equal((await server.request<{ version: number }>('GET', '/api/v1/models/demo-embed-small/production')).body.version, 3);
  const compare = await server.request<{ best: number; versions: Array<{ version: number }> }>(
    'GET',
    '/api/v1/models/demo-embed-small/compare?versions=2,3&metric=accuracy&order=desc',
  );
  assert.equal(compare.body.best, 3);
  const list = await server.request<{ models: Array<{ name: string; production_version: number | null; version_count: number }> }>(
    'GET',
    '/api/v1/models',
  );
  assert.deepEqual(
    list.body.models.find((m) => m.name === 'demo-embed-small'),
    { ...list.body.models.find((m) => m.name === 'demo-embed-small'), production_version: 3, version_count: 3 },
  );
  await server.request('POST', '/api/v1/models/demo-embed-small/promote/2', { user_id: 'x' });
  const rolled = await server.request<{ production_version: number; action: string }>('POST', '/api/v1/models/demo-embed-small/rollback', {
    reason: 'oops',
  });
  assert.deepEqual([rolled.body.production_version, rolled.body.action], [3, 'rollback']);
  const history = await server.request<{ events: Array<{ action: string; actor: string }> }>(
    'GET',
    '/api/v1/models/demo-embed-small/deployment-history',
  );
  assert.deepEqual(
    history.body.events.map((e) => e.action),
    ['rollback', 'demote', 'promote', 'demote', 'promote'],
  );
  const stats = await server.request<{
    total_models: number;
    models_in_production: number;
    average_production_metrics: Record<string, number>;
  }>('GET', '/api/v1/models/statistics/registry');
  assert.deepEqual([stats.body.total_models, stats.body.models_in_production, stats.body.average_production_metrics.accuracy], [4, 1, 0.8]);
  const staging = await server.request('PUT', '/api/v1/models/demo-embed-small/aliases/staging', { version: 2 });
  assert.equal(staging.status, 200);
  assert.equal((await server.request<{ version: number }>('GET', '/api/v1/models/demo-embed-small/versions/staging')).body.version, 2);
  const valid = await server.request<{ valid: boolean; resolved_version: number }>('POST', '/api/v1/models/validate-version', {
    model_name: 'demo-embed-small',
    version: 'staging',
  });
  assert.deepEqual(valid.body, { valid: true, reason: null, resolved_version: 2 });
  const invalid = await server.request<{ valid: boolean; reason: string }>('POST', '/api/v1/models/validate-version', {
    version: 'no spaces allowed',
  });
  assert.equal(invalid.body.valid, false);
});

test('promoting a loaded model swaps it live under concurrent embedding load: no failed request, responses switch version', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent' } });
  const folder = path.join(await tempDir(t), 'v2');
  await writeTinyBertModel(folder, { hiddenSize: 32, seed: 77 });
  await server.request('POST', '/api/v1/models/demo-embed-small/versions', { path: folder });
  await server.request('POST', '/api/v1/models/demo-embed-small/promote/1');
  const loaded = await server.request<{ version: number; pid: number }>('POST', '/api/v1/models/demo-embed-small/load');
  assert.equal(loaded.body.version, 1);
  const versionsSeen: number[] = [];
  let failures = 0;
  let stop = false;
  const client = async () => {
    while (!stop) {
      const r = await server.request<{ version: number }>('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: 'live swap' });
      if (r.status === 200) versionsSeen.push(r.body.version);
      else failures++;
    }
  };
  const clients = Array.from({ length: 6 }, client);
  await new Promise((r) => setTimeout(r, 200));
  const promoted = await server.request<{ swapped: boolean; production_version: number }>(
    'POST',
    '/api/v1/models/demo-embed-small/promote/2',
    { reason: 'go live' },
  );
  assert.equal(promoted.status, 200, promoted.text);
  assert.equal(promoted.body.swapped, true);
  await new Promise((r) => setTimeout(r, 200));
  stop = true;
  await Promise.all(clients);
  assert.equal(failures, 0);
  assert.equal(versionsSeen[0], 1);
  assert.equal(versionsSeen.at(-1), 2);
  const firstTwo = versionsSeen.indexOf(2);
  assert.ok(
    versionsSeen.slice(firstTwo).every((v) => v === 2),
    'once switched, every response comes from the new version',
  );
  const status = await server.request<{ version: number; pid: number }>('GET', '/api/v1/models/demo-embed-small/status');
  assert.equal(status.body.version, 2);
  assert.notEqual(status.body.pid, loaded.body.pid);
  const history = await server.request<{ events: Array<{ action: string; from_version: number; to_version: number }> }>(
    'GET',
    '/api/v1/models/demo-embed-small/deployment-history?limit=1',
  );
  assert.deepEqual(history.body.events[0], { ...history.body.events[0], action: 'swap', from_version: 1, to_version: 2 });
});

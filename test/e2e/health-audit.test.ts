// Health degrades (with reasons) when the database fails; the audit log pages through every event once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';

test('a failing database turns /health degraded with the reason and /health/ready 503', async (t) => {
  const server = await startTestServer(t);
  assert.equal((await server.request<{ status: string }>('GET', '/health')).body.status, 'healthy');
  await server.ctx.database.db.destroy();
  const health = await server.request<{ status: string; reasons: string[]; database: { ok: boolean }; models_managed?: number }>(
    'GET',
    '/health',
  );
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'degraded');
  assert.equal(health.body.database.ok, false);
  assert.equal(health.body.models_managed, undefined);
  assert.match(health.body.reasons.join(' '), /^database \(sqlite\): /);
  const ready = await server.request<{ status: string; reasons: string[] }>('GET', '/health/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.status, 'unavailable');
  assert.equal((await server.request('GET', '/health/live')).status, 200);
});

test('audit listing pages newest first through every event exactly once, with filters', async (t) => {
  const server = await startTestServer(t);
  const fixtures = await makeFixtures(await tempDir(t));
  for (let i = 0; i < 5; i++) {
    const response = await server.request(
      'POST',
      '/api/v1/models/import',
      { name: `m${i}`, path: fixtures.ggufQ8 },
      { 'x-request-id': `import-${i}` },
    );
    assert.equal(response.status, 201);
  }
  await server.request('DELETE', '/api/v1/models/m0');
  const seen: string[] = [];
  let token: string | null = null;
  do {
    const page: { status: number; body: { events: Array<{ id: string; at: string }>; next_page_token: string | null } } =
      await server.request('GET', `/api/v1/audit?limit=2${token ? `&page_token=${token}` : ''}`);
    assert.equal(page.status, 200);
    seen.push(...page.body.events.map((e) => e.id));
    token = page.body.next_page_token;
  } while (token);
  assert.equal(seen.length, 6);
  assert.equal(new Set(seen).size, 6);
  const imports = await server.request<{ events: Array<{ target: string; request_id: string }> }>(
    'GET',
    '/api/v1/audit?action=model.import&target=m3:1',
  );
  assert.deepEqual(
    imports.body.events.map((e) => e.request_id),
    ['import-3'],
  );
  const latest = await server.request<{ events: Array<{ action: string }> }>('GET', '/api/v1/audit?limit=1');
  assert.equal(latest.body.events[0].action, 'model.delete');
  const future = await server.request<{ events: unknown[] }>(
    'GET',
    `/api/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
  );
  assert.equal(future.body.events.length, 0);
  const bad = await server.request<{ error: { code: string } }>('GET', '/api/v1/audit?since=yesterday');
  assert.equal(bad.status, 400);
  assert.equal(
    (await server.request<{ error: { code: string } }>('GET', '/api/v1/audit?page_token=xyz')).body.error.code,
    'invalid_page_token',
  );
});

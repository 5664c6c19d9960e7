// Rate limiting: API_RATE_LIMIT per key per minute, 429 with Retry-After and RateLimit-* headers, live limit changes, separate inference budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';

const ADMIN = 'rate-admin-secret';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

test('the 101st request in a minute gets 429; raising the limit through PATCH /config takes effect on the next request', async (t) => {
  const server = await startTestServer(t, { defaultRateLimit: true, env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const created = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: 'busy-viewer', role: 'viewer' }, auth(ADMIN));
  const viewer = created.body.key;
  for (let i = 1; i <= 100; i++) {
    const ok = await server.request('GET', '/api/v1/models', undefined, auth(viewer));
    assert.equal(ok.status, 200, `request ${i}`);
    if (i === 1) {
      assert.equal(ok.headers.get('ratelimit-limit'), '100');
      assert.equal(ok.headers.get('ratelimit-remaining'), '99');
    }
  }
  const limited = await server.request<{ error: { code: string; message: string } }>('GET', '/api/v1/models', undefined, auth(viewer));
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal(limited.headers.get('ratelimit-remaining'), '0');
  // Another key has its own budget, and health probes are never limited.
  assert.equal((await server.request('GET', '/health/live', undefined, auth(viewer))).status, 200);
  const patched = await server.request('PATCH', '/config', { api_rate_limit: 150 }, auth(ADMIN));
  assert.equal(patched.status, 200, patched.text);
  assert.equal((await server.request('GET', '/api/v1/models', undefined, auth(viewer))).status, 200);
});

test('inference routes can have their own budget', async (t) => {
  const server = await startTestServer(t, { defaultRateLimit: true, env: { HANGAR_RATE_LIMIT_INFERENCE_PER_MINUTE: '3' } });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await server.request('POST', '/api/v1/embeddings', { model: 'missing', input: 'x' })).status);
  assert.deepEqual(statuses, [404, 404, 404, 429]);
  assert.equal((await server.request('GET', '/api/v1/models')).status, 200, 'the management budget is separate');
});

// Events end-to-end: registry and runtime changes reach the SSE stream and a signed webhook over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startTestServer } from '../helpers/server.ts';
import { readSse, type SseEvent } from '../helpers/sse.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';

test('version created, promotion, alias move and model load arrive on /api/v1/events and at a webhook with a valid signature', async (t) => {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent' } });
  const hook = await server.request<{ id: string; secret: string }>('POST', '/api/v1/webhooks', {
    url: hookUrl,
    events: ['version.*', 'model.promoted'],
  });
  assert.equal(hook.status, 201, hook.text);

  const abort = new AbortController();
  const stream = await fetch(`${server.url}/api/v1/events`, { signal: abort.signal });
  const events: SseEvent[] = [];
  const reading = readSse(stream, (e) => events.push(e)).catch(() => undefined);

  const fixtures = await makeFixtures(await tempDir(t));
  await server.request('POST', '/api/v1/models/import', { name: 'evented', path: fixtures.ggufQ8 });
  await server.request('POST', '/api/v1/models/evented/promote/1', { reason: 'ship it' });
  await server.request('PUT', '/api/v1/models/evented/aliases/staging', { version: 1 });
  await server.request('POST', '/api/v1/models/demo-embed-small/load');
  const wanted = ['version.created', 'model.promoted', 'alias.moved', 'model.loaded'];
  const seen = () => events.map((e) => e.event).filter((type) => wanted.includes(type));
  // Other events (model.loading) come too: wait for the four named ones, not for any four.
  const deadline = Date.now() + 10_000;
  while ((seen().length < wanted.length || received.length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  await reading;

  assert.deepEqual(seen(), wanted);
  const promoted = events.find((e) => e.event === 'model.promoted');
  assert.equal(promoted?.data.model, 'evented');
  assert.equal((promoted?.data.data as { reason: string } | undefined)?.reason, 'ship it');

  assert.deepEqual(
    received.map((r) => r.headers['x-hangar-event']),
    ['version.created', 'model.promoted'],
  );
  for (const delivery of received) {
    const expected = `sha256=${createHmac('sha256', hook.body.secret).update(delivery.body).digest('hex')}`;
    assert.equal(delivery.headers['x-hangar-signature'], expected);
  }
  const listed = await server.request<Array<{ id: string; recent_deliveries?: Array<{ status: string }> }> | { webhooks: unknown[] }>(
    'GET',
    '/api/v1/webhooks',
  );
  assert.equal(listed.status, 200);
  assert.ok(!listed.text.includes(hook.body.secret), 'the secret is not shown again');
});

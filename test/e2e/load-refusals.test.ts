// A load refused for bad input changes nothing: the model keeps its state and nothing is started or evicted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';

interface StatusBody {
  status: string;
}

test('a load with a bad keep_alive is 400 invalid_keep_alive and leaves the model not_loaded', async (t) => {
  const server = await startTestServer(t, { demoModels: true });
  const refused = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/demo-embed-small/load', {
    keep_alive: 'soon',
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'invalid_keep_alive');
  const status = await server.request<StatusBody>('GET', '/api/v1/models/demo-embed-small/status');
  assert.equal(status.body.status, 'not_loaded');
  // The same model loads normally afterwards.
  const loaded = await server.request<StatusBody>('POST', '/api/v1/models/demo-embed-small/load', { keep_alive: '1m' });
  assert.equal(loaded.status, 200, JSON.stringify(loaded.body));
  assert.equal(loaded.body.status, 'loaded');
});

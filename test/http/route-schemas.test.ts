// Route schemas are compiled on first use: every route's validators and serializers still compile, and a bad one is still found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { startTestServer } from '../helpers/server.ts';
import { lazySchemas } from '../../src/http/validation.ts';

test("every route's request validators and response serializers compile (start-up no longer compiles them)", async (t) => {
  const server = await startTestServer(t);
  const count = server.app.compileRouteSchemas();
  // Each of the ~100 routes has at least a response schema; most have request schemas too.
  assert.ok(count > 100, `only ${count} schemas`);
  // Compiled ahead of use, they answer as they do when built by a first request.
  const bad = await server.request<{ error: { code: string; message: string } }>('GET', '/api/v1/models?limit=abc');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.message, 'querystring.limit must be integer');
});

test('a schema Ajv rejects no longer stops start-up: compileAll throws, and its route answers 500 until fixed', async (t) => {
  const schemas = lazySchemas();
  const app = Fastify({ schemaController: schemas.schemaController });
  t.after(() => app.close());
  app.post('/bad', { schema: { body: { type: 'not-a-type' } } }, async () => ({ ok: true }));
  app.get('/good', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({
    ok: true,
    extra: 'dropped by the serializer',
  }));
  await app.ready();
  assert.throws(() => schemas.compileAll(), /type/);
  const bad = await app.inject({ method: 'POST', url: '/bad', payload: { a: 1 } });
  assert.equal(bad.statusCode, 500);
  const good = await app.inject({ method: 'GET', url: '/good' });
  assert.equal(good.statusCode, 200);
  assert.equal(good.body, '{"ok":true}');
});

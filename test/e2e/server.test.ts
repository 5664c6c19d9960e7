// End-to-end: the real server on an ephemeral port with a temp HANGAR_HOME, over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';

interface ModelListBody {
  models: Array<{
    name: string;
    format: string;
    size_bytes: number;
    version_count: number;
    demo: boolean;
    quantization: string;
    architecture: string;
  }>;
  total: number;
  next_page_token: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

test('first start imports the four demo models; health has the seed 000 shape', async (t) => {
  const server = await startTestServer(t, { demoModels: true });
  const health = await server.request<Record<string, unknown>>('GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'healthy');
  assert.equal(health.body.management_api_version, '1.0.0');
  assert.match(String(health.body.uptime), /^\d+(s|m \d+s|h \d+m|d \d+h \d+m)$/);
  assert.equal(typeof health.body.uptime_seconds, 'number');
  assert.equal(health.body.models_managed, 4);
  assert.deepEqual((await server.request('GET', '/health/live')).body, { status: 'ok' });
  assert.deepEqual((await server.request('GET', '/health/ready')).body, { status: 'ok' });

  const list = await server.request<ModelListBody>('GET', '/api/v1/models');
  const byName = Object.fromEntries(list.body.models.map((m) => [m.name, m]));
  assert.deepEqual(Object.keys(byName).sort(), ['demo-embed-base', 'demo-embed-small', 'demo-llama', 'demo-llama-q8']);
  assert.equal(byName['demo-embed-small'].format, 'onnx');
  assert.equal(byName['demo-embed-base'].format, 'onnx');
  assert.ok(byName['demo-embed-base'].size_bytes > byName['demo-embed-small'].size_bytes);
  assert.equal(byName['demo-llama'].format, 'gguf');
  assert.equal(byName['demo-llama-q8'].quantization, 'Q8_0');
  assert.ok(byName['demo-llama-q8'].size_bytes < byName['demo-llama'].size_bytes);
  assert.ok(list.body.models.every((m) => m.demo && m.size_bytes > 0 && m.version_count === 1));

  // Deleted demos do not come back at the next start of the same store.
  await server.request('DELETE', '/api/v1/models/demo-llama');
  const audit = await server.request<{ events: Array<{ action: string; actor: string }> }>('GET', '/api/v1/audit?action=model.import');
  assert.equal(audit.body.events.length, 4);
  assert.ok(audit.body.events.every((e) => e.actor === 'system'));
});

test('import each fixture kind, get, list, and delete over HTTP; names with / work unencoded and as %2F', async (t) => {
  const server = await startTestServer(t);
  const fixtures = await makeFixtures(await tempDir(t));
  const onnx = await server.request<Record<string, unknown>>('POST', '/api/v1/models/import', {
    name: 'sentence-transformers/all-MiniLM-L6-v2',
    path: fixtures.onnxFolder,
  });
  assert.equal(onnx.status, 201, onnx.text);
  assert.equal(onnx.body.format, 'onnx');
  assert.equal(onnx.body.version, 1);
  const f16 = await server.request<Record<string, unknown>>('POST', '/api/v1/models/import', {
    name: 'tinyllama:latest',
    path: fixtures.ggufF16,
    description: 'f16',
    tags: ['llm'],
  });
  assert.equal(f16.status, 201, f16.text);
  const q8 = await server.request<Record<string, unknown>>('POST', '/api/v1/models/import', {
    name: 'tinyllama:q8',
    path: fixtures.ggufQ8,
  });
  assert.equal(q8.body.version, 2);
  assert.equal(q8.body.quantization, 'Q8_0');

  for (const url of ['/api/v1/models/sentence-transformers/all-MiniLM-L6-v2', '/api/v1/models/sentence-transformers%2Fall-MiniLM-L6-v2']) {
    const got = await server.request<Record<string, unknown>>('GET', url);
    assert.equal(got.status, 200, `${url}: ${got.text}`);
    assert.equal(got.body.name, 'sentence-transformers/all-MiniLM-L6-v2');
    assert.equal(got.body.architecture, 'bert');
  }
  const tagged = await server.request<{ resolved_version: number; aliases: Record<string, number>; versions: unknown[] }>(
    'GET',
    '/api/v1/models/tinyllama:latest',
  );
  assert.equal(tagged.body.resolved_version, 1);
  assert.deepEqual(tagged.body.aliases, { latest: 1, q8: 2 });
  assert.equal(tagged.body.versions.length, 2);

  const list = await server.request<ModelListBody>('GET', '/api/v1/models?format=gguf');
  assert.deepEqual(
    list.body.models.map((m) => m.name),
    ['tinyllama'],
  );
  const paged = await server.request<ModelListBody>('GET', '/api/v1/models?limit=1');
  assert.equal(paged.body.models.length, 1);
  assert.ok(paged.body.next_page_token);
  const next = await server.request<ModelListBody>('GET', `/api/v1/models?limit=1&page_token=${paged.body.next_page_token}`);
  assert.notEqual(next.body.models[0].name, paged.body.models[0].name);

  const removed = await server.request<Record<string, number>>('DELETE', '/api/v1/models/sentence-transformers/all-MiniLM-L6-v2');
  assert.equal(removed.status, 200, removed.text);
  assert.equal(removed.body.versions_removed, 1);
  assert.ok(removed.body.blobs_removed >= 4);
  assert.equal((await server.request('GET', '/api/v1/models/sentence-transformers/all-MiniLM-L6-v2')).status, 404);
  const again = await server.request<ErrorBody>('DELETE', '/api/v1/models/sentence-transformers/all-MiniLM-L6-v2');
  assert.equal(again.status, 404);
  assert.equal(again.body.error.code, 'model_not_found');

  const audit = await server.request<{ events: Array<{ action: string; outcome: string; target: string; request_id: string }> }>(
    'GET',
    '/api/v1/audit',
  );
  assert.deepEqual(audit.body.events.map((e) => `${e.action}:${e.outcome}`).reverse(), [
    'model.import:success',
    'model.import:success',
    'model.import:success',
    'model.delete:success',
    'model.delete:failure',
  ]);
  assert.ok(audit.body.events.every((e) => e.request_id));
  const failures = await server.request<{ events: unknown[] }>('GET', '/api/v1/audit?outcome=failure');
  assert.equal(failures.body.events.length, 1);
});

test('bad names and bad bodies get 400 JSON naming the problem, and nothing is written', async (t) => {
  const server = await startTestServer(t);
  const fixtures = await makeFixtures(await tempDir(t));
  const cases: Array<[unknown, string, RegExp]> = [
    [{ name: '../etc', path: fixtures.ggufQ8 }, 'invalid_model_name', /\.\./],
    [{ name: 'has space', path: fixtures.ggufQ8 }, 'invalid_model_name', /segment/],
    [{ name: 'a//b', path: fixtures.ggufQ8 }, 'invalid_model_name', /empty path segment/],
    [{ name: 'x'.repeat(129), path: fixtures.ggufQ8 }, 'validation_error', /body\.name/],
    [{ name: 'ok' }, 'validation_error', /body\.path/],
    [{ name: 42, path: fixtures.ggufQ8 }, 'validation_error', /body\.name/],
    [{ name: 'ok', path: fixtures.ggufQ8, surprise: true }, 'validation_error', /body\.surprise/],
    [{ name: 'ok', path: '/definitely/not/here' }, 'invalid_path', /does not exist/],
    [{ name: 'ok', path: `${fixtures.onnxFolder}/onnx` }, 'unsupported_format', /Cannot import/],
    ['{"name": "ok", ', 'invalid_json', /JSON/i],
  ];
  for (const [body, code, message] of cases) {
    const response = await server.request<ErrorBody>('POST', '/api/v1/models/import', body);
    assert.equal(response.status, 400, `${JSON.stringify(body)} -> ${response.text}`);
    assert.equal(response.body.error.code, code, response.text);
    assert.match(response.body.error.message, message);
    assert.ok(!response.text.includes('    at '), 'no stack trace');
  }
  const badGet = await server.request<ErrorBody>('GET', '/api/v1/models/bad%20name');
  assert.equal(badGet.status, 400);
  assert.equal(badGet.body.error.code, 'invalid_model_name');
  const badLimit = await server.request<ErrorBody>('GET', '/api/v1/models?limit=0');
  assert.equal(badLimit.status, 400);
  assert.equal(badLimit.body.error.details?.field, 'querystring.limit');

  assert.equal((await server.request<ModelListBody>('GET', '/api/v1/models')).body.total, 0);
  assert.deepEqual(fs.readdirSync(path.join(server.home, 'store', 'blobs', 'sha256')), []);
  const audit = await server.request<{ events: Array<{ outcome: string; details: { code: string } }> }>('GET', '/api/v1/audit');
  assert.ok(
    audit.body.events.every((e) => e.outcome === 'failure'),
    'only refused attempts are recorded',
  );
  assert.ok(!audit.body.events.some((e) => e.details.code === 'validation_error'));
});

test('unknown routes, oversized bodies and wrong media types answer JSON errors; request ids round-trip', async (t) => {
  const server = await startTestServer(t, { env: { HANGAR_HTTP_BODY_LIMIT_BYTES: '2048' } });
  const missing = await server.request<ErrorBody>('GET', '/no/such/route');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'route_not_found');
  const big = await server.request<ErrorBody>('POST', '/api/v1/models/import', { name: 'x', path: 'y'.repeat(4096) });
  assert.equal(big.status, 413);
  assert.equal(big.body.error.code, 'payload_too_large');
  const text = await server.request<ErrorBody>('POST', '/api/v1/models/import', 'name=x', { 'content-type': 'text/plain' });
  assert.equal(text.status, 415);
  assert.equal(text.body.error.code, 'unsupported_media_type');
  const withId = await server.request('GET', '/health/live', undefined, { 'x-request-id': 'trace-abc-123' });
  assert.equal(withId.headers.get('x-request-id'), 'trace-abc-123');
  const generated = await server.request('GET', '/health/live');
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('/openapi.json documents every registered route with a description and responses; /docs serves HTML', async (t) => {
  const server = await startTestServer(t);
  const registered: Array<{ method: string; url: string }> = [];
  const spec = await server.request<{
    openapi: string;
    paths: Record<string, Record<string, { description?: string; responses?: Record<string, unknown> }>>;
  }>('GET', '/openapi.json');
  assert.equal(spec.status, 200);
  assert.match(spec.body.openapi, /^3\./);
  const expected = [
    ['get', '/health'],
    ['get', '/health/live'],
    ['get', '/health/ready'],
    ['get', '/api/v1/models'],
    ['post', '/api/v1/models/import'],
    ['get', '/api/v1/models/{name}'],
    ['delete', '/api/v1/models/{name}'],
    ['get', '/api/v1/audit'],
  ];
  for (const [method, url] of expected) registered.push({ method, url });
  for (const { method, url } of registered) {
    const operation = spec.body.paths[url]?.[method];
    assert.ok(operation, `${method.toUpperCase()} ${url} is documented`);
    assert.ok(operation.description && operation.description.length > 10, `${method} ${url} has a description`);
    assert.ok(
      operation.responses && Object.keys(operation.responses).some((s) => s.startsWith('2')),
      `${method} ${url} has a success response schema`,
    );
  }
  // Every route Fastify knows (bar the docs' own) appears in the document.
  const documented = new Set(Object.entries(spec.body.paths).flatMap(([url, ops]) => Object.keys(ops).map((m) => `${m} ${url}`)));
  for (const route of server.app.registeredRoutes) {
    if (route.url.startsWith('/docs') || route.url === '/openapi.json' || route.method === 'HEAD' || route.method === 'OPTIONS') continue;
    // @fastify/websocket hides WebSocket routes from OpenAPI (which cannot describe them); the README documents /api/v1/ws.
    if (route.url === '/api/v1/ws') continue;
    // The dashboard's pages and files are HTML and assets for browsers, not API operations.
    if (route.url === '/ui' || route.url.startsWith('/ui/')) continue;
    assert.ok(
      documented.has(`${route.method.toLowerCase()} ${route.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`),
      `${route.method} ${route.url} is in /openapi.json`,
    );
  }
  const docs = await fetch(`${server.url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await docs.text(), /swagger/i);
});

test('MANAGEMENT_API_ENABLED=false keeps health and docs up and answers 503 elsewhere', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_API_ENABLED: 'false' } });
  assert.equal((await server.request('GET', '/health')).status, 200);
  assert.equal((await server.request('GET', '/openapi.json')).status, 200);
  const blocked = await server.request<ErrorBody>('GET', '/api/v1/models');
  assert.equal(blocked.status, 503);
  assert.equal(blocked.body.error.code, 'management_api_disabled');
  const inference = await server.request<ErrorBody>('POST', '/api/v1/embeddings', { model: 'missing', input: 'x' });
  assert.equal(inference.status, 404, 'inference stays on: the request reaches the runtime');
});

// HANGAR_OLLAMA_PORT: a second listener serving only the Ollama-compatible API, sharing the server's models and state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startTestServer } from '../helpers/server.ts';
import { freePort } from '../helpers/free-port.ts';
import { tempDir } from '../helpers/temp.ts';
import { makeFixtures } from '../helpers/fixtures.ts';

test('the Ollama port serves the Ollama API alone, over the same catalog', async (t) => {
  const ollamaPort = await freePort();
  const server = await startTestServer(t, { env: { HANGAR_OLLAMA_PORT: String(ollamaPort) } });
  assert.equal(server.ollamaUrl, `http://127.0.0.1:${ollamaPort}`);
  const fixtures = await makeFixtures(await tempDir(t, 'ollama-port-'));
  const imported = await server.request('POST', '/api/v1/models/import', { name: 'tiny-chat', path: fixtures.ggufQ8 });
  assert.equal(imported.status, 201, imported.text);

  const root = await fetch(`${server.ollamaUrl}/`);
  assert.equal(root.status, 200);
  assert.equal(await root.text(), 'Ollama is running');

  const client = new Ollama({ host: server.ollamaUrl ?? '' });
  const listed = await client.list();
  assert.deepEqual(
    listed.models.map((m) => m.name),
    ['tiny-chat:latest'],
  );

  // Hangar's own API, its documentation and the OpenAI surface are not served there.
  for (const path of ['/api/v1/models', '/docs', '/v1/models', '/openapi.json']) {
    const response = await fetch(`${server.ollamaUrl}${path}`);
    assert.equal(response.status, 404, path);
  }
  // An unknown Ollama path is worded as Ollama words errors.
  const unknown = await fetch(`${server.ollamaUrl}/api/nothing-here`);
  assert.equal(unknown.status, 404);
  assert.equal(typeof ((await unknown.json()) as { error: unknown }).error, 'string');
  // The main port keeps every surface.
  assert.equal((await server.request('GET', '/api/tags')).status, 200);
  assert.equal((await server.request('GET', '/v1/models')).status, 200);
});

test('the Ollama port is off by default', async (t) => {
  const server = await startTestServer(t);
  assert.equal(server.ollamaUrl, null);
});

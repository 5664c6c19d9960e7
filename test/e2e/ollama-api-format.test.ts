// Structured output on the Ollama surface: `format` as a JSON schema constrains generation (node-llama-cpp grammar), so the answer parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startTestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };

const SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 12 }, sunny: { type: 'boolean' } },
  required: ['city', 'sunny'],
  additionalProperties: false,
};

test('format: a JSON schema gives output that parses and matches it (chat and generate); "json" gives JSON', async (t) => {
  const server = await startTestServer(t, { env: NO_GPU });
  const fixtures = await makeFixtures(await tempDir(t));
  const imported = await server.request('POST', '/api/v1/models/import', { name: 'tiny', path: fixtures.ggufQ8 });
  assert.equal(imported.status, 201, imported.text);
  const ollama = new Ollama({ host: server.url });
  // A random-weights model writes anything it likes unless a grammar holds it to the schema.
  const options = { temperature: 0.8, seed: 7, num_predict: 200 };

  const chat = await ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'Weather in Paris?' }], format: SCHEMA, options });
  const answer = JSON.parse(chat.message.content) as { city: unknown; sunny: unknown };
  assert.equal(typeof answer.city, 'string');
  assert.equal(typeof answer.sunny, 'boolean');
  assert.deepEqual(Object.keys(answer).sort(), ['city', 'sunny']);

  const generated = await ollama.generate({ model: 'tiny', prompt: 'Weather?', raw: true, format: SCHEMA, options });
  const parsed = JSON.parse(generated.response ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), ['city', 'sunny']);

  // "json" lets the model write any JSON, which a random model may never close: this seed closes it at once.
  const anyJson = await ollama.generate({ model: 'tiny', prompt: 'Anything', raw: true, format: 'json', options: { ...options, seed: 3 } });
  assert.equal(anyJson.done_reason, 'stop', anyJson.response);
  assert.doesNotThrow(() => JSON.parse(anyJson.response ?? ''), anyJson.response);
});

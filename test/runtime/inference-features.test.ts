// The inference use case over the real runtime (demo models, real runners): load and queue timings, context size, dimensions, tools, settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HangarError } from '../../src/errors.ts';
import { startTestServer } from '../helpers/server.ts';

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };

async function refusal(work: Promise<unknown>): Promise<HangarError> {
  const error = await work.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HangarError, String(error));
  return error;
}

test('inference use case: timings, context size on load, dimensions, truncate, tools and settings', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const { inference } = server.ctx.app;
  const loaded = (name: string) => server.ctx.runtime.snapshot(name)?.state === 'loaded';

  // Bad settings are refused before anything loads.
  const badTopP = await refusal(inference.generate({ model: 'demo-llama-q8', prompt: 'x', topP: 3 }));
  assert.equal(badTopP.code, 'invalid_input');
  assert.equal(loaded('demo-llama-q8'), false);

  // The request that loads the model waits for the load, and loads it with its context size; the next one does not.
  const first = await inference.generate({ model: 'demo-llama-q8', prompt: 'hello', maxTokens: 4, temperature: 0, contextSize: 256 });
  assert.ok(first.loadMs > 0, `loadMs ${first.loadMs}`);
  assert.ok(first.queueMs >= 0);
  const status = await server.ctx.runtime.status('demo-llama-q8');
  assert.equal(status.context_size, 256);
  const second = await inference.generate({ model: 'demo-llama-q8', prompt: 'hello', maxTokens: 4, temperature: 0, contextSize: 512 });
  assert.equal(second.loadMs, 0);
  assert.equal((await server.ctx.runtime.status('demo-llama-q8')).context_size, 256, 'a loaded model keeps its context');

  // Structured output through the use case, streamed.
  const chunks: string[] = [];
  const structured = await inference.chat(
    {
      model: 'demo-llama-q8',
      messages: [{ role: 'user', content: 'answer' }],
      maxTokens: 64,
      temperature: 0,
      responseFormat: { type: 'json_schema', schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
    },
    { onToken: (text) => chunks.push(text) },
  );
  assert.equal(chunks.join(''), structured.text);
  assert.equal(typeof (JSON.parse(structured.text) as { ok: unknown }).ok, 'boolean');
  assert.deepEqual(structured.toolCalls, []);

  // Hangar's own API takes the same fields in snake_case.
  const viaApi = await server.request<{ text: string; finish_reason: string }>('POST', '/api/v1/generate', {
    model: 'demo-llama-q8',
    prompt: 'answer',
    max_tokens: 64,
    top_k: 1,
    top_p: 0.5,
    repeat_penalty: 1.1,
    frequency_penalty: 0.5,
    presence_penalty: 0.5,
    response_format: { type: 'json_schema', schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
  });
  assert.equal(viaApi.status, 200, viaApi.text);
  assert.equal(typeof (JSON.parse(viaApi.body.text) as { ok: unknown }).ok, 'boolean');
  const badFormat = await server.request('POST', '/api/v1/generate', {
    model: 'demo-llama-q8',
    prompt: 'x',
    response_format: { type: 'xml' },
  });
  assert.equal(badFormat.status, 400);

  // The demo model's GGUF has no chat template: tools are refused with Ollama's wording.
  const tools = await refusal(
    inference.chat({ model: 'demo-llama-q8', messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'get_weather' }] }),
  );
  assert.equal(tools.code, 'unsupported_operation');
  assert.equal(tools.message, '"demo-llama-q8" does not support tools');

  // Embeddings: timings, Matryoshka-style dimensions, truncate false.
  const full = await inference.embed({ model: 'demo-embed-small', inputs: ['hello world'] });
  assert.ok(full.loadMs > 0 && full.embedMs > 0, `loadMs ${full.loadMs}, embedMs ${full.embedMs}`);
  const short = await inference.embed({ model: 'demo-embed-small', inputs: ['hello world'], dimensions: 8 });
  assert.equal(short.loadMs, 0);
  assert.equal(short.embeddings[0].length, 8);
  const prefix = full.embeddings[0].slice(0, 8);
  const norm = Math.hypot(...prefix);
  for (const [i, value] of short.embeddings[0].entries()) assert.ok(Math.abs(value - prefix[i] / norm) < 1e-6);
  assert.ok(Math.abs(Math.hypot(...short.embeddings[0]) - 1) < 1e-6);
  for (const dimensions of [0, 1.5, full.embeddings[0].length + 1]) {
    assert.equal((await refusal(inference.embed({ model: 'demo-embed-small', inputs: ['x'], dimensions }))).code, 'invalid_input');
  }
  const overflow = await refusal(inference.embed({ model: 'demo-embed-small', inputs: ['a', 'hello '.repeat(1000)], truncate: false }));
  assert.equal(overflow.code, 'context_overflow');
  assert.match(overflow.message, /input 1 has \d+ tokens/);
});

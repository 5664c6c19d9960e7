// OpenAI's stream framing over a real socket, read by the official client: data-only frames, an error frame it raises, [DONE].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import OpenAI, { APIError } from 'openai';
import { HangarError } from '../../src/errors.ts';
import { openAiStream } from '../../src/http/openai/openai-stream.ts';
import { TenantScope } from '../../src/tenants/tenant-scope.ts';

const chunk = (content: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
});

test('a failure after the first frame is an error frame the official client raises; before it, the error is thrown', async (t) => {
  const app = Fastify();
  // Streams name models as the caller's scope shows them; the auth plugin sets it in the real app.
  app.decorateRequest('scope', { getter: () => TenantScope.system() });
  let thrownBeforeOpening: unknown = null;
  app.post('/v1/chat/completions', async (request, reply) => {
    const stream = openAiStream(request, reply);
    const early = openAiStream(request, reply);
    try {
      early.fail(new HangarError('model_not_found', 'nope'));
    } catch (error) {
      thrownBeforeOpening = error;
    }
    stream.chunk(chunk('Hel'));
    stream.chunk(chunk('lo'));
    stream.fail(new HangarError('runner_crashed', 'The runner stopped'));
    stream.finish();
    return reply;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  const baseURL = `http://127.0.0.1:${address.port}/v1`;

  const raw = await (await fetch(`${baseURL}/chat/completions`, { method: 'POST' })).text();
  const lines = raw.split('\n').filter(Boolean);
  assert.ok(
    lines.every((line) => line.startsWith('data: ')),
    raw,
  );
  assert.deepEqual(JSON.parse(lines[2].slice(6)), {
    error: { message: 'The runner stopped', type: 'server_error', param: null, code: 'runner_crashed' },
  });
  assert.equal(lines.at(-1), 'data: [DONE]');
  assert.ok(thrownBeforeOpening instanceof HangarError);

  const client = new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
  const received: string[] = [];
  const failure = await (async () => {
    for await (const c of await client.chat.completions.create({ model: 'm', messages: [], stream: true }))
      received.push(c.choices[0].delta.content ?? '');
  })().catch((e: unknown) => e);
  assert.deepEqual(received, ['Hel', 'lo']);
  assert.ok(failure instanceof APIError, String(failure));
  assert.match(failure.message, /The runner stopped/);
});

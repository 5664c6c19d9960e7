// The OpenAI-compatible surface (/v1) driven by the official `openai` npm client, unchanged, against a real server and real runners.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ajv } from 'ajv';
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };
const LLM = 'tiny-llama';
/** A name with `/`, which /v1/models/{model} must take both as is and as %2F. */
const EMBEDDER = 'fixtures/tiny-embed';

const clientFor = (server: TestServer, apiKey = 'x') => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });

async function serverWithModels(t: TestContext): Promise<TestServer> {
  const server = await startTestServer(t, { env: NO_GPU });
  const fixtures = await makeFixtures(await tempDir(t));
  // `name:tag` imports also point alias `tag` at the new version, so the listing has `tiny-llama:staging` too.
  for (const [name, path] of [
    [`${LLM}:staging`, fixtures.ggufQ8],
    [EMBEDDER, fixtures.onnxFolder],
  ]) {
    const imported = await server.request('POST', '/api/v1/models/import', { name, path });
    assert.equal(imported.status, 201, imported.text);
  }
  return server;
}

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
}

/** The `data:` payloads of a raw SSE body, and whether any other kind of line was sent. */
function dataFrames(body: string): { frames: string[]; otherLines: string[] } {
  const lines = body.split('\n').filter((line) => line !== '');
  return {
    frames: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)),
    otherLines: lines.filter((l) => !l.startsWith('data: ')),
  };
}

test('models, chat and completions, streamed and not, through the official openai client', async (t) => {
  const server = await serverWithModels(t);
  const client = clientFor(server);

  const listed = await client.models.list();
  const ids = listed.data.map((m) => m.id).sort();
  assert.deepEqual(ids, [`${EMBEDDER}:latest`, `${LLM}:latest`, `${LLM}:staging`]);
  for (const model of listed.data) {
    assert.equal(model.object, 'model');
    assert.equal(model.owned_by, 'hangar');
    assert.ok(Number.isInteger(model.created) && Math.abs(model.created - Date.now() / 1000) < 600, `created ${model.created}`);
  }
  const ollamaTags = await server.request<{ models?: Array<{ name: string }> }>('GET', '/api/tags');
  if (ollamaTags.status === 200) assert.deepEqual(ollamaTags.body.models?.map((m) => m.name).sort(), ids);
  // The client sends `/` as %2F; a plain HTTP client may send it as is.
  const retrieved = await client.models.retrieve(`${EMBEDDER}:latest`);
  assert.equal(retrieved.id, `${EMBEDDER}:latest`);
  const plain = await server.request<{ id: string }>('GET', `/v1/models/${EMBEDDER}:latest`);
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.body.id, `${EMBEDDER}:latest`);
  await assert.rejects(client.models.retrieve('no-such-model:latest'), NotFoundError);

  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: [{ type: 'text' as const, text: 'Say hello' }] },
  ];
  const settings = { model: `${LLM}:latest`, max_tokens: 8, temperature: 0, seed: 1 };
  const whole = await client.chat.completions.create({ ...settings, messages });
  assert.match(whole.id, /^chatcmpl-/);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.model, `${LLM}:latest`);
  assert.equal(whole.choices.length, 1);
  const [choice] = whole.choices;
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);
  assert.ok(whole.usage && whole.usage.prompt_tokens > 0 && whole.usage.completion_tokens > 0);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

  const stream = await client.chat.completions.create({ ...settings, messages, stream: true, stream_options: { include_usage: true } });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id && c.model === `${LLM}:latest`));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the first chunk names the role');
  const finishing = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finishing.length, 1);
  assert.equal(finishing[0].choices[0].finish_reason, choice.finish_reason);
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, [], 'include_usage adds a last chunk without choices');
  assert.deepEqual(last?.usage, whole.usage);
  // Greedy sampling: the streamed deltas add up to the same answer.
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), choice.message.content);

  // On the wire: `data:` frames only (no `event:` lines), ending with `data: [DONE]`.
  const raw = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...settings, messages, stream: true }),
  });
  assert.match(raw.headers.get('content-type') ?? '', /^text\/event-stream/);
  const { frames, otherLines } = dataFrames(await raw.text());
  assert.deepEqual(otherLines, []);
  assert.equal(frames.at(-1), '[DONE]');
  assert.ok(
    frames.slice(0, -1).every((frame) => !('usage' in JSON.parse(frame))),
    'no usage without include_usage',
  );

  const completion = await client.completions.create({ ...settings, prompt: 'Once upon a time' });
  assert.match(completion.id, /^cmpl-/);
  assert.equal(completion.object, 'text_completion');
  assert.equal(completion.choices[0].index, 0);
  assert.ok(completion.usage && completion.usage.completion_tokens > 0);
  // Without max_tokens, as OpenAI: until the model stops or the context is full (not Hangar's own default of 128).
  const unlimited = await client.completions.create({ model: LLM, prompt: 'Once upon a time', temperature: 0 });
  assert.ok(unlimited.usage && unlimited.usage.completion_tokens > 128, JSON.stringify(unlimited.usage));
  const echoed = await client.completions.create({ ...settings, prompt: ['Once upon a time', 'Hello'], echo: true });
  assert.deepEqual(
    echoed.choices.map((c) => c.index),
    [0, 1],
  );
  assert.equal(echoed.choices[0].text, `Once upon a time${completion.choices[0].text}`);
  const textStream = await client.completions.create({
    ...settings,
    prompt: 'Once upon a time',
    stream: true,
    stream_options: { include_usage: true },
  });
  const textChunks: OpenAI.Completions.Completion[] = [];
  for await (const chunk of textStream) textChunks.push(chunk);
  assert.equal(textChunks.map((c) => c.choices[0]?.text ?? '').join(''), completion.choices[0].text);
  assert.equal(textChunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
  assert.deepEqual(textChunks.at(-1)?.usage, completion.usage);

  // What cannot be honoured is a 400 the client does not retry; unknown models are 404s.
  const refused = await client.chat.completions.create({ ...settings, messages, n: 2 }).catch((e: unknown) => e);
  assert.ok(refused instanceof BadRequestError, String(refused));
  assert.equal(refused.code, 'unsupported_parameter');
  assert.equal(refused.param, 'n');
  assert.equal(refused.type, 'invalid_request_error');
  const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };
  await assert.rejects(client.chat.completions.create({ ...settings, messages: [{ role: 'user', content: [image] }] }), BadRequestError);
  await assert.rejects(client.chat.completions.create({ ...settings, messages, logprobs: true }), BadRequestError);
  await assert.rejects(
    client.chat.completions.create({ ...settings, model: 'no-such-model', messages, stream: true }),
    (error: unknown) => error instanceof NotFoundError && error.code === 'model_not_found',
  );
  await assert.rejects(client.completions.create({ ...settings, model: `${EMBEDDER}:latest`, prompt: 'x' }), BadRequestError);
  // A conversation with an earlier tool call and its result is read (arguments arrive as a JSON string).
  const history = [
    { role: 'user' as const, content: 'weather in Paris?' },
    {
      role: 'assistant' as const,
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    },
    { role: 'tool' as const, tool_call_id: 'call_1', content: 'sunny' },
  ];
  const answered = await client.chat.completions.create({ ...settings, messages: history });
  assert.equal(answered.choices[0].message.role, 'assistant');
  const badArguments = structuredClone(history);
  badArguments[1].tool_calls = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: 'not json' } }];
  const unreadable = await client.chat.completions.create({ ...settings, messages: badArguments }).catch((e: unknown) => e);
  assert.ok(unreadable instanceof BadRequestError, String(unreadable));
  assert.equal(unreadable.param, 'messages.1.tool_calls.0.function.arguments');
  // Extra fields OpenAI accepts are not refused.
  const extra = await client.chat.completions.create({
    ...settings,
    messages,
    user: 'someone',
    metadata: { purpose: 'test' },
    store: false,
    parallel_tool_calls: false,
    service_tier: 'auto',
    tool_choice: 'none',
    tools: [{ type: 'function', function: { name: 'noop', parameters: { type: 'object', properties: {} } } }],
  });
  assert.equal(extra.choices[0].message.content, choice.message.content);
});

test('embeddings: the client default (base64) and float match /api/v1/embeddings value by value', async (t) => {
  const server = await serverWithModels(t);
  const client = clientFor(server);
  const inputs = ['hello world', 'a second sentence'];
  const own = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', { model: EMBEDDER, input: inputs });
  assert.equal(own.status, 200, own.text);

  const decoded = await client.embeddings.create({ model: `${EMBEDDER}:latest`, input: inputs });
  assert.equal(decoded.object, 'list');
  assert.equal(decoded.model, `${EMBEDDER}:latest`);
  assert.deepEqual(
    decoded.data.map((d) => [d.object, d.index]),
    [
      ['embedding', 0],
      ['embedding', 1],
    ],
  );
  assert.ok(decoded.usage.prompt_tokens > 0 && decoded.usage.total_tokens === decoded.usage.prompt_tokens);
  for (const [i, vector] of own.body.embeddings.entries()) {
    assert.equal(decoded.data[i].embedding.length, vector.length);
    // base64 carries float32: each value is the float32 nearest the server's.
    assert.deepEqual(
      decoded.data[i].embedding,
      vector.map((v) => Math.fround(v)),
    );
  }
  const floats = await client.embeddings.create({ model: EMBEDDER, input: inputs, encoding_format: 'float' });
  assert.deepEqual(
    floats.data.map((d) => d.embedding),
    own.body.embeddings,
  );
  const single = await client.embeddings.create({ model: EMBEDDER, input: 'hello world', encoding_format: 'float' });
  assert.deepEqual(single.data[0].embedding, own.body.embeddings[0]);
  await assert.rejects(client.embeddings.create({ model: EMBEDDER, input: [[1, 2, 3]] }), BadRequestError);
  await assert.rejects(client.embeddings.create({ model: 'fixtures/missing', input: 'x' }), NotFoundError);
});

// Runner features through this surface: dimensions, grammars, tools.
test('embeddings with dimensions are cut to that length and re-normalised', async (t) => {
  const server = await serverWithModels(t);
  const cut = await clientFor(server).embeddings.create({ model: EMBEDDER, input: 'hello world', dimensions: 16 });
  assert.equal(cut.data[0].embedding.length, 16);
  assert.ok(Math.abs(norm(cut.data[0].embedding) - 1) < 1e-4);
});

test('response_format json_schema gives output that parses against its schema', async (t) => {
  const server = await serverWithModels(t);
  const client = clientFor(server);
  const schema = {
    type: 'object',
    properties: { answer: { type: 'string', maxLength: 8 }, sure: { type: 'boolean' }, mood: { enum: ['happy', 'sad'] } },
    required: ['answer', 'sure', 'mood'],
    additionalProperties: false,
  };
  const validate = new Ajv().compile(schema);
  const request = {
    model: LLM,
    messages: [{ role: 'user' as const, content: 'Answer in JSON' }],
    max_tokens: 96,
    temperature: 0,
    response_format: { type: 'json_schema' as const, json_schema: { name: 'reply', schema, strict: true } },
  };
  const structured = await client.chat.completions.create(request);
  const parsed: unknown = JSON.parse(structured.choices[0].message.content ?? '');
  assert.ok(validate(parsed), `${structured.choices[0].message.content}: ${JSON.stringify(validate.errors)}`);
  let streamed = '';
  for await (const chunk of await client.chat.completions.create({ ...request, stream: true }))
    streamed += chunk.choices[0]?.delta.content ?? '';
  assert.ok(validate(JSON.parse(streamed)), streamed);
  const anyJson = await client.chat.completions.create({ ...request, response_format: { type: 'json_object' } });
  assert.doesNotThrow(() => JSON.parse(anyJson.choices[0].message.content ?? ''), anyJson.choices[0].message.content ?? '');
});

test('tools: offered to a model whose chat template cannot call functions, they are refused with a 400', async (t) => {
  const server = await serverWithModels(t);
  const tools = [
    {
      type: 'function' as const,
      function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    },
  ];
  const refused = await clientFor(server)
    .chat.completions.create({ model: LLM, messages: [{ role: 'user', content: 'weather?' }], max_tokens: 8, tools })
    .catch((e: unknown) => e);
  assert.ok(refused instanceof BadRequestError, String(refused));
  assert.equal(refused.code, 'unsupported_operation');
});

/**
 * As in test/runtime/generation-features.test.ts: a chat template whose tool-call syntax starts with the word this
 * seeded random model says first ("one"), so the model really calls a tool (node-llama-cpp's grammar forces the rest).
 */
const FIRST_WORD_CALLS_TEMPLATE = String.raw`{{- bos_token }}
{%- if tools %}{{- 'Functions:\n' }}{%- for tool in tools %}{{- tool | tojson }}{{- '\n' }}{%- endfor %}{%- endif %}
{%- for message in messages %}
{%- if message.role == 'tool' %}{{- 'Result: ' + message.content + '\n' }}
{%- elif message.tool_calls %}{{- 'assistant:' }}{%- for call in message.tool_calls %}{{- 'one' + call.function.name + '(' + (call.function.arguments | tojson) + ')' }}{%- endfor %}{{- '\n' }}
{%- else %}{{- message.role + ':' + message.content + '\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- 'assistant:' }}{%- endif %}`;

test('tool calls: in message.tool_calls and as indexed delta.tool_calls, finish_reason tool_calls; the result goes back as a tool message', async (t) => {
  const server = await startTestServer(t, { env: NO_GPU });
  const file = path.join(await tempDir(t), 'caller.gguf');
  await writeTinyLlamaGguf(file, { type: 'Q8_0', seed: 7, chatTemplate: FIRST_WORD_CALLS_TEMPLATE });
  const imported = await server.request('POST', '/api/v1/models/import', { name: 'caller', path: file });
  assert.equal(imported.status, 201, imported.text);
  const client = clientFor(server);
  const tools = [
    {
      type: 'function' as const,
      function: {
        name: 'get_weather',
        description: 'weather',
        parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Rome'] } } },
      },
    },
  ];
  const question = { role: 'user' as const, content: 'weather in Paris?' };
  const request = { model: 'caller:latest', messages: [question], tools, max_tokens: 40, temperature: 0 };

  const called = await client.chat.completions.create(request);
  const [choice] = called.choices;
  assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(called));
  const [call] = choice.message.tool_calls ?? [];
  assert.ok(call?.type === 'function', JSON.stringify(choice.message));
  assert.match(call.id, /^call_/);
  assert.equal(call.function.name, 'get_weather');
  const args = JSON.parse(call.function.arguments) as { city: string };
  assert.ok(['Paris', 'Rome'].includes(args.city), call.function.arguments);

  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) chunks.push(chunk);
  const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(
    deltas.map((d) => [d.index, d.type, d.function?.name, d.function?.arguments]),
    [[0, 'function', 'get_weather', call.function.arguments]],
  );
  assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');

  // With tool_choice "none" the tools are not offered, so the model answers in text.
  const none = await client.chat.completions.create({ ...request, tool_choice: 'none' });
  assert.equal(none.choices[0].message.tool_calls, undefined);
  await assert.rejects(client.chat.completions.create({ ...request, tool_choice: 'required' }), BadRequestError);

  const answered = await client.chat.completions.create({
    ...request,
    messages: [question, choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }],
  });
  assert.equal(answered.choices[0].message.role, 'assistant');
  assert.ok(
    answered.usage && answered.usage.prompt_tokens > (called.usage?.prompt_tokens ?? 0),
    'the call and its result are in the prompt',
  );
});

test('auth: the client works with an API key as apiKey and gets AuthenticationError with a wrong one', async (t) => {
  const admin = 'bootstrap-admin-secret';
  const server = await startTestServer(t, { env: { ...NO_GPU, MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: admin } });
  const keyFor = async (role: string) => {
    const made = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: role, role }, { authorization: `Bearer ${admin}` });
    assert.equal(made.status, 201, made.text);
    return made.body.key;
  };
  const operator = clientFor(server, await keyFor('operator'));
  assert.deepEqual((await operator.models.list()).data, []);
  await assert.rejects(operator.embeddings.create({ model: 'nothing-here', input: 'x' }), NotFoundError);
  const wrong = await clientFor(server, 'hgr_wrong')
    .models.list()
    .catch((e: unknown) => e);
  assert.ok(wrong instanceof AuthenticationError, String(wrong));
  assert.equal(wrong.type, 'authentication_error');
  // A viewer may list models but not run them.
  const viewer = clientFor(server, await keyFor('viewer'));
  assert.deepEqual((await viewer.models.list()).data, []);
  await assert.rejects(viewer.embeddings.create({ model: 'nothing-here', input: 'x' }), OpenAI.PermissionDeniedError);
});

test('MANAGEMENT_API_ENABLED=false: /v1 inference and models keep answering; other /v1 paths get a 400 the client does not retry', async (t) => {
  const server = await startTestServer(t, { env: { ...NO_GPU, MANAGEMENT_API_ENABLED: 'false' } });
  const client = clientFor(server);
  assert.deepEqual((await client.models.list()).data, []);
  await assert.rejects(client.embeddings.create({ model: 'nothing-here', input: 'x' }), NotFoundError);
  const other = await server.request<{ error: { code: string; type: string } }>('GET', '/v1/files');
  assert.equal(other.status, 400);
  assert.deepEqual(other.body.error, { ...other.body.error, code: 'management_api_disabled', type: 'invalid_request_error' });
});

test('rate limits: over the budget the client gets RateLimitError (429, rate_limit_error)', async (t) => {
  const server = await startTestServer(t, { env: { ...NO_GPU, API_RATE_LIMIT: '2' }, defaultRateLimit: true });
  const client = clientFor(server);
  await client.models.list();
  await client.models.list();
  const limited = await client.models.list().catch((e: unknown) => e);
  assert.ok(limited instanceof OpenAI.RateLimitError, String(limited));
  assert.equal(limited.type, 'rate_limit_error');
  assert.equal(limited.code, 'rate_limited');
});

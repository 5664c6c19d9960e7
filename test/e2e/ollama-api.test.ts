// The Ollama-compatible surface through the official `ollama` npm client, unchanged, against a real server with real runners.
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama, type ChatResponse, type GenerateResponse } from 'ollama';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };
/** Greedy sampling: the same prompt gives the same tokens, streamed or not. */
const GREEDY = { temperature: 0, seed: 1 };

interface VersionFacts {
  versions: Array<{ version: number; manifest: { entry: string; files: Array<{ path: string; sha256: string }> } }>;
}

async function importModel(server: TestServer, name: string, path: string): Promise<void> {
  const imported = await server.request('POST', '/api/v1/models/import', { name, path });
  assert.equal(imported.status, 201, imported.text);
}

/** What a call rejected with: the client's ResponseError carries `status_code` and `error`. */
async function rejection(call: Promise<unknown>): Promise<{ status_code?: number; error?: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { status_code?: number; error?: string; message: string };
  }
  return assert.fail('the call succeeded');
}

function assertStats(done: GenerateResponse | ChatResponse): void {
  assert.equal(done.done, true);
  assert.ok(['stop', 'length'].includes(done.done_reason), done.done_reason);
  for (const field of [
    'total_duration',
    'load_duration',
    'prompt_eval_count',
    'prompt_eval_duration',
    'eval_count',
    'eval_duration',
  ] as const) {
    assert.ok(Number.isInteger(done[field]) && done[field] >= 0, `${field} = ${done[field]}`);
  }
  assert.ok(done.prompt_eval_count > 0 && done.eval_count > 0);
  assert.ok(done.total_duration >= done.eval_duration);
}

test('the official ollama client: list, show, generate, chat, embed, ps, load and unload, errors', async (t) => {
  const server = await startTestServer(t, { env: NO_GPU });
  const fixtures = await makeFixtures(await tempDir(t));
  await importModel(server, 'tiny', fixtures.ggufQ8);
  await importModel(server, 'embedder', fixtures.onnxFolder);
  assert.equal((await server.request('PUT', '/api/v1/models/tiny/aliases/staging', { version: 1 })).status, 200);
  const ollama = new Ollama({ host: server.url });

  await t.test('/ answers "Ollama is running" (GET and HEAD); /api/version is numeric dotted', async () => {
    const root = await fetch(`${server.url}/`);
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await root.text(), 'Ollama is running');
    assert.equal((await fetch(`${server.url}/`, { method: 'HEAD' })).status, 200);
    const { version } = await ollama.version();
    assert.match(version, /^\d+\.\d+\.\d+$/);
  });

  await t.test('list: name:latest per model and name:<alias>, with digest, size and details', async () => {
    const { models } = await ollama.list();
    assert.deepEqual(models.map((m) => m.name).sort(), ['embedder:latest', 'tiny:latest', 'tiny:staging']);
    const tiny = models.find((m) => m.name === 'tiny:latest');
    assert.ok(tiny);
    assert.equal(tiny.model, 'tiny:latest');
    const detail = await server.request<VersionFacts>('GET', '/api/v1/models/tiny');
    const manifest = detail.body.versions[0]?.manifest;
    assert.equal(tiny.digest, manifest?.files.find((f) => f.path === manifest.entry)?.sha256);
    assert.match(tiny.digest, /^[0-9a-f]{64}$/);
    assert.ok(tiny.size > 0);
    assert.ok(!Number.isNaN(new Date(tiny.modified_at).getTime()));
    assert.equal(tiny.details.format, 'gguf');
    assert.equal(tiny.details.family, 'llama');
    assert.deepEqual(tiny.details.families, ['llama']);
    assert.equal(tiny.details.quantization_level, 'Q8_0');
    assert.match(tiny.details.parameter_size, /^\d+(\.\d+)?[KMB]$/);
    const embedder = models.find((m) => m.name === 'embedder:latest');
    assert.equal(embedder?.details.format, 'onnx');
  });

  await t.test('show: GGUF-style model_info for GGUF and ONNX, capabilities, template, modified_at', async () => {
    const tiny = await ollama.show({ model: 'tiny' });
    const info = tiny.model_info as unknown as Record<string, unknown>;
    assert.equal(info['general.architecture'], 'llama');
    assert.equal(info['llama.context_length'], 512);
    assert.equal(info['llama.embedding_length'], 64);
    assert.equal(info['general.file_type'], 7, 'Q8_0, as GGUF numbers it');
    assert.ok(typeof info['general.parameter_count'] === 'number' && info['general.parameter_count'] > 0);
    assert.deepEqual(tiny.capabilities, ['completion', 'embedding'], 'no chat template that calls tools');
    assert.equal(tiny.template, '');
    assert.equal(tiny.details.family, 'llama');
    assert.match(tiny.modelfile, /^FROM tiny$/m);
    const embedder = await ollama.show({ model: 'embedder:latest' });
    const onnxInfo = embedder.model_info as unknown as Record<string, unknown>;
    assert.equal(onnxInfo['general.architecture'], 'bert');
    assert.equal(onnxInfo['bert.embedding_length'], 32);
    assert.ok(typeof onnxInfo['bert.context_length'] === 'number');
    assert.deepEqual(embedder.capabilities, ['embedding']);
    assert.equal(embedder.details.format, 'onnx');
    // A chat template that takes tools makes the model tool-capable, as the runtime judges it.
    await importModel(server, 'tooly', fixtures.ggufTools);
    const tooly = await ollama.show({ model: 'tooly' });
    assert.deepEqual(tooly.capabilities, ['completion', 'embedding', 'tools']);
    assert.match(tooly.template, /tools/);
  });

  await t.test('generate: raw and templated, streamed (NDJSON) and not, the same greedy text', async () => {
    const options = { ...GREEDY, num_predict: 8 };
    const whole = await ollama.generate({ model: 'tiny', prompt: 'Once upon a time', raw: true, options });
    assert.equal(whole.model, 'tiny');
    assert.ok((whole.response ?? '').length > 0);
    assertStats(whole);
    assert.ok(whole.eval_count <= 8);
    const chunks: GenerateResponse[] = [];
    for await (const part of await ollama.generate({
      model: 'tiny:latest',
      prompt: 'Once upon a time',
      raw: true,
      options,
      stream: true,
    })) {
      chunks.push(part);
    }
    assert.ok(chunks.length >= 2, 'text chunks, then the done line');
    assert.equal(chunks.map((c) => c.response).join(''), whole.response);
    assert.ok(chunks.slice(0, -1).every((c) => c.done === false && c.model === 'tiny:latest'));
    const last = chunks.at(-1) as GenerateResponse;
    assertStats(last);
    assert.equal(last.eval_count, whole.eval_count);
    // Through the chat template, with a system prompt; by version number and by alias.
    const templated = await ollama.generate({ model: 'tiny:1', prompt: 'Hello', system: 'Be brief.', options });
    assertStats(templated);
    assert.equal((await ollama.generate({ model: 'tiny:staging', prompt: 'Hello', options })).done, true);
    // As Ollama's docs call it: `curl -d`, which sends a form content type; NDJSON unless stream is false.
    const raw = await fetch(`${server.url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ model: 'tiny', prompt: 'Hi', raw: true, options: { num_predict: 2 } }),
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'application/x-ndjson', 'streams by default');
    assert.ok((await raw.text()).trim().split('\n').length >= 2);
    // Null fields are absent, as Ollama's Go decoder reads them.
    const nulls = await fetch(`${server.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'tiny',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: false,
        format: null,
        keep_alive: null,
        tools: null,
        options: { num_predict: 2, temperature: null },
      }),
    });
    assert.equal(nulls.status, 200, await nulls.clone().text());
    assert.equal(((await nulls.json()) as ChatResponse).done, true);
  });

  await t.test('chat: streamed and not, the same greedy message', async () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say something.' },
    ];
    const options = { ...GREEDY, num_predict: 8 };
    const whole = await ollama.chat({ model: 'tiny', messages, options });
    assert.equal(whole.message.role, 'assistant');
    assert.ok(whole.message.content.length > 0);
    assertStats(whole);
    const chunks: ChatResponse[] = [];
    for await (const part of await ollama.chat({ model: 'tiny', messages, options, stream: true })) chunks.push(part);
    assert.equal(chunks.map((c) => c.message.content).join(''), whole.message.content);
    assertStats(chunks.at(-1) as ChatResponse);
  });

  await t.test('ps: the loaded model with its memory, expiry, context and digest', async () => {
    const { models } = await ollama.ps();
    const tiny = models.find((m) => m.name === 'tiny:latest');
    assert.ok(tiny, JSON.stringify(models));
    assert.ok(tiny.size > 0);
    assert.equal(tiny.size_vram, 0);
    assert.ok(new Date(tiny.expires_at).getTime() > Date.now() - 60_000);
    assert.equal((tiny as unknown as { context_length: number }).context_length, 512);
    assert.match(tiny.digest, /^[0-9a-f]{64}$/);
    assert.equal(tiny.details.family, 'llama');
  });

  await t.test('empty prompt loads (done_reason load); with keep_alive 0 it unloads (ps shows it gone)', async () => {
    const unloaded = await ollama.generate({ model: 'tiny', prompt: '', keep_alive: 0 });
    assert.equal(unloaded.done, true);
    assert.equal(unloaded.done_reason, 'unload');
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === 'tiny:latest'));
    const loaded = await ollama.generate({ model: 'tiny', prompt: '', keep_alive: '10m' });
    assert.equal(loaded.done_reason, 'load');
    const listed = (await ollama.ps()).models.find((m) => m.name === 'tiny:latest');
    assert.ok(listed, 'loaded again');
    assert.ok(new Date(listed.expires_at).getTime() > Date.now() + 5 * 60_000, 'with the keep-alive asked for');
    const viaChat = await ollama.chat({ model: 'tiny', messages: [], keep_alive: 0 });
    assert.equal(viaChat.done_reason, 'unload');
    assert.equal(viaChat.message.content, '');
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === 'tiny:latest'));
    // A generation with keep_alive 0 unloads the model once it is done.
    const onDemand = await ollama.generate({ model: 'tiny', prompt: 'Hi', raw: true, keep_alive: 0, options: { num_predict: 2 } });
    assert.ok(onDemand.load_duration > 0, 'this request loaded the model');
    const deadline = Date.now() + 10_000;
    while ((await ollama.ps()).models.some((m) => m.name === 'tiny:latest') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === 'tiny:latest'));
  });

  await t.test('embed and the legacy embeddings give the values /api/v1/embeddings gives', async () => {
    const input = ['hello world', 'a second sentence'];
    const embedded = await ollama.embed({ model: 'embedder', input });
    assert.equal(embedded.model, 'embedder');
    assert.equal(embedded.embeddings.length, 2);
    assert.ok(embedded.prompt_eval_count > 0);
    assert.ok(Number.isInteger(embedded.total_duration) && Number.isInteger(embedded.load_duration));
    const ours = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', { model: 'embedder', input });
    assert.deepEqual(embedded.embeddings, ours.body.embeddings);
    const single = await ollama.embed({ model: 'embedder:latest', input: 'hello world', truncate: true });
    assert.deepEqual(single.embeddings, [ours.body.embeddings[0]]);
    const legacy = await ollama.embeddings({ model: 'embedder', prompt: 'hello world' });
    assert.deepEqual(legacy.embedding, ours.body.embeddings[0]);
    assert.deepEqual((await ollama.embed({ model: 'embedder', input: [] })).embeddings, [], 'an empty input only loads');
    const short = await ollama.embed({ model: 'embedder', input, dimensions: 8 });
    for (const vector of short.embeddings) {
      assert.equal(vector.length, 8);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-4, 'shortened vectors are re-normalised');
    }
    const long = 'hello '.repeat(500);
    assert.equal((await ollama.embed({ model: 'embedder', input: long })).embeddings.length, 1, 'truncated by default');
    assert.equal((await rejection(ollama.embed({ model: 'embedder', input: long, truncate: false }))).status_code, 400);
  });

  await t.test('errors: unknown model 404, bad input 400, tools on a model without tool calling 400', async () => {
    for (const call of [
      ollama.generate({ model: 'nope', prompt: 'x' }),
      ollama.chat({ model: 'nope:latest', messages: [{ role: 'user', content: 'x' }], stream: true }),
      ollama.show({ model: 'nope' }),
      ollama.embed({ model: 'nope', input: 'x' }),
    ]) {
      const error = await rejection(call);
      assert.equal(error.status_code, 404, error.message);
      assert.match(error.error ?? '', /nope/);
    }
    const missing = await fetch(`${server.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'nope', prompt: 'x' }) });
    assert.deepEqual(Object.keys((await missing.json()) as object), ['error'], 'Ollama’s {"error":"…"} shape');
    const badInputs: unknown[] = [
      { model: 'tiny', prompt: 'x', options: { temperature: 'hot' } },
      { model: 'tiny', prompt: 'x', keep_alive: 'soon' },
      { model: 'tiny', prompt: 'x', format: 'yaml' },
      { prompt: 'x' },
    ];
    for (const body of badInputs) {
      const error = await rejection(ollama.generate(body as Parameters<typeof ollama.generate>[0] & { stream?: false }));
      assert.equal(error.status_code, 400, `${JSON.stringify(body)}: ${error.message}`);
    }
    const tools = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const refused = await rejection(ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'Weather?' }], tools }));
    assert.equal(refused.status_code, 400);
    assert.match(refused.error ?? '', /^tiny does not support tools$/);
    const accepted = await ollama.chat({
      model: 'tooly',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
      options: { num_predict: 4 },
    });
    assert.equal(accepted.done, true, 'a model whose template takes tools is given them');
    const images = await rejection(ollama.generate({ model: 'tiny', prompt: 'x', images: ['aGk='] }));
    assert.equal(images.status_code, 400);
    assert.match(images.error ?? '', /does not support images/);
  });

  await t.test('an error after the stream started is one more NDJSON line with error', async () => {
    await importModel(server, 'crashy', fixtures.ggufF16);
    assert.equal((await ollama.generate({ model: 'crashy', prompt: '', options: { num_ctx: 4096 } })).done_reason, 'load');
    const status = await server.request<{ pid: number }>('GET', '/api/v1/models/crashy/status');
    const response = await fetch(`${server.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'crashy', prompt: 'Once upon a time', raw: true, options: { ...GREEDY, num_predict: 4000 } }),
    });
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let killed = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!killed && text.includes('\n')) {
        killed = true;
        process.kill(status.body.pid, 'SIGKILL');
      }
    }
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { error?: string; done?: boolean });
    assert.ok(lines.length >= 2);
    assert.equal(lines[0]?.done, false);
    const last = lines.at(-1);
    assert.equal(typeof last?.error, 'string', JSON.stringify(last));
    assert.ok(!lines.some((line) => line.done === true));
  });
});

test('with the management API off, the Ollama surface still lists and serves models; /api/ps is management', async (t) => {
  const server = await startTestServer(t, { env: { ...NO_GPU, MANAGEMENT_API_ENABLED: 'false' } });
  const ollama = new Ollama({ host: server.url });
  assert.deepEqual((await ollama.list()).models, []);
  assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+$/);
  assert.equal((await rejection(ollama.generate({ model: 'nope', prompt: 'x' }))).status_code, 404, 'inference reaches the runtime');
  assert.equal((await rejection(ollama.ps())).status_code, 503);
});

/**
 * A chat template whose tool-call syntax starts with the word this seeded random model says first ("one"), as in
 * test/runtime/generation-features.test.ts: the model really calls a tool, node-llama-cpp's grammar forcing a valid call.
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

test('chat with tools: the call arrives in message.tool_calls with parsed arguments, streamed and not', async (t) => {
  const server = await startTestServer(t, { env: NO_GPU });
  const file = path.join(await tempDir(t), 'caller.gguf');
  await writeTinyLlamaGguf(file, { type: 'Q8_0', seed: 7, chatTemplate: FIRST_WORD_CALLS_TEMPLATE });
  await importModel(server, 'caller', file);
  const ollama = new Ollama({ host: server.url });
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'weather',
        parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Rome'] } } },
      },
    },
  ];
  const request = {
    model: 'caller',
    messages: [{ role: 'user', content: 'weather in Paris?' }],
    tools,
    options: { temperature: 0, num_predict: 40 },
  };
  const whole = await ollama.chat(request);
  assert.equal(whole.done_reason, 'stop', 'Ollama ends a tool call with "stop"');
  const [call] = whole.message.tool_calls ?? [];
  assert.equal(whole.message.tool_calls?.length, 1, JSON.stringify(whole.message));
  assert.equal(call?.function.name, 'get_weather');
  assert.ok(['Paris', 'Rome'].includes(call?.function.arguments.city as string), JSON.stringify(call));
  let streamedCalls: unknown[] = [];
  for await (const part of await ollama.chat({ ...request, stream: true }))
    if (part.message.tool_calls) streamedCalls = part.message.tool_calls;
  assert.deepEqual(streamedCalls, whole.message.tool_calls);
  // The call and its result go back in the history, as Ollama's clients send them.
  const followUp = await ollama.chat({
    ...request,
    messages: [...request.messages, whole.message, { role: 'tool', tool_name: 'get_weather', content: '{"sunny":true}' }],
  });
  assert.equal(followUp.done, true);
});

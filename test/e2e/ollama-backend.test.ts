// Backend `ollama` end to end: a stand-in Ollama server over real HTTP, synced into Hangar's catalog, driven through seed 003's endpoints and /api/v1.
import { test } from 'node:test';
import { Ollama } from 'ollama';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { readSse } from '../helpers/sse.ts';
import { startOllamaStandIn, standInModel } from '../helpers/ollama-stand-in.ts';
import type { JobMessage } from '../../src/schemas/hub.ts';

interface Status {
  name: string;
  status: string;
  backend: string | null;
  version: number | null;
  memory_usage_mb: number;
  reason: string | null;
  pid: number | null;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, limitMs = 15_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an Ollama server as backend ollama: sync, seed 003 endpoints, streaming, failure and recovery, clashes, pull', async (t) => {
  const fixtures = await makeFixtures(await tempDir(t, 'ollama-backend-'));
  const ollama = await startOllamaStandIn({
    'tinyllama:latest': standInModel('tinyllama-a', 2 * 1024 * 1024),
    'tinyllama:chat': standInModel('tinyllama-a', 2 * 1024 * 1024),
    'minilm:latest': { ...standInModel('minilm'), capabilities: ['embedding'] },
    'idle:latest': standInModel('idle'),
    'toolful:latest': { ...standInModel('toolful'), capabilities: ['completion', 'tools'] },
  });
  ollama.library.set('smollm:latest', standInModel('smollm', 4_000_000));
  t.after(() => ollama.stop().catch(() => undefined));
  // A second server offering a name the first already provides: refused there, with a warning, never merged.
  const other = await startOllamaStandIn({ 'tinyllama:latest': standInModel('tinyllama-other'), 'phi:latest': standInModel('phi') });
  t.after(() => other.stop().catch(() => undefined));
  const hangar = await startTestServer(t, {
    env: { OLLAMA_BASE_URL: `${ollama.url}/, ${other.url}`, HANGAR_RUNTIME_RESTART_BACKOFF_MS: '100', HANGAR_RUNTIME_RESTART_MAX: '1' },
  });
  // A local model named like an Ollama one: the Ollama one must be refused, never shadow it.
  await hangar.ctx.app.models.importVersion({ name: 'clash', path: fixtures.ggufQ8 }, { actor: 'test' });
  ollama.models.set('clash:latest', standInModel('clash'));
  const sync = await hangar.ctx.app.ollama.syncNow();
  const { request } = hangar;

  await t.test('sync lists the remote models as backend ollama, a name clash refused with a warning', async () => {
    assert.deepEqual(
      sync.servers.map((s) => ({ server: s.server, ok: s.ok, models: s.models })),
      [
        { server: ollama.url, ok: true, models: ['tinyllama', 'minilm', 'idle', 'toolful'] },
        { server: other.url, ok: true, models: ['phi'] },
      ],
    );
    const list = await request<{ models: Status[]; total: number }>('GET', '/api/v1/models/list');
    assert.equal(list.status, 200);
    const tiny = list.body.models.find((m) => m.name === 'tinyllama');
    assert.equal(tiny?.backend, 'ollama');
    assert.equal(tiny?.status, 'not_loaded');
    assert.equal(list.body.models.find((m) => m.name === 'clash')?.backend, 'llamacpp', 'the local model keeps its name');
    const model = await request<{
      versions: Array<{ version: number; format: string; source: Record<string, unknown>; aliases: string[] }>;
    }>('GET', '/api/v1/models/tinyllama');
    assert.equal(model.status, 200, model.text);
    assert.equal(model.body.versions.length, 1, 'two tags of one digest are one version');
    const [version] = model.body.versions;
    assert.equal(version?.format, 'ollama');
    assert.deepEqual(version?.source, {
      kind: 'ollama',
      server: ollama.url,
      name: 'tinyllama:latest',
      digest: standInModel('tinyllama-a').digest,
    });
    assert.deepEqual([...(version?.aliases ?? [])].sort(), ['chat', 'latest', 'production']);
    const health = await request<{ warnings?: string[] }>('GET', '/health');
    const warning = health.body.warnings?.find((w) => w.includes('clash:latest'));
    assert.ok(warning, `a clash warning in /health: ${health.text}`);
    assert.match(warning, /local model named clash/);
    const twice = health.body.warnings?.find((w) => w.includes(`tinyllama:latest on ${other.url}`));
    assert.match(twice ?? '', new RegExp(`the Ollama server ${ollama.url} already provides a model named tinyllama`));
  });

  await t.test("seed 003's endpoints verbatim on tinyllama:latest", async () => {
    const load = await request<Status>('POST', '/api/v1/models/load', { model_name: 'tinyllama:latest' });
    assert.equal(load.status, 200, load.text);
    assert.equal(load.body.status, 'loaded');
    assert.equal(load.body.pid, null);
    assert.ok(ollama.loaded.has('tinyllama:latest'), 'the server holds it');
    const loadCall = ollama.requests.find((r) => r.path === '/api/generate' && r.body.prompt === '');
    assert.equal(loadCall?.body.keep_alive, '330s', "Hangar's default 5m keep-alive plus the margin");
    const status = await request<Status>('GET', '/api/v1/models/tinyllama:latest/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.status, 'loaded');
    // The stand-in's /api/ps reports twice the model's size: memory comes from there, not from the catalog.
    assert.equal(status.body.memory_usage_mb, 4);
    const resources = await request<{ external: Array<{ model: string; backend: string; memory_mb: number }> }>(
      'GET',
      '/api/v1/models/resources',
    );
    assert.equal(resources.status, 200, resources.text);
    assert.deepEqual(
      resources.body.external.map((m) => ({ model: m.model, backend: m.backend, memory_mb: m.memory_mb })),
      [{ model: 'tinyllama', backend: 'ollama', memory_mb: 4 }],
    );
    const valid = await request<{ valid: boolean }>('POST', '/api/v1/models/validate-version', {
      model_name: 'tinyllama',
      version: 'latest',
    });
    assert.equal(valid.status, 200, valid.text);
    assert.equal(valid.body.valid, true);
    // What assumes local files behaves for a version that has none: validation, the memory estimate.
    const validated = await request<{ valid: boolean; files: unknown[] }>('POST', '/api/v1/models/validate/tinyllama:latest');
    assert.equal(validated.status, 200, validated.text);
    assert.deepEqual({ valid: validated.body.valid, files: validated.body.files }, { valid: true, files: [] });
    const estimate = await request<{ format: string }>('GET', '/api/v1/models/estimate-memory?model=tinyllama');
    assert.equal(estimate.status, 200, estimate.text);
    assert.equal(estimate.body.format, 'ollama');
    const unload = await request<Status>('DELETE', '/api/v1/models/tinyllama:latest/unload');
    assert.equal(unload.status, 200, unload.text);
    assert.equal(unload.body.status, 'not_loaded');
    assert.equal(ollama.loaded.has('tinyllama:latest'), false, 'unloaded on the server (keep_alive 0)');
  });

  await t.test('generation streamed through /api/v1 with token counts from the final chunk', async () => {
    const response = await fetch(`${hangar.url}/api/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama', prompt: 'Once upon', max_tokens: 6, stream: true }),
    });
    assert.equal(response.status, 200);
    const events = await readSse(response);
    const tokens = events.filter((e) => e.event === 'token').map((e) => e.data.text);
    assert.deepEqual(tokens, [' w0', ' w1', ' w2', ' w3', ' w4', ' w5']);
    const done = events.find((e) => e.event === 'done')?.data as {
      text: string;
      usage: { completion_tokens: number; prompt_tokens: number };
    };
    assert.equal(done.text, ' w0 w1 w2 w3 w4 w5');
    assert.equal(done.usage.completion_tokens, 6);
    assert.equal(done.usage.prompt_tokens, 2);
    const sent = ollama.requests.findLast((r) => r.path === '/api/generate');
    assert.equal(sent?.body.raw, true);
    const chat = await request<{ message: { content: string } }>('POST', '/api/v1/chat', {
      model: 'tinyllama:chat',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
    });
    assert.equal(chat.status, 200, chat.text);
    assert.equal(chat.body.message.content, ' w0 w1 w2');
    const json = await request('POST', '/api/v1/generate', {
      model: 'tinyllama',
      prompt: 'as json',
      max_tokens: 2,
      top_p: 0.5,
      response_format: { type: 'json' },
    });
    assert.equal(json.status, 200, json.text);
    const asked = ollama.requests.findLast((r) => r.path === '/api/generate');
    assert.equal(asked?.body.format, 'json');
    assert.equal((asked?.body.options as { top_p?: number } | undefined)?.top_p, 0.5);
  });

  await t.test('the OpenAI-compatible surface streams an Ollama model under its Ollama name', async () => {
    const models = await request<{ data: Array<{ id: string }> }>('GET', '/v1/models');
    assert.ok(
      models.body.data.some((m) => m.id === 'tinyllama:latest'),
      models.text,
    );
    const response = await fetch(`${hangar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama:latest', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true }),
    });
    assert.equal(response.status, 200);
    const frames = (await response.text())
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)) as { choices: Array<{ delta: { content?: string } }> });
    assert.equal(frames.map((f) => f.choices[0]?.delta.content ?? '').join(''), ' w0 w1 w2');
  });

  await t.test('tools: calls come back as tool calls where the server says the model supports them', async () => {
    const tools = [
      { name: 'weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const messages = [{ role: 'user' as const, content: 'weather in Paris?' }];
    const result = await hangar.ctx.app.inference.chat({ model: 'toolful', messages, tools });
    assert.equal(result.finishReason, 'tool_calls');
    assert.deepEqual(result.toolCalls, [{ name: 'weather', arguments: { city: 'Paris' } }]);
    const sent = ollama.requests.findLast((r) => r.path === '/api/chat');
    assert.deepEqual(
      (sent?.body.tools as Array<{ function: { name: string } }> | undefined)?.map((x) => x.function.name),
      ['weather'],
    );
    await assert.rejects(hangar.ctx.app.inference.chat({ model: 'tinyllama', messages, tools }), /does not support tools/);
  });

  await t.test('embeddings proxied; a client that goes away cancels the generation on the server', async () => {
    const embed = await request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', { model: 'minilm', input: ['abc', 'hello'] });
    assert.equal(embed.status, 200, embed.text);
    assert.deepEqual(embed.body.embeddings, [
      [3, 1, 0],
      [5, 1, 0],
    ]);
    assert.ok(
      ollama.requests.some((r) => r.path === '/api/embed' && Array.isArray(r.body.input) && r.body.input.length === 0),
      'an embedding-only model is loaded through /api/embed',
    );
    ollama.tokenDelayMs = 50;
    const controller = new AbortController();
    const response = await fetch(`${hangar.url}/api/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama', prompt: 'go on', max_tokens: 60, stream: true }),
      signal: controller.signal,
    });
    await readSse(response, (event) => {
      if (event.event === 'token') controller.abort();
    }).catch(() => undefined);
    await until('the server to see the generation cancelled', async () => ollama.cancelled > 0);
    ollama.tokenDelayMs = 5;
    const after = await request<Status>('GET', '/api/v1/models/tinyllama/status');
    assert.equal(after.body.status, 'loaded', 'a cancelled request is no failure');
  });

  await t.test('the server stopping mid-stream: a clear error, status failed naming it; it recovers when it answers again', async () => {
    ollama.tokenDelayMs = 100;
    const response = await fetch(`${hangar.url}/api/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama', prompt: 'long story', max_tokens: 60, stream: true }),
    });
    let stopped: Promise<void> | null = null;
    const events = await readSse(response, (event) => {
      if (event.event === 'token' && !stopped) stopped = ollama.stop();
    });
    await stopped;
    const error = events.find((e) => e.event === 'error')?.data.error as { code: string; message: string } | undefined;
    assert.equal(error?.code, 'ollama_unreachable', JSON.stringify(events.at(-1)));
    assert.ok(error.message.includes(ollama.url), error.message);
    const failed = await until('status failed', async () => {
      const s = await request<Status>('GET', '/api/v1/models/tinyllama/status');
      return s.body.status === 'failed' ? s.body : null;
    });
    assert.ok(failed.reason?.includes(ollama.url), `the reason names the server: ${failed.reason}`);
    const refused = await request<{ error: { code: string; message: string } }>('POST', '/api/v1/generate', {
      model: 'tinyllama',
      prompt: 'x',
    });
    assert.ok([502, 503].includes(refused.status), refused.text);
    assert.ok(refused.text.includes(ollama.url), refused.text);
    const local = await request<Status>('GET', '/api/v1/models/clash/status');
    assert.equal(local.body.status, 'not_loaded', 'local models are unaffected');
    const idle = await request<Status>('GET', '/api/v1/models/idle:latest/status');
    assert.equal(idle.body.status, 'failed', 'an idle model of the failing server says it cannot be served');
    assert.ok(idle.body.reason?.includes(ollama.url), `${idle.body.reason}`);
    ollama.tokenDelayMs = 5;
    await ollama.restart();
    // It comes back by itself (the runtime keeps retrying a model whose server is failing), then serves again.
    await until(
      'the model to be loaded again',
      async () => (await request<Status>('GET', '/api/v1/models/tinyllama/status')).body.status === 'loaded',
    );
    const again = await request<{ text: string }>('POST', '/api/v1/generate', { model: 'tinyllama', prompt: 'again', max_tokens: 2 });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.text, ' w0 w1');
    const recovered = await request<Status>('GET', '/api/v1/models/tinyllama/status');
    assert.equal(recovered.body.status, 'loaded');
    assert.equal((await request<Status>('GET', '/api/v1/models/idle/status')).body.status, 'not_loaded');
  });

  await t.test('pull through the server as a job with live progress; delete goes to the server', async () => {
    const messages: JobMessage[] = [];
    const listener = (message: JobMessage) => messages.push(message);
    hangar.ctx.jobs.on('message', listener);
    t.after(() => hangar.ctx.jobs.off('message', listener));
    const accepted = await request<{ job_id: string; job: { kind: string } }>('POST', '/api/v1/models/download', {
      repo_id: 'smollm',
      source: 'ollama',
    });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.body.job.kind, 'ollama_pull');
    const job = await until('the pull job to finish', async () => {
      const j = await request<{
        status: string;
        result: { model: string; version: number } | null;
        progress: { bytes_done: number; bytes_total: number };
      }>('GET', `/api/v1/jobs/${accepted.body.job_id}`);
      return j.body.status === 'completed' || j.body.status === 'failed' ? j.body : null;
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual({ model: job.result?.model, version: job.result?.version }, { model: 'smollm', version: 1 });
    assert.equal(job.progress.bytes_done, 4_000_000);
    const progress = messages.filter((m) => m.job_id === accepted.body.job_id && m.type === 'download_progress');
    assert.ok(
      progress.some((m) => m.job.progress.bytes_done > 0 && m.job.progress.bytes_done < 4_000_000),
      'progress was live',
    );
    assert.ok(messages.some((m) => m.job_id === accepted.body.job_id && m.type === 'download_completed'));
    const status = await request<Status>('GET', '/api/v1/models/smollm/status');
    assert.equal(status.body.backend, 'ollama');
    const deleted = await request('DELETE', '/api/v1/models/smollm');
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(ollama.models.has('smollm:latest'), false, 'deleted on the server');
    await hangar.ctx.app.ollama.syncNow();
    assert.equal((await request('GET', '/api/v1/models/smollm/status')).status, 404, 'and not synced back');
  });

  await t.test("Hangar's own Ollama surface pulls a library name through the backend (the official client)", async () => {
    ollama.library.set('qwen:latest', standInModel('qwen', 2_000_000));
    const lines: Array<{ status: string; completed?: number }> = [];
    for await (const line of await new Ollama({ host: hangar.url }).pull({ model: 'qwen', stream: true })) lines.push(line);
    const statuses = lines.map((l) => l.status);
    assert.equal(statuses[0], 'pulling manifest');
    assert.ok(
      lines.some((l) => (l.completed ?? 0) > 0),
      JSON.stringify(lines),
    );
    assert.deepEqual(
      statuses.filter((s) => s === 'success'),
      ['success'],
    );
    assert.equal(statuses.at(-1), 'success');
    const status = await request<Status>('GET', '/api/v1/models/qwen:latest/status');
    assert.equal(status.body.backend, 'ollama', status.text);
  });

  await t.test('cancelling a pull job stops the pull on the server', async () => {
    ollama.library.set('slow:latest', standInModel('slow', 8_000_000));
    const cancelledBefore = ollama.cancelled;
    const accepted = await request<{ job_id: string }>('POST', '/api/v1/models/download', { repo_id: 'slow', source: 'ollama' });
    assert.equal(accepted.status, 202, accepted.text);
    await until('the pull to start', async () => ollama.requests.some((r) => r.path === '/api/pull' && r.body.model === 'slow:latest'));
    const cancelled = await request<{ status: string }>('DELETE', `/api/v1/jobs/${accepted.body.job_id}`);
    assert.equal(cancelled.status, 200, cancelled.text);
    await until('the server to see the pull stop', async () => ollama.cancelled > cancelledBefore);
    const job = await request<{ status: string }>('GET', `/api/v1/jobs/${accepted.body.job_id}`);
    assert.equal(job.body.status, 'cancelled');
  });

  await t.test('a new digest under the same name is a new version, served as production', async () => {
    ollama.models.set('tinyllama:latest', standInModel('tinyllama-b', 3 * 1024 * 1024));
    await hangar.ctx.app.ollama.syncNow();
    const model = await request<{ versions: Array<{ version: number; aliases: string[] }> }>('GET', '/api/v1/models/tinyllama');
    const byVersion = new Map(model.body.versions.map((v) => [v.version, [...v.aliases].sort()]));
    assert.deepEqual(byVersion.get(2), ['latest', 'production']);
    assert.deepEqual(byVersion.get(1), ['chat']);
  });
});

// Runtime end-to-end: real runner processes for the demo models, over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { readSse } from '../helpers/sse.ts';
import { processExists } from '../../src/monitor/process-memory.ts';

interface Status {
  name: string;
  status: string;
  pid: number | null;
  memory_usage_mb: number;
  version: number | null;
  backend: string | null;
  device: string;
  gpu: number | null;
  device_note: string | null;
  reason: string | null;
  in_flight: number;
  expires_at: string | null;
  last_inference: string | null;
  loaded_at: string | null;
  pinned: boolean;
  embedding_length: number | null;
  capabilities: string[];
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
}

async function status(server: TestServer, name: string): Promise<Status> {
  return (await server.request<Status>('GET', `/api/v1/models/${name}/status`)).body;
}

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('condition not met in time');
}

test('every demo model loads in its own runner, serves, unloads; shutdown leaves no runner', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const all = await server.request<{ models: Record<string, Status> }>('GET', '/models/status');
  assert.deepEqual(Object.keys(all.body.models).sort(), ['demo-embed-base', 'demo-embed-small', 'demo-llama', 'demo-llama-q8']);
  assert.ok(Object.values(all.body.models).every((m) => m.status === 'not_loaded' && m.pid === null && m.version === 1));

  const pids: number[] = [];
  for (const [name, hidden] of [
    ['demo-embed-small', 32],
    ['demo-embed-base', 64],
  ] as const) {
    const loaded = await server.request<Status>('POST', `/models/${name}/load`);
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(loaded.body.status, 'loaded');
    assert.equal(loaded.body.backend, 'onnx');
    assert.equal(loaded.body.device, 'cpu');
    assert.ok(loaded.body.pid && processExists(loaded.body.pid));
    assert.ok(loaded.body.memory_usage_mb > 0);
    pids.push(loaded.body.pid);
    const embedded = await server.request<{ model: string; version: number; embeddings: number[][]; usage: { tokens: number } }>(
      'POST',
      '/api/v1/embeddings',
      { model: name, input: ['hello world', 'a second sentence'] },
    );
    assert.equal(embedded.status, 200, embedded.text);
    assert.equal(embedded.body.embeddings.length, 2);
    for (const vector of embedded.body.embeddings) {
      assert.equal(vector.length, hidden);
      assert.ok(Math.abs(norm(vector) - 1) < 1e-4);
    }
    assert.ok(embedded.body.usage.tokens > 0);
    assert.ok((await status(server, name)).last_inference);
  }
  for (const name of ['demo-llama', 'demo-llama-q8']) {
    const loaded = await server.request<Status>('POST', `/api/v1/models/${name}/load`, { context_size: 256 });
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(loaded.body.backend, 'llamacpp');
    assert.deepEqual(loaded.body.capabilities.sort(), ['chat', 'embed', 'generate']);
    pids.push(loaded.body.pid as number);
    const generated = await server.request<{ text: string; usage: { completion_tokens: number }; finish_reason: string }>(
      'POST',
      '/api/v1/generate',
      { model: name, prompt: 'Hello', max_tokens: 12, ignore_eos: true, temperature: 0 },
    );
    assert.equal(generated.status, 200, generated.text);
    assert.equal(generated.body.usage.completion_tokens, 12);
    const streamed = await fetch(`${server.url}/api/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: name, prompt: 'Hello', max_tokens: 8, ignore_eos: true, stream: true }),
    });
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = await readSse(streamed);
    const tokens = events.filter((e) => e.event === 'token').map((e) => String(e.data.text));
    const done = events.at(-1);
    assert.equal(done?.event, 'done');
    assert.ok(tokens.length >= 1);
    assert.equal(tokens.join(''), done?.data.text);
    const chat = await server.request<{ message: { role: string; content: string } }>('POST', '/api/v1/chat', {
      model: name,
      messages: [{ role: 'user', content: 'Hi there' }],
      max_tokens: 6,
    });
    assert.equal(chat.status, 200, chat.text);
    assert.equal(chat.body.message.role, 'assistant');
    const vector = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', { model: name, input: 'hello' });
    assert.equal(vector.body.embeddings[0].length, 64);
  }
  const refused = await server.request<ErrorBody>('POST', '/api/v1/generate', { model: 'demo-embed-small', prompt: 'x' });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'unsupported_operation');

  const unloaded = await server.request<Status>('POST', '/models/demo-embed-small/unload');
  assert.equal(unloaded.body.status, 'not_loaded');
  assert.equal(unloaded.body.pid, null);
  await eventually(async () => !processExists(pids[0]));
  const seedUnload = await server.request<Status>('DELETE', '/api/v1/models/demo-embed-base/unload');
  assert.equal(seedUnload.body.status, 'not_loaded');
  const list = await server.request<{ models: Status[]; total: number; loaded: number }>('GET', '/api/v1/models/list');
  assert.equal(list.body.total, 4);
  assert.equal(list.body.loaded, 2);

  await server.close();
  for (const pid of pids) assert.equal(processExists(pid), false, `runner ${pid} is gone after shutdown`);
});

test('load is idempotent, shares concurrent loads, answers 202 with wait=false, 404 for unknown models, 409 no_gpu', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const [a, b] = await Promise.all([
    server.request<Status>('POST', '/api/v1/models/load', { model_name: 'demo-embed-small' }),
    server.request<Status>('POST', '/api/v1/models/demo-embed-small/load'),
  ]);
  assert.equal(a.body.pid, b.body.pid);
  const again = await server.request<Status>('POST', '/api/v1/models/demo-embed-small/load', { keep_alive: -1, pinned: true });
  assert.equal(again.body.pid, a.body.pid);
  assert.equal(again.body.pinned, true);
  assert.equal(again.body.expires_at, null);

  const accepted = await server.request<{ accepted: boolean; status: Status }>('POST', '/api/v1/models/demo-llama-q8/load?wait=false');
  assert.equal(accepted.status, 202);
  assert.ok(['loading', 'loaded'].includes(accepted.body.status.status));
  await eventually(async () => (await status(server, 'demo-llama-q8')).status === 'loaded');

  const missing = await server.request<ErrorBody>('POST', '/models/nope/load');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'model_not_found');
  const noGpu = await server.request<ErrorBody>('POST', '/api/v1/models/demo-llama/load', { device: 'gpu' });
  assert.equal(noGpu.status, 409);
  assert.equal(noGpu.body.error.code, 'no_gpu');
  assert.equal((await status(server, 'demo-llama')).status, 'not_loaded', 'a refused load changes nothing');
  const auto = await server.request<Status>('POST', '/api/v1/models/demo-llama/load', { device: 'auto' });
  assert.equal(auto.body.device, 'cpu');
  assert.match(auto.body.device_note ?? '', /auto: running on CPU because no GPU available/);
  const badOption = await server.request<ErrorBody>('POST', '/api/v1/models/demo-llama/load', { device: 'tpu' });
  assert.equal(badOption.status, 400);
  const audit = await server.request<{ events: Array<{ action: string; outcome: string }> }>('GET', '/api/v1/audit?action=model.load');
  assert.ok(audit.body.events.some((e) => e.outcome === 'success'));
  assert.ok(audit.body.events.some((e) => e.outcome === 'failure'));
});

test('a killed runner: failed with the signal, in-flight request gets runner_crashed, then it restarts by itself', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { ...NO_GPU, HANGAR_RUNTIME_RESTART_BACKOFF_MS: '200' } });
  const loaded = await server.request<Status>('POST', '/api/v1/models/demo-llama/load', { context_size: 4096 });
  const pid = loaded.body.pid as number;
  const response = await fetch(`${server.url}/api/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo-llama', prompt: 'Hello', max_tokens: 4000, ignore_eos: true, stream: true }),
  });
  let killed = false;
  const events = await readSse(response, (e) => {
    if (e.event === 'token' && !killed) {
      killed = true;
      process.kill(pid, 'SIGKILL');
    }
  });
  const last = events.at(-1);
  assert.equal(last?.event, 'error');
  assert.equal((last?.data.error as { code: string } | undefined)?.code, 'runner_crashed');
  const failed = await status(server, 'demo-llama');
  assert.ok(failed.status === 'failed' || failed.status === 'loading' || failed.status === 'loaded');
  await eventually(async () => {
    const s = await status(server, 'demo-llama');
    return s.status === 'loaded' && s.pid !== pid;
  });
  const health = await server.request<{ status: string }>('GET', '/health');
  assert.equal(health.body.status, 'healthy');
  const after = await server.request<{ text: string }>('POST', '/api/v1/generate', {
    model: 'demo-llama',
    prompt: 'Hi',
    max_tokens: 4,
    ignore_eos: true,
  });
  assert.equal(after.status, 200);
});

test('a crash is reported as failed with the signal while the restart waits', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { ...NO_GPU, HANGAR_RUNTIME_RESTART_BACKOFF_MS: '5000' } });
  const loaded = await server.request<Status>('POST', '/api/v1/models/demo-embed-small/load');
  process.kill(loaded.body.pid as number, 'SIGKILL');
  await eventually(async () => (await status(server, 'demo-embed-small')).status === 'failed');
  const failed = await status(server, 'demo-embed-small');
  assert.match(failed.reason ?? '', /runner crashed: killed by signal SIGKILL/);
  assert.equal(failed.pid, null);
  const unloaded = await server.request<Status>('POST', '/api/v1/models/demo-embed-small/unload');
  assert.equal(unloaded.body.status, 'not_loaded', 'unloading a failed model clears it and cancels the restart');
});

test('reload under concurrent embedding load fails no request and replaces the runner', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const before = await server.request<Status>('POST', '/api/v1/models/demo-embed-small/load');
  let failures = 0;
  let done = 0;
  let stop = false;
  const client = async () => {
    while (!stop) {
      const r = await server.request('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: `sentence ${done}` });
      if (r.status !== 200) failures++;
      done++;
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await new Promise((r) => setTimeout(r, 200));
  const reloaded = await server.request<Status>('POST', '/models/demo-embed-small/reload');
  assert.equal(reloaded.status, 200, reloaded.text);
  await new Promise((r) => setTimeout(r, 200));
  stop = true;
  await Promise.all(clients);
  assert.equal(failures, 0);
  assert.ok(done > 20, `requests completed: ${done}`);
  assert.notEqual(reloaded.body.pid, before.body.pid);
  await eventually(async () => !processExists(before.body.pid as number));
});

test('memory budget: loading a second model evicts the idle one; a pinned one is kept and the load refused', async (t) => {
  // A budget that holds either demo model's runner (~90-115 MiB each, compiled) but not both.
  const server = await startTestServer(t, { demoModels: true, env: { ...NO_GPU, HANGAR_MEMORY_RAM_BUDGET_MB: '150' } });
  const first = await server.request<Status>('POST', '/api/v1/models/demo-embed-small/load');
  assert.equal(first.status, 200, first.text);
  const second = await server.request<Status>('POST', '/api/v1/models/demo-llama-q8/load');
  assert.equal(second.status, 200, second.text);
  assert.equal((await status(server, 'demo-embed-small')).status, 'not_loaded', 'the idle LRU model was evicted');
  await server.request('POST', '/api/v1/models/demo-llama-q8/load', { pinned: true });
  const refused = await server.request<ErrorBody>('POST', '/api/v1/models/demo-embed-small/load');
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'insufficient_memory');
  const details = refused.body.error.details as {
    needed_mb: number;
    budget_mb: number;
    free_mb: number;
    not_evictable: Array<{ model: string; reason: string }>;
  };
  assert.equal(details.budget_mb, 150);
  assert.ok(details.needed_mb > details.free_mb);
  assert.deepEqual(
    details.not_evictable.map((b) => [b.model, b.reason]),
    [['demo-llama-q8', 'pinned']],
  );
  assert.equal((await status(server, 'demo-llama-q8')).status, 'loaded');
  assert.equal((await status(server, 'demo-embed-small')).status, 'not_loaded');
});

test('keep-alive: 0 unloads after the request, a short one expires; JIT loading on and off', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const jit = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', {
    model: 'demo-embed-small',
    input: 'load me',
    keep_alive: 0,
  });
  assert.equal(jit.status, 200, jit.text);
  await eventually(async () => (await status(server, 'demo-embed-small')).status === 'not_loaded');

  await server.request('POST', '/api/v1/models/demo-embed-base/load', { keep_alive: '1s' });
  const loaded = await status(server, 'demo-embed-base');
  assert.ok(loaded.expires_at && Date.parse(loaded.expires_at) - Date.now() <= 1000);
  await eventually(async () => (await status(server, 'demo-embed-base')).status === 'not_loaded', 5000);
  const badKeepAlive = await server.request<ErrorBody>('POST', '/api/v1/embeddings', {
    model: 'demo-embed-base',
    input: 'x',
    keep_alive: 'soon',
  });
  assert.equal(badKeepAlive.body.error.code, 'invalid_keep_alive');

  const off = await startTestServer(t, { demoModels: true, env: { ...NO_GPU, DYNAMIC_LOADING_ENABLED: 'false' } });
  const refused = await off.request<ErrorBody>('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: 'x' });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'model_not_loaded');
});

/** Runner processes this test process started (the server runs in it), by pid. */
async function childPids(): Promise<number[]> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => /runner-main\.(ts|js)/.test(line))
    .map((line) => Number.parseInt(line.trim(), 10));
}

test('warm spares: a load takes the pre-started runner, a new spare replaces it, shutdown stops them all', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { ...NO_GPU, HANGAR_RUNTIME_WARM_SPARES: 'true' } });
  await eventually(async () => (await childPids()).length >= 2);
  const sparesBefore = await childPids();
  const loaded = await server.request<Status>('POST', '/api/v1/models/demo-llama-q8/load');
  assert.equal(loaded.status, 200, loaded.text);
  assert.ok(sparesBefore.includes(loaded.body.pid as number), 'the load was served by a spare started before it');
  await eventually(async () => (await childPids()).length >= 3);
  const embedded = await server.request('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: 'spare' });
  assert.equal(embedded.status, 200);
  const all = await childPids();
  await server.close();
  for (const pid of all) await eventually(async () => !processExists(pid), 5000);
});

test('warm spares: the first GGUF imported into a server without one starts a llama.cpp spare, and its first load takes it', async (t) => {
  const server = await startTestServer(t, { env: { ...NO_GPU, HANGAR_RUNTIME_WARM_SPARES: 'true' } });
  const dir = await mkdtemp(path.join(tmpdir(), 'hangar-spare-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'model.gguf');
  await writeTinyLlamaGguf(file, { type: 'Q8_0', seed: 5 });
  const before = new Set(await childPids());
  const imported = await server.request('POST', '/api/v1/models/import', { name: 'first-gguf', path: file });
  assert.equal(imported.status, 201, imported.text);
  let spares: number[] = [];
  await eventually(async () => {
    spares = (await childPids()).filter((pid) => !before.has(pid));
    return spares.length > 0;
  });
  const loaded = await server.request<Status>('POST', '/api/v1/models/first-gguf/load');
  assert.equal(loaded.status, 200, loaded.text);
  assert.ok(
    spares.includes(loaded.body.pid as number),
    `the load was served by the spare the import started (${spares} vs ${loaded.body.pid})`,
  );
});

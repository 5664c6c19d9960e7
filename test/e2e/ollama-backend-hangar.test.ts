// Backend `ollama` against a second Hangar serving its Ollama-compatible API in a child process (so it really dies): sync, load, generate, SIGKILL, restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startTestServer } from '../helpers/server.ts';
import { makeFixtures, WIDE_LLAMA_SHAPE } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { freePort } from '../helpers/free-port.ts';
import { readSse } from '../helpers/sse.ts';
import fs from 'node:fs';
import path from 'node:path';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { repoFromFolder } from '../../scripts/lib/hub-repos.ts';
import { startHubServer } from '../../scripts/lib/hub-server.ts';
import type { JobMessage } from '../../src/schemas/hub.ts';

interface Status {
  status: string;
  backend: string | null;
  memory_usage_mb: number;
  reason: string | null;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a second Hangar as the Ollama server: its models are served through this one, and it dying and coming back is survived', async (t) => {
  const fixtures = await makeFixtures(await tempDir(t, 'ollama-hangar-'));
  // A hub the remote Hangar pulls from (Ollama's hf.co/<org>/<repo>:<quant> names), slow enough for progress to show.
  const repoDir = path.join(await tempDir(t, 'ollama-hangar-repo-'), 'tiny');
  fs.mkdirSync(repoDir, { recursive: true });
  await writeTinyLlamaGguf(path.join(repoDir, 'tiny.Q8_0.gguf'), {
    type: 'Q8_0',
    ...WIDE_LLAMA_SHAPE,
    seed: 11,
    name: 'tiny',
  });
  const hub = await startHubServer({ bytesPerSecond: 1_500_000 });
  t.after(() => hub.close());
  await hub.addRepo(await repoFromFolder('hangar-test/tiny', repoDir, { license: 'mit' }));
  const home = await tempDir(t, 'ollama-hangar-home-');
  const port = await freePort();
  const remoteUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HANGAR_HOME: home,
    MODEL_MANAGEMENT_PORT: String(port),
    HANGAR_HOST: '127.0.0.1',
    HANGAR_DEMO_MODELS: 'false',
    HANGAR_RUNTIME_WARM_SPARES: 'false',
    HF_ENDPOINT: hub.url,
    LOG_LEVEL: 'warn',
  };
  let remote: ChildProcess | null = null;
  const startRemote = async () => {
    remote = spawn(process.execPath, ['bin/hangar.js', 'serve'], { env, stdio: 'ignore' });
    await until('the remote Hangar to answer', async () => (await fetch(`${remoteUrl}/api/version`)).ok);
  };
  t.after(() => remote?.kill('SIGKILL'));
  await startRemote();
  const imported = await fetch(`${remoteUrl}/api/v1/models/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tinyllama:latest', path: fixtures.ggufQ8 }),
  });
  assert.equal(imported.status, 201, await imported.text());

  const hangar = await startTestServer(t, { env: { OLLAMA_BASE_URL: remoteUrl, HANGAR_RUNTIME_RESTART_BACKOFF_MS: '200' } });
  const { request } = hangar;
  const sync = await hangar.ctx.app.ollama.syncNow();
  assert.equal(sync.servers[0]?.ok, true, JSON.stringify(sync));
  assert.ok(sync.servers[0]?.models.includes('tinyllama'), JSON.stringify(sync));

  const load = await request<Status>('POST', '/api/v1/models/load', { model_name: 'tinyllama:latest' });
  assert.equal(load.status, 200, load.text);
  assert.equal(load.body.backend, 'ollama');
  const ps = (await (await fetch(`${remoteUrl}/api/ps`)).json()) as { models: Array<{ name: string; size: number }> };
  assert.ok(
    ps.models.some((m) => m.name === 'tinyllama:latest'),
    'the remote holds it',
  );
  const status = await until('memory from the remote /api/ps', async () => {
    const s = await request<Status>('GET', '/api/v1/models/tinyllama:latest/status');
    return s.body.memory_usage_mb > 0 ? s.body : null;
  });
  assert.equal(status.status, 'loaded');

  const response = await fetch(`${hangar.url}/api/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tinyllama', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, stream: true }),
  });
  const events = await readSse(response);
  const done = events.find((e) => e.event === 'done')?.data as { usage: { completion_tokens: number } } | undefined;
  assert.ok(done, JSON.stringify(events.at(-1)));
  assert.ok(done.usage.completion_tokens > 0);
  assert.ok(
    events.some((e) => e.event === 'token'),
    'tokens were streamed',
  );

  // It dies in the middle of a stream: the stream ends with a clear error naming it.
  const long = await fetch(`${hangar.url}/api/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tinyllama', prompt: 'Tell a long story', max_tokens: 4000, temperature: 1, seed: 3, stream: true }),
  });
  const cut = await readSse(long, (event) => {
    if (event.event === 'token') remote?.kill('SIGKILL');
  });
  const streamError = cut.find((e) => e.event === 'error')?.data.error as { code: string; message: string } | undefined;
  assert.equal(streamError?.code, 'ollama_unreachable', JSON.stringify(cut.at(-1)));
  assert.ok(streamError.message.includes(remoteUrl), streamError.message);
  const failed = await until('status failed', async () => {
    const s = await request<Status>('GET', '/api/v1/models/tinyllama/status');
    return s.body.status === 'failed' ? s.body : null;
  });
  assert.ok(failed.reason?.includes(remoteUrl), `${failed.reason}`);
  const refused = await request('POST', '/api/v1/generate', { model: 'tinyllama', prompt: 'x', max_tokens: 2 });
  assert.ok([502, 503].includes(refused.status), refused.text);
  assert.ok(refused.text.includes(remoteUrl), refused.text);

  await startRemote();
  await until(
    'the model to be loaded again',
    async () => (await request<Status>('GET', '/api/v1/models/tinyllama/status')).body.status === 'loaded',
  );
  const again = await request<{ usage: { completion_tokens: number } }>('POST', '/api/v1/generate', {
    model: 'tinyllama',
    prompt: 'again',
    max_tokens: 2,
  });
  assert.equal(again.status, 200, again.text);

  // A pull through the remote (its own hub download behind its /api/pull) is a job here, with live progress.
  const messages: JobMessage[] = [];
  hangar.ctx.jobs.on('message', (message) => messages.push(message));
  const accepted = await request<{ job_id: string }>('POST', '/api/v1/models/download', {
    repo_id: 'hf.co/hangar-test/tiny:Q8_0',
    source: 'ollama',
  });
  assert.equal(accepted.status, 202, accepted.text);
  const job = await until('the pull through the remote', async () => {
    const j = await request<{ status: string; result: { model: string } | null; progress: { bytes_done: number; bytes_total: number } }>(
      'GET',
      `/api/v1/jobs/${accepted.body.job_id}`,
    );
    return j.body.status === 'completed' || j.body.status === 'failed' ? j.body : null;
  });
  assert.equal(job.status, 'completed', JSON.stringify(job));
  assert.equal(job.result?.model, 'hf.co/hangar-test/tiny');
  const progress = messages.filter((m) => m.job_id === accepted.body.job_id && m.type === 'download_progress');
  assert.ok(
    progress.some((m) => m.job.progress.bytes_done > 0 && m.job.progress.bytes_done < m.job.progress.bytes_total),
    `progress was live: ${JSON.stringify(progress.map((m) => m.job.progress.bytes_done))}`,
  );
  const pulled = await request<Status>('GET', '/api/v1/models/hf.co/hangar-test/tiny:Q8_0/status');
  assert.equal(pulled.body.backend, 'ollama', pulled.text);

  const unload = await request<Status>('DELETE', '/api/v1/models/tinyllama:latest/unload');
  assert.equal(unload.body.status, 'not_loaded');
  const after = (await (await fetch(`${remoteUrl}/api/ps`)).json()) as { models: Array<{ name: string }> };
  assert.equal(after.models.length, 0, 'unloaded on the remote (keep_alive 0)');
});
